import fs from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadAttestSchema, loadSpec, parseSize, parseSpec, validateSpec } from '../../src/pipeline/index.js';
import { workspace } from './runner-helpers.js';

// attest.yaml (seed 003 §2.1, §3.4, §6.2, §10.2): validated once, every problem with its path and line.

const problems = (text: string) => parseSpec(text).problems.map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`);
const paths = (text: string) => parseSpec(text).problems.map((p) => p.path);

const SEED = `version: "0.1" # Schema version
name: "my-project"
env:
  BUILD_ENV: production
  CACHE_ENABLED: "true"
attestation:
  sign_all_steps: true
  verify_dependencies: true
  require_reproducible: false
cache:
  enabled: true
  max_size: "10GB"
  compression: true
  retention_days: 30
  remote: "https://evident.example.com"
events:
  handlers:
    - type: webhook
      url: "https://api.example.com/attest-events"
      events: ["step.failed", "pipeline.completed"]
    - type: file
      path: "attest-events.log"
      events: ["*"]
steps:
  lint:
    run: "npm run lint"
  test:
    run: "npm test"
  build:
    run: "npm run build"
    needs: ["lint", "test"]
    inputs:
      - "src/"
      - "package.json"
      - "webpack.config.js"
    outputs:
      - "dist/"
    attestation:
      reproducible: true
  deploy:
    run: "npm run deploy"
    needs: ["build"]
    cache: false
`;

describe('attest.yaml as seed 003 writes it', () => {
  it('is accepted, with its values and the defaults', () => {
    const { spec, problems } = parseSpec(SEED);
    expect(problems).toEqual([]);
    expect(spec!.name).toBe('my-project');
    expect(spec!.env).toEqual({ BUILD_ENV: 'production', CACHE_ENABLED: 'true' });
    expect(spec!.attestation).toEqual({ signAllSteps: true, verifyDependencies: true, requireReproducible: false });
    expect(spec!.cache).toEqual({ enabled: true, maxSize: '10GB', maxSizeBytes: 10e9, compression: 'gzip', retentionDays: 30, remote: 'https://evident.example.com' });
    expect(spec!.events).toEqual([
      { type: 'webhook', url: 'https://api.example.com/attest-events', events: ['step.failed', 'pipeline.completed'] },
      { type: 'file', path: 'attest-events.log', events: ['*'] },
    ]);
    expect([...spec!.steps.keys()]).toEqual(['lint', 'test', 'build', 'deploy']);
    expect(spec!.steps.get('lint')).toEqual({ name: 'lint', run: 'npm run lint', inputs: [], outputs: [], needs: [], env: {}, passEnv: [], cache: true, reproducible: false, allowOutsideSymlinks: false });
    expect(spec!.steps.get('build')).toMatchObject({ needs: ['lint', 'test'], inputs: ['src/', 'package.json', 'webpack.config.js'], outputs: ['dist/'], reproducible: true });
    expect(spec!.steps.get('deploy')!.cache).toBe(false);
  });

  it('applies the defaults of an empty configuration', () => {
    const { spec } = parseSpec('version: "0.1"\nname: x\nsteps:\n  a: { run: "true" }\n');
    expect(spec!.cache).toEqual({ enabled: true, maxSize: '10GB', maxSizeBytes: 10e9, compression: 'none', retentionDays: 30 });
    expect(spec!.attestation).toEqual({ signAllSteps: false, verifyDependencies: false, requireReproducible: false });
    expect(spec!.events).toEqual([]);
  });

  it('require_reproducible makes every step reproducible unless the step says otherwise', () => {
    const { spec } = parseSpec('version: "0.1"\nname: x\nattestation: { require_reproducible: true }\nsteps:\n  a: { run: a }\n  b: { run: b, attestation: { reproducible: false } }\n');
    expect(spec!.steps.get('a')!.reproducible).toBe(true);
    expect(spec!.steps.get('b')!.reproducible).toBe(false);
  });

  it('reads sizes in decimal and binary units', () => {
    expect(parseSize('10GB')).toBe(10e9);
    expect(parseSize('500MB')).toBe(500e6);
    expect(parseSize('2GiB')).toBe(2 * 2 ** 30);
    expect(parseSize('1.5KB')).toBe(1500);
    expect(parseSize('123')).toBe(123);
    expect(parseSize('10XB')).toBeUndefined();
    expect(parseSize('GB')).toBeUndefined();
  });
});

describe('every problem, with its path and line', () => {
  it('reports all problems of a bad file in one pass, top to bottom', () => {
    const text = `version: 0.1
name: demo
env: { GOOD: x, 1BAD: y }
cache: { max_size: 10XB, compression: zstd, retention_days: 0, remote: ftp://x }
steps:
  lint: { run: npm run lint, colour: red }
  build:
    run: npm run build
    needs: [lint, tset]
    inputs: [src/, "../x", "/etc/passwd", "src/[a-"]
    outputs: [dist/]
  docs: { run: x, outputs: [dist/docs/] }
  empty: {}
`;
    expect(problems(text)).toEqual([
      '1:1 version: must be the string "0.1": quote it (version: "0.1")',
      '3:17 env.1BAD: is not a valid environment variable name (letters, digits and _, not starting with a digit)',
      '4:10 cache.max_size: must be a size such as "10GB", "500MB", "2GiB" or a number of bytes, not the string "10XB"',
      '4:26 cache.compression: must be true, false, "gzip", "brotli" or "none", not the string "zstd"',
      '4:45 cache.retention_days: must be a whole number of days >= 1, not the number 0',
      '4:64 cache.remote: "ftp://x" is not an http:// or https:// URL',
      '6:30 steps.lint.colour: unknown key; known keys: run, inputs, outputs, needs, env, pass_env, allow_outside_symlinks, cache, attestation, isolation, working_dir, timeout_secs, image, capsule, vm_image',
      '9:19 steps.build.needs[1]: unknown step "tset"',
      '10:20 steps.build.inputs[1]: "../x" leaves the workspace ("..")',
      '10:28 steps.build.inputs[2]: "/etc/passwd" is an absolute path: paths are relative to the workspace (the directory of attest.yaml)',
      '10:43 steps.build.inputs[3]: "src/[a-" is not a valid glob ("[a-": Go filepath.Match syntax)',
      '12:29 steps.docs.outputs[0]: "dist/docs/" overlaps "dist/", an output of step "build" (steps.build.outputs[0]): each output belongs to one step',
      '13:3 steps.empty.run: is required: the command to run',
    ]);
  });

  it('suggests the step meant by a misspelt need', () => {
    expect(problems('version: "0.1"\nname: x\nsteps:\n  test: { run: t }\n  build: { run: b, needs: [lint, tset] }\n')).toEqual([
      '5:28 steps.build.needs[0]: unknown step "lint"',
      '5:34 steps.build.needs[1]: unknown step "tset" (did you mean "test"?)',
    ]);
  });

  it('treats unknown keys as errors at every level, with a suggestion', () => {
    const text = 'version: "0.1"\nname: x\nstep: {}\nattestation: { sign_all: true }\ncache: { enable: true }\nsteps:\n  a: { run: a, attestation: { reproducable: true } }\n';
    expect(paths(text)).toEqual(['step', 'attestation.sign_all', 'cache.enable', 'steps.a.attestation.reproducable']);
    expect(problems(text)[0]).toContain('unknown key (did you mean "steps"?)');
  });

  it('reports a cycle as its path, once per cycle, and a self-need', () => {
    const text = 'version: "0.1"\nname: x\nsteps:\n  a: { run: a, needs: [b] }\n  b: { run: b, needs: [c] }\n  c: { run: c, needs: [a] }\n  d: { run: d, needs: [d] }\n  e: { run: e, needs: [a] }\n';
    expect(parseSpec(text).problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'steps.a.needs[0]: cycle: a -> b -> c -> a',
      'steps.d.needs[0]: cycle: d -> d',
    ]);
  });

  it('rejects outputs that leave the workspace or land in .evident/, and outputs claimed twice', () => {
    const text = `version: "0.1"
name: x
steps:
  a: { run: a, outputs: ["../x", "/tmp/y", "out/../../z", ".evident/cache/x", ".", "out/app", "out/app"] }
  b: { run: b, outputs: ["out/app"] }
  c: { run: c, outputs: ["out/*.js", "lib/"] }
  d: { run: d, outputs: ["out/*.css", "maps/**/*.map"] }
  e: { run: e, outputs: ["out/*", "lib/x/y.txt"] }
`;
    expect(parseSpec(text).problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'steps.a.outputs[0]: "../x" leaves the workspace ("..")',
      'steps.a.outputs[1]: "/tmp/y" is an absolute path: paths are relative to the workspace (the directory of attest.yaml)',
      'steps.a.outputs[2]: "out/../../z" leaves the workspace ("..")',
      'steps.a.outputs[3]: ".evident/cache/x" is inside .evident/, where Evident keeps its own state',
      'steps.a.outputs[4]: "." names the whole workspace: name the files or directories instead',
      'steps.a.outputs[6]: "out/app" is listed twice',
      'steps.b.outputs[0]: "out/app" is also an output of step "a" (steps.a.outputs[5]): each output belongs to one step',
      // out/*.js and out/*.css never meet, nor do they meet out/app or maps/**/*.map: no problem for c and d.
      'steps.e.outputs[0]: "out/*" overlaps "out/app", an output of step "a" (steps.a.outputs[5]): each output belongs to one step',
      'steps.e.outputs[0]: "out/*" overlaps "out/app", an output of step "b" (steps.b.outputs[0]): each output belongs to one step',
      'steps.e.outputs[0]: "out/*" overlaps "out/*.js", an output of step "c" (steps.c.outputs[0]): each output belongs to one step',
      'steps.e.outputs[0]: "out/*" overlaps "out/*.css", an output of step "d" (steps.d.outputs[0]): each output belongs to one step',
      'steps.e.outputs[1]: "lib/x/y.txt" overlaps "lib/", an output of step "c" (steps.c.outputs[1]): each output belongs to one step',
    ]);
  });

  it('checks the event handlers of seed 003 §10.2', () => {
    const text = `version: "0.1"
name: x
events:
  handlers:
    - type: webhook
      url: "ftp://x"
      events: ["step.failed", "nope"]
    - type: file
      url: "https://x"
    - type: email
steps:
  a: { run: a }
`;
    expect(parseSpec(text).problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'events.handlers[0].url: "ftp://x" is not an http:// or https:// URL',
      expect.stringMatching(/^events\.handlers\[0\]\.events\[1\]: unknown event "nope"; known: pipeline\.started, /),
      'events.handlers[1].path: is required for a file handler',
      'events.handlers[1].url: unknown key; known keys: type, path, events',
      'events.handlers[2].type: must be file or webhook, not the string "email"',
    ]);
  });

  it('reports YAML syntax errors with their line, and type errors', () => {
    expect(problems('version: "0.1"\nname: [x\n')[0]).toMatch(/^\d+:\d+ \(yaml\): /);
    expect(problems('version: "0.1"\nname: x\nname: y\nsteps: { a: { run: a } }\n')).toEqual([expect.stringMatching(/^3:1 \(yaml\): Map keys must be unique/)]);
    expect(paths('version: "0.1"\nname: x\nsteps:\n  a: { run: [x], needs: b, inputs: [1], cache: "no", env: { A: [1] } }\n')).toEqual([
      'steps.a.run', 'steps.a.needs', 'steps.a.inputs[0]', 'steps.a.cache', 'steps.a.env.A',
    ]);
    expect(paths('- a\n- b\n')).toEqual(['(document)']);
    expect(paths('version: "0.1"\nname: x\nsteps: {}\n')).toEqual(['steps']);
  });

  it('loadSpec hashes the bytes and raises INVALID_ARGUMENT listing every problem', () => {
    const dir = workspace(SEED);
    const loaded = loadSpec(path.join(dir, 'attest.yaml'));
    expect(loaded.workspace).toBe(dir);
    expect(loaded.hash).toMatch(/^[0-9a-f]{64}$/);
    fs.writeFileSync(path.join(dir, 'bad.yaml'), 'version: "0.2"\nname: ""\nsteps: {}\n');
    expect(() => loadSpec(path.join(dir, 'bad.yaml'))).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', details: [expect.objectContaining({ path: 'version' }), expect.objectContaining({ path: 'name' }), expect.objectContaining({ path: 'steps' })] }));
    expect(() => loadSpec(path.join(dir, 'missing.yaml'))).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });
});

describe('the JSON Schema', () => {
  it('is committed as schemas/attest.schema.json exactly as the code generates it', async () => {
    expect(fs.readFileSync(path.resolve('schemas/attest.schema.json'), 'utf8')).toBe((await loadAttestSchema()).attestJsonSchemaText());
  });

  it('agrees with the validator on good and bad documents', async () => {
    const validate = new Ajv({ allErrors: true, strict: false }).compile((await loadAttestSchema()).attestJsonSchema());
    const corpus = [
      SEED,
      'version: "0.1"\nname: x\nsteps:\n  a: { run: a }\n',
      'version: 0.1\nname: x\nsteps:\n  a: { run: a }\n',
      'version: "0.1"\nname: x\nsteps:\n  a: { run: a, colour: red }\n',
      'version: "0.1"\nname: x\nsteps: {}\n',
      'version: "0.1"\nname: x\ncache: { max_size: 10XB }\nsteps:\n  a: { run: a }\n',
      'version: "0.1"\nname: x\ncache: { max_size: 500MB, compression: brotli }\nsteps:\n  a: { run: a }\n',
      'version: "0.1"\nname: x\nenv: { 1A: x }\nsteps:\n  a: { run: a }\n',
      'version: "0.1"\nname: x\nsteps:\n  a: { run: a, needs: b }\n',
      'version: "0.1"\nname: x\nsteps:\n  "a/b": { run: a }\n',
      'version: "0.1"\nname: x\nevents: { handlers: [{ type: file, url: "https://x" }] }\nsteps:\n  a: { run: a }\n',
      'version: "0.1"\nname: x\nevents: { handlers: [{ type: webhook, url: "https://x", events: ["*"] }] }\nsteps:\n  a: { run: a }\n',
      'version: "0.1"\nsteps:\n  a: { run: a }\n',
    ];
    for (const text of corpus) {
      const value: unknown = parse(text);
      expect({ text, schema: validate(value) }).toEqual({ text, schema: validateSpec(value).problems.length === 0 });
    }
  });
});
