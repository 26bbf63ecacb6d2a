import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { evident } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';

// `evident run`, `evident pipeline …` and `evident cache …` as users run them: the built binary (npm run
// build first), in a temporary workspace given with -f.

const home = tempDir('evident-run-home-');
const env = { HOME: home };
const LINE = /^\[(OK|FAIL)\] ([\w.-]+) \((\d+\.\ds|\d+s|\d+m \d+s)\) - (.+)$/;

const PIPELINE = `version: "0.1"
name: my-project
env: { BUILD_ENV: production }
steps:
  lint: { run: "echo linting", inputs: [src/] }
  test: { run: "echo testing", inputs: [test/] }
  build:
    run: "mkdir -p dist && cat src/main.js > dist/app.js && echo built for $BUILD_ENV"
    needs: [lint, test]
    inputs: [src/]
    outputs: [dist/]
  deploy: { run: "echo deploying", needs: [build], cache: false }
`;

function setup(yaml = PIPELINE): { dir: string; file: string } {
  const dir = tempDir('evident-run-cli-');
  fs.mkdirSync(path.join(dir, 'src'));
  fs.mkdirSync(path.join(dir, 'test'));
  fs.writeFileSync(path.join(dir, 'src/main.js'), 'console.log(1)\n');
  fs.writeFileSync(path.join(dir, 'test/main.test.js'), 'ok\n');
  fs.writeFileSync(path.join(dir, 'attest.yaml'), yaml);
  return { dir, file: path.join(dir, 'attest.yaml') };
}

/** step → what follows " - " on its result line; every line must have seed 003's form. */
function results(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.trim().split('\n')) {
    const m = LINE.exec(line);
    expect(m, line).not.toBeNull();
    out[m![2]!] = `${m![1]} ${m![4]}`;
  }
  return out;
}

describe('evident run', () => {
  it('prints seed 003 lines: misses, then hits, then what changed; logs kept and replayed', async () => {
    const { dir, file } = setup();
    const first = await evident(['run', '-f', file], env);
    expect(first.code).toBe(0);
    expect(results(first.stdout)).toEqual({ lint: 'OK cache miss', test: 'OK cache miss', build: 'OK cache miss', deploy: 'OK cache disabled (cache: false)' });
    expect(first.stderr).toMatch(/4 ok \(0 from cache\), 0 failed, 0 skipped in \d+\.\ds/);
    expect(fs.readFileSync(path.join(dir, '.evident/logs/build.log'), 'utf8')).toBe('built for production\n');

    fs.rmSync(path.join(dir, '.evident/logs'), { recursive: true });
    fs.rmSync(path.join(dir, 'dist'), { recursive: true });
    const second = await evident(['run', '-f', file, '--show-logs'], env);
    expect(second.code).toBe(0);
    expect(results(second.stdout)).toEqual({ lint: 'OK cache hit', test: 'OK cache hit', build: 'OK cache hit', deploy: 'OK cache disabled (cache: false)' });
    expect(second.stderr).toContain('build | built for production');
    expect(fs.readFileSync(path.join(dir, '.evident/logs/build.log'), 'utf8')).toBe('built for production\n');
    expect(fs.readFileSync(path.join(dir, 'dist/app.js'), 'utf8')).toBe('console.log(1)\n');

    fs.appendFileSync(path.join(dir, 'src/main.js'), 'console.log(2)\n');
    const third = await evident(['run', '-f', file, '--jobs', '1'], env);
    expect(results(third.stdout)).toEqual({
      lint: 'OK cache miss (inputs changed)',
      test: 'OK cache hit (test inputs unchanged)',
      build: 'OK cache miss (inputs and upstream lint changed)',
      deploy: 'OK cache disabled (cache: false)',
    });

    const explain = await evident(['cache', 'explain', 'build', '-f', file], env);
    expect(explain.code).toBe(0);
    expect(explain.stdout).toMatch(/^build: key unchanged since the last run \(.+\): [0-9a-f]{12}: a cache hit\n$/);
    fs.appendFileSync(path.join(dir, 'src/main.js'), 'console.log(3)\n');
    const changed = await evident(['cache', 'explain', 'build', '-f', file], env);
    expect(changed.stdout.split('\n')).toEqual([
      expect.stringMatching(/^build: key changed since the last run \(.+\): [0-9a-f]{12} -> [0-9a-f]{12}: a cache miss$/),
      expect.stringMatching(/^ {2}input src\/main\.js: content changed \(sha256 [0-9a-f]{12} -> [0-9a-f]{12}\)$/),
      expect.stringMatching(/^ {2}upstream lint: its key changed \([0-9a-f]{12} -> [0-9a-f]{12}\); see `evident cache explain lint`$/),
      '',
    ]);
  });

  it('exits 1 on a failed step, with the FAIL line, the end of its log, and the skipped steps', async () => {
    const { file } = setup(PIPELINE.replace('echo linting', 'echo lint found 3 problems >&2; exit 1'));
    const r = await evident(['run', '-f', file, '--jobs', '2'], env);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toContain('[SKIP] build - needs lint, which failed');
    expect(lines).toContain('[SKIP] deploy - needs lint, which failed');
    expect(results(lines.filter((l) => !l.startsWith('[SKIP]')).join('\n'))).toEqual({ lint: 'FAIL exit code 1', test: 'OK cache miss' });
    expect(r.stderr).toContain('lint | lint found 3 problems');
    expect(r.stderr).toMatch(/Error: run of my-project failed: 1 step failed/);
  });

  it('exits 2 on an invalid attest.yaml, naming every problem with its line', async () => {
    const { file } = setup('version: "0.1"\nname: x\nsteps:\n  build: { run: b, needs: [tset] }\n  test: { run: t, outputs: ["../out"] }\n');
    const r = await evident(['run', '-f', file], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:4:28: steps.build.needs[0]: unknown step "tset" (did you mean "test"?)`);
    expect(r.stderr).toContain(`${file}:5:29: steps.test.outputs[0]: "../out" leaves the workspace ("..")`);
    expect(r.stdout).toBe('');
  });

  it('--output json prints the run as JSON on stdout and the lines on stderr; --only runs a step and its needs', async () => {
    const { file } = setup();
    const r = await evident(['--output', 'json', 'run', '-f', file, '--only', 'build'], env);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json).toMatchObject({ pipeline: 'my-project', ok: true, skipped: [] });
    expect(json.pipeline_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(json.steps.map((s: { name: string }) => s.name).sort()).toEqual(['build', 'lint', 'test']);
    expect(json.steps.find((s: { name: string }) => s.name === 'build')).toMatchObject({
      status: 'ok', cache: 'miss', exit_code: 0, outputs: [{ path: 'dist/app.js', executable: false }],
    });
    expect(r.stderr).toMatch(/^\[OK\] build \(\d+\.\ds\) - cache miss$/m);
    const unknown = await evident(['run', '-f', file, '--only', 'nope'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--only nope: no such step');
  });

  it('has a --help with examples, and checks --jobs', async () => {
    const help = await evident(['run', '--help'], env);
    expect(help.stdout).toContain('Examples:');
    expect(help.stdout).toContain('--keep-going');
    const bad = await evident(['run', '--jobs', '0', '-f', 'x.yaml'], env);
    expect(bad.code).toBe(2);
  });
});

describe('evident pipeline and evident cache', () => {
  it('validate: prints every problem and exits 2, or says the file is valid', async () => {
    const { file } = setup('version: 0.1\nname: x\nsteps:\n  a: { run: a, needs: [a], colour: red }\n');
    const bad = await evident(['pipeline', 'validate', '-f', file], env);
    expect(bad.code).toBe(2);
    expect(bad.stdout.trim().split('\n')).toEqual([
      `${file}:1:1: version: must be the string "0.1": quote it (version: "0.1")`,
      `${file}:4:24: steps.a.needs[0]: cycle: a -> a`,
      `${file}:4:28: steps.a.colour: unknown key; known keys: run, inputs, outputs, needs, env, pass_env, allow_outside_symlinks, cache, attestation, isolation, working_dir, timeout_secs, image, capsule, vm_image`,
    ]);
    const good = setup();
    const ok = await evident(['pipeline', 'validate', '-f', good.file], env);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(`${good.file}: valid (4 steps)\n`);
  });

  it('graph: groups, depth, critical path and bottlenecks, as a table and as JSON', async () => {
    const { file } = setup();
    const text = await evident(['pipeline', 'graph', '-f', file], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('Pipeline my-project: 4 steps, depth 3');
    expect(text.stdout).toMatch(/^1 +lint, test$/m);
    expect(text.stdout).toContain('Critical path (by step count, 3 steps; run once for durations): lint -> build -> deploy');
    const json = JSON.parse((await evident(['--output', 'json', 'pipeline', 'graph', '-f', file], env)).stdout);
    expect(json).toMatchObject({ depth: 3, groups: [['lint', 'test'], ['build'], ['deploy']], critical_path: { basis: 'steps' }, bottlenecks: [{ step: 'lint', needed_by: 2 }, { step: 'test', needed_by: 2 }] });
    await evident(['run', '-f', file], env);
    const timed = JSON.parse((await evident(['--output', 'json', 'pipeline', 'graph', '-f', file], env)).stdout);
    expect(timed.critical_path.basis).toBe('durations');
  });

  it('schema prints the committed JSON Schema', async () => {
    const r = await evident(['pipeline', 'schema'], env);
    expect(r.stdout).toBe(fs.readFileSync(path.resolve('schemas/attest.schema.json'), 'utf8'));
  });

  it('cache stats and clean', async () => {
    const { dir, file } = setup();
    await evident(['run', '-f', file], env);
    const stats = JSON.parse((await evident(['--output', 'json', 'cache', 'stats', '-f', file], env)).stdout);
    expect(stats).toMatchObject({ entries: 3, max_bytes: 10e9 });
    expect(stats.bytes).toBeGreaterThan(0);
    const clean = await evident(['cache', 'clean', '-f', file], env);
    expect(clean.stdout).toMatch(/^removed 3 entries \(\d+ bytes\)/);
    const after = JSON.parse((await evident(['--output', 'json', 'cache', 'stats', '-f', file], env)).stdout);
    expect(after).toMatchObject({ entries: 0, objects: 0, bytes: 0 });
    expect(results((await evident(['run', '-f', file], env)).stdout).build).toBe('OK cache miss');
    expect(fs.existsSync(path.join(dir, '.evident/cache/metadata'))).toBe(true);
  });
});
