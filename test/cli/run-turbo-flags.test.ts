import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { evident } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';

// turbo's run flags on `evident run` through the built CLI (issue #19 item 3): --filter, --affected,
// --dry[=json], --summarize, --output-logs.

const YAML = `version: "0.1"
name: flags
steps:
  lint: { run: "echo linting", inputs: [src/a.c] }
  build: { run: "mkdir -p out && cat src/a.c src/b.c > out/app && echo building", needs: [lint], inputs: ["src/"], outputs: [out/app] }
  test-unit: { run: "cat out/app", needs: [build], inputs: [out/app] }
  test-e2e: { run: "echo e2e; test -z \\"$FAIL_E2E\\"", needs: [build] }
  docs: { run: "echo docs", inputs: ["docs/"] }
`;

function repo(): string {
  const dir = tempDir('evident-turbo-flags-');
  const files: Record<string, string> = { 'attest.yaml': YAML, 'src/a.c': 'a\n', 'src/b.c': 'b\n', 'docs/x.md': 'x\n', '.gitignore': '.evident/\nout/\n' };
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'pipe' });
  git('init', '-q', '-b', 'main', '.');
  git('add', '-A');
  git('-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'init');
  git('checkout', '-q', '-b', 'feature');
  return dir;
}

const lines = (out: string) => out.split('\n').filter((l) => l.startsWith('['));

describe('evident run with turbo flags', () => {
  let dir: string;
  let home: string;
  const run = (args: string[], env: Record<string, string> = {}) => evident(['run', '-f', path.join(dir, 'attest.yaml'), ...args], { HOME: home, ...env });
  beforeAll(() => {
    dir = repo();
    home = tempDir('evident-home-');
  });

  it('--filter: globs, dependents and exclusions; needed steps always run', async () => {
    const r = await run(['--filter', 'test-*', '--filter', '!test-e2e']);
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout)).toEqual([expect.stringMatching(/^\[OK\] lint /), expect.stringMatching(/^\[OK\] build /), expect.stringMatching(/^\[OK\] test-unit /)]);
    // A filtered run is never replayed as the whole pipeline by the next plain run.
    const plain = await run([]);
    expect(lines(plain.stdout).map((l) => l.split(' ')[1]).sort()).toEqual(['build', 'docs', 'lint', 'test-e2e', 'test-unit']);
    const deps = await run(['--filter', 'build^...']);
    expect(lines(deps.stdout).map((l) => l.split(' ')[1]).sort()).toEqual(['build', 'lint', 'test-e2e', 'test-unit']);
    const bad = await run(['--filter', 'tset']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--filter tset: no step is named "tset" (steps: lint, build, test-unit, test-e2e, docs)');
    const both = await run(['--only', 'build', '--filter', 'build']);
    expect(both.code).toBe(2);
  });

  it('--dry=json: the plan with keys and cache status, nothing run; --dry as text', async () => {
    fs.appendFileSync(path.join(dir, 'src/b.c'), 'more\n');
    const before = fs.readdirSync(path.join(dir, '.evident/cache/receipts')).length;
    const r = await run(['--dry=json', '--filter', '...test-unit']);
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as { dry_run: boolean; targets: string[]; steps: { name: string; cache: string; key: string; group: number; provisional?: boolean; dependents: string[] }[] };
    expect(plan.dry_run).toBe(true);
    expect(plan.targets).toEqual(['lint', 'build', 'test-unit']);
    expect(plan.steps.map((s) => [s.name, s.cache, s.group])).toEqual([['lint', 'hit', 1], ['build', 'miss', 2], ['test-unit', 'miss', 3]]);
    expect(plan.steps[2]!.provisional).toBe(true);
    expect(plan.steps[1]!.dependents).toEqual(['test-unit']);
    expect(plan.steps[0]!.key).toMatch(/^[0-9a-f]{64}$/);
    expect(fs.readdirSync(path.join(dir, '.evident/cache/receipts')).length).toBe(before);
    expect(fs.readFileSync(path.join(dir, 'out/app'), 'utf8')).toBe('a\nb\n');
    const text = await run(['--dry']);
    expect(text.stdout).toMatch(/^Pipeline flags: 5 steps would run \(dry run: nothing ran\)/);
    expect(text.stdout).toMatch(/^build\s+2\s+miss\s+[0-9a-f]{12}\s+lint$/m);
    expect((await run(['--dry=yaml'])).code).toBe(2);
  });

  it('--affected: the steps whose inputs changed since main (working tree and untracked too) and what needs them', async () => {
    // src/b.c is changed in the working tree (previous test); nothing committed yet.
    const dry = await run(['--affected', '--dry=json']);
    expect(dry.code, dry.stderr).toBe(0);
    const plan = JSON.parse(dry.stdout) as { targets: string[]; steps: { name: string }[]; changed_since: Record<string, string[]> };
    expect(plan.changed_since).toEqual({ main: ['build'] });
    expect(plan.targets).toEqual(['build', 'test-unit', 'test-e2e']);
    expect(plan.steps.map((s) => s.name)).toEqual(['lint', 'build', 'test-unit', 'test-e2e']);
    fs.writeFileSync(path.join(dir, 'docs/new.md'), 'new\n');
    const withDocs = JSON.parse((await run(['--affected', 'main', '--dry=json'])).stdout) as typeof plan;
    expect(withDocs.changed_since.main).toEqual(['build', 'docs']);
    // Committed on the branch: still affected against main's merge base.
    execFileSync('git', ['add', '-A'], { cwd: dir });
    execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'change'], { cwd: dir });
    const r = await run(['--affected', '--summarize', '--output-logs', 'new-only']);
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout).map((l) => l.split(' ')[1]).sort()).toEqual(['build', 'docs', 'lint', 'test-e2e', 'test-unit']);
    // new-only: the logs of steps that ran, not of the hit.
    expect(r.stderr).toContain('build | building');
    expect(r.stderr).not.toContain('lint | linting');
    const summaryFile = /summary: (\S+)/.exec(r.stderr)![1]!;
    const summary = JSON.parse(fs.readFileSync(path.resolve(summaryFile), 'utf8')) as { ok: boolean; steps: { name: string; cache: string }[]; selection: { affected: string; targets: string[]; changed_since: Record<string, string[]> } };
    expect(summary.ok).toBe(true);
    expect(summary.selection).toMatchObject({ affected: 'main', targets: ['build', 'test-unit', 'test-e2e', 'docs'], changed_since: { main: ['build', 'docs'] } });
    expect(Object.fromEntries(summary.steps.map((s) => [s.name, s.cache]))).toEqual({ lint: 'hit', build: 'miss', 'test-unit': 'miss', 'test-e2e': 'miss', docs: 'miss' });
    const none = await run(['--affected', 'HEAD']);
    expect(none.code).toBe(0);
    expect(none.stderr).toContain("nothing to run: no step's inputs changed since HEAD");
    const badRef = await run(['--affected', 'no-such-ref']);
    expect(badRef.code).toBe(2);
    expect(badRef.stderr).toContain('cannot compare with "no-such-ref"');
  });

  it('--output-logs: full, errors-only, hash-only, none', async () => {
    const full = await run(['--output-logs', 'full', '--filter', 'lint']);
    expect(full.stderr).toContain('lint | linting');
    const hash = await run(['--output-logs', 'hash-only', '--filter', 'lint']);
    expect(hash.stderr).toMatch(/lint \| key [0-9a-f]{64}/);
    expect(hash.stderr).not.toContain('linting');
    const failing = { FAIL_E2E: '1', EVIDENT_NO_REPLAY: '1' };
    // test-e2e's env is not in its key: --no-cache makes it run and fail.
    const errors = await run(['--output-logs', 'errors-only', '--filter', 'test-e2e', '--no-cache'], failing);
    expect(errors.code).toBe(1);
    expect(errors.stderr).toContain('test-e2e | e2e');
    expect(errors.stderr).not.toContain('last lines of');
    expect(errors.stderr).not.toContain('build | building');
    const quiet = await run(['--output-logs', 'none', '--filter', 'test-e2e', '--no-cache'], failing);
    expect(quiet.code).toBe(1);
    expect(quiet.stderr).not.toContain('test-e2e | e2e');
    expect((await run(['--output-logs', 'some'])).code).not.toBe(0);
  });
});
