import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { explainStep, loadSpec } from '../../src/pipeline/index.js';
import { read, run, workspace, write } from './runner-helpers.js';

// Issue 14 finding 4: what a step depends on beyond its declared inputs is in its key — `${VAR}` in env,
// pass_env variables, global inputs (lockfiles and attest.yaml by default) — and env_mode: strict hides
// undeclared variables.

const saved = { ...process.env };
afterEach(() => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
});

const hello = (env: string) => `version: "0.1"
name: env
${env}
steps:
  greet: { run: 'echo "hello $GREETING" > out.txt', outputs: [out.txt] }
  other: { run: 'echo other > other.txt', outputs: [other.txt] }
`;

describe('environment in the cache key', () => {
  it('${VAR} in env is expanded from the process environment, and keyed', async () => {
    const dir = workspace(hello('env:\n  GREETING: "${GREETING}"'));
    process.env.GREETING = 'alice';
    await run(dir);
    expect(read(dir, 'out.txt')).toBe('hello alice\n');
    process.env.GREETING = 'bob';
    const r = await run(dir);
    expect(r.detail.greet).toBe('cache miss (env changed)');
    expect(read(dir, 'out.txt')).toBe('hello bob\n');
    expect(r.record.steps.find((s) => s.name === 'greet')!.env).toEqual({ GREETING: 'bob' });
    // ${VAR:-default} and $$
    const d2 = workspace(hello('env:\n  GREETING: "${NOPE_UNSET:-carol} $$HOME"'));
    await run(d2);
    expect(read(d2, 'out.txt')).toBe('hello carol $HOME\n');
  });

  it('pass_env: the value reaches the step and is keyed by digest, never written', async () => {
    const dir = workspace(hello('pass_env: [GREETING]'));
    process.env.GREETING = 'alice';
    await run(dir);
    process.env.GREETING = 'bob';
    const r = await run(dir);
    expect(r.detail.greet).toBe('cache miss (env changed)');
    expect(read(dir, 'out.txt')).toBe('hello bob\n');
    const env = r.record.steps.find((s) => s.name === 'greet')!.env;
    expect(env.GREETING).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(JSON.stringify(r.record)).not.toContain('bob');
    process.env.GREETING = 'alice';
    expect((await run(dir)).detail.greet).toBe('cache hit');
    expect(read(dir, 'out.txt')).toBe('hello alice\n');
    const e = await explainStep(loadSpec(path.join(dir, 'attest.yaml')), 'greet');
    expect(e.lines).toEqual([]);
    process.env.GREETING = 'dave';
    expect((await explainStep(loadSpec(path.join(dir, 'attest.yaml')), 'greet')).lines).toEqual([expect.stringMatching(/^env GREETING: changed from "sha256:[0-9a-f]{64}" to "sha256:[0-9a-f]{64}"$/)]);
  });

  it('without a declaration the variable is not keyed in loose mode, and hidden in env_mode: strict', async () => {
    process.env.GREETING = 'alice';
    const strict = workspace(hello('env_mode: strict'));
    await run(strict);
    expect(read(strict, 'out.txt')).toBe('hello \n');
    const declared = workspace(hello('env_mode: strict\npass_env: [GREETING]'));
    await run(declared);
    expect(read(declared, 'out.txt')).toBe('hello alice\n');
  });

  it('a lockfile (default global input) edit misses every step, and cache explain names it', async () => {
    const dir = workspace(hello(''), { 'package-lock.json': '{"lockfileVersion":3}\n' });
    await run(dir);
    expect((await run(dir)).detail).toEqual({ greet: 'cache hit', other: 'cache hit' });
    write(dir, 'package-lock.json', '{"lockfileVersion":3,"x":1}\n');
    const r = await run(dir);
    expect(r.detail).toEqual({ greet: 'cache miss (global input package-lock.json changed)', other: 'cache miss (global input package-lock.json changed)' });
    write(dir, 'package-lock.json', '{"lockfileVersion":3,"x":2}\n');
    const e = await explainStep(loadSpec(path.join(dir, 'attest.yaml')), 'other');
    expect(e.lines).toEqual([expect.stringMatching(/^global input package-lock\.json: content changed \(sha256 [0-9a-f]{12} -> [0-9a-f]{12}\)$/)]);
    // A lockfile that appears is a change too.
    fs.writeFileSync(path.join(dir, 'yarn.lock'), '# yarn\n');
    expect((await run(dir)).detail.other).toMatch(/^cache miss \(global input .*yarn\.lock changed\)$/);
  });

  it('global_inputs as written replaces the default set: a new tool config misses the steps; a missing one fails them', async () => {
    const dir = workspace(hello('global_inputs: [vitest.config.ts]'), { 'vitest.config.ts': 'export default {}\n', 'package-lock.json': '{}' });
    await run(dir);
    write(dir, 'package-lock.json', '{"changed":true}');
    expect((await run(dir)).detail.greet).toBe('cache hit');
    write(dir, 'vitest.config.ts', 'throw new Error("setup broken")\n');
    expect((await run(dir)).detail.greet).toBe('cache miss (global input vitest.config.ts changed)');
    fs.rmSync(path.join(dir, 'vitest.config.ts'));
    expect((await run(dir)).detail.greet).toBe('global input "vitest.config.ts" not found');
  });

  it('rejects malformed declarations with their paths', () => {
    const dir = workspace(hello('env:\n  A: "${1BAD}"\n  B: x\npass_env: [B, "no-dash", C, C]\nenv_mode: sometimes'));
    expect(() => loadSpec(path.join(dir, 'attest.yaml'))).toThrow(/problems/);
    try {
      loadSpec(path.join(dir, 'attest.yaml'));
    } catch (err) {
      const messages = ((err as { details: { path: string; message: string }[] }).details).map((d) => `${d.path}: ${d.message}`);
      expect(messages).toEqual([
        expect.stringMatching(/^env\.A: .*must be \$\{NAME\}/),
        expect.stringMatching(/^pass_env\[0\]: "B" is also set in env/),
        expect.stringMatching(/^pass_env\[1\]: "no-dash" is not a valid environment variable name/),
        expect.stringMatching(/^pass_env\[3\]: "C" is listed twice/),
        expect.stringMatching(/^env_mode: must be loose or strict/),
      ]);
    }
  });
});
