import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { explainStep, loadSpec } from '../../src/pipeline/index.js';
import { run, workspace, write } from './runner-helpers.js';

// `evident cache explain STEP`: what changed in a step's key since the last run, component by component.

const pipeline = (command = 'cat src/* > out.txt', env = 'production') => `version: "0.1"
name: p
env: { BUILD_ENV: ${env} }
steps:
  gen: { run: "cat gen.cfg > gen.txt", inputs: [gen.cfg], outputs: [gen.txt] }
  build: { run: "${command}", needs: [gen], inputs: [src/, tool.sh], outputs: [out.txt] }
`;
const files = { 'gen.cfg': 'v1', 'src/a.c': 'a', 'src/b.c': 'b', 'tool.sh': 'echo' };
const explain = (dir: string, step: string) => explainStep(loadSpec(path.join(dir, 'attest.yaml')), step);

describe('explainStep', () => {
  it('says there is no earlier run, then that nothing changed', async () => {
    const dir = workspace(pipeline(), files);
    const before = await explain(dir, 'build');
    expect(before.previous).toBeUndefined();
    expect(before).toMatchObject({ changes: [], cached: false });
    await run(dir);
    const after = await explain(dir, 'build');
    expect(after.previous!.key).toBe(after.key);
    expect(after).toMatchObject({ changes: [], cached: true, lines: [] });
  });

  it('names each changed, added and removed input, the executable bit, env vars, the command and upstream keys', async () => {
    const dir = workspace(pipeline(), files);
    await run(dir);
    write(dir, 'src/a.c', 'A');
    write(dir, 'src/c.c', 'c');
    fs.rmSync(path.join(dir, 'src/b.c'));
    fs.chmodSync(path.join(dir, 'tool.sh'), 0o755);
    write(dir, 'gen.cfg', 'v2');
    fs.writeFileSync(path.join(dir, 'attest.yaml'), pipeline('cat src/* > out.txt; true', 'staging'));
    const e = await explain(dir, 'build');
    expect(e.previous!.key).not.toBe(e.key);
    expect(e.cached).toBe(false);
    expect(e.lines).toEqual([
      'command: changed from "cat src/* > out.txt" to "cat src/* > out.txt; true"',
      'env BUILD_ENV: changed from "production" to "staging"',
      expect.stringMatching(/^input src\/a\.c: content changed \(sha256 [0-9a-f]{12} -> [0-9a-f]{12}\)$/),
      'input src/b.c: removed',
      'input src/c.c: added',
      'input tool.sh: executable bit set',
      // attest.yaml is a default global input of every step (docs/cache.md "The key").
      expect.stringMatching(/^global input attest\.yaml: content changed \(sha256 [0-9a-f]{12} -> [0-9a-f]{12}\)$/),
      expect.stringMatching(/^upstream gen: its key changed \([0-9a-f]{12} -> [0-9a-f]{12}\); see `evident cache explain gen`$/),
    ]);
    expect((await explain(dir, 'gen')).lines).toEqual([
      'env BUILD_ENV: changed from "production" to "staging"',
      expect.stringMatching(/^input gen\.cfg: content changed/),
      expect.stringMatching(/^global input attest\.yaml: content changed/),
    ]);
  });

  it('says when the key is unchanged but the entry is gone, and refuses an unknown step', async () => {
    const dir = workspace(pipeline(), files);
    await run(dir);
    fs.rmSync(path.join(dir, '.evident/cache/metadata/entries'), { recursive: true });
    const e = await explain(dir, 'build');
    expect(e).toMatchObject({ changes: [], cached: false });
    expect(e.previous!.key).toBe(e.key);
    await expect(explain(dir, 'nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
