import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { replayableArgs } from '../../src/cli/run-replay.js';
import { evident } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';

// `evident run` replaying an unchanged run (src/cli/run-replay.ts): the same output as the full run, and
// only for the plain command lines.

const home = tempDir('evident-replay-home-');
const env = { HOME: home };

const PIPELINE = `version: "0.1"
name: replayed
steps:
  build: { run: "mkdir -p dist && cat src/main.js > dist/app.js && echo built", inputs: [src/], outputs: [dist/] }
  test: { run: "cat dist/app.js > report.txt", inputs: [dist/app.js], outputs: [report.txt], needs: [build] }
`;

function age(dir: string): void {
  const when = (Date.now() - 3_600_000) / 1000;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) fs.utimesSync(path.join(e.parentPath, e.name), when, when);
}

/** A workspace built once, aged, and run again: its last run is recorded for replay. */
async function replayable(): Promise<{ dir: string; file: string; replayFile: string }> {
  const dir = tempDir('evident-replay-cli-');
  fs.mkdirSync(path.join(dir, 'src'));
  fs.writeFileSync(path.join(dir, 'src/main.js'), 'console.log(1)\n');
  const file = path.join(dir, 'attest.yaml');
  fs.writeFileSync(file, PIPELINE);
  expect((await evident(['run', '-f', file], env)).code).toBe(0);
  age(dir);
  expect((await evident(['run', '-f', file], env)).code).toBe(0);
  const replayFile = path.join(dir, '.evident/cache/metadata/replay.json');
  expect(fs.existsSync(replayFile)).toBe(true);
  return { dir, file, replayFile };
}

/** A full run writes the replay file anew (new times; the inode may be reused); a replay leaves it alone. */
const inode = (file: string) => {
  const st = fs.statSync(file);
  return `${st.ino}:${st.mtimeMs}:${st.ctimeMs}`;
};
const receipts = (dir: string) => fs.readdirSync(path.join(dir, '.evident/cache/receipts')).length;
const withoutTimes = (text: string) => text.replace(/\(\d+\.\ds\)/g, '(T)').replace(/in \d+\.\ds/g, 'in T').replace(/receipt_[\d_]+\.yaml/g, 'receipt.yaml');

describe('evident run, replayed', () => {
  it('prints what the full run prints, writes a receipt, and leaves the replay file as it was', async () => {
    const { dir, file, replayFile } = await replayable();
    const full = await evident(['run', '-f', file], { ...env, EVIDENT_NO_REPLAY: '1' });
    const recorded = inode(replayFile);
    const before = receipts(dir);
    const replayed = await evident(['run', '-f', file, '-j', '2', '--keep-going'], env);
    expect(replayed.code).toBe(0);
    expect(inode(replayFile)).toBe(recorded);
    expect(receipts(dir)).toBe(before + 1);
    expect(withoutTimes(replayed.stdout)).toBe(withoutTimes(full.stdout));
    expect(withoutTimes(replayed.stderr)).toBe(withoutTimes(full.stderr));
    expect(replayed.stdout).toBe('[OK] build (0.0s) - cache hit\n[OK] test (0.0s) - cache hit\n');
    expect(replayed.stderr).toMatch(/^receipt: .+ \(unsigned\)\n2 ok \(2 from cache\), 0 failed, 0 skipped in \d+\.\ds\n$/);
    const verified = await evident(['verify', 'receipt', path.join(dir, '.evident/cache/receipts', fs.readdirSync(path.join(dir, '.evident/cache/receipts')).sort().at(-1)!), '--no-signatures', '--workspace', dir], env);
    expect(verified.stdout + verified.stderr).toContain('[OK] All file hashes verified');
  });

  it('runs in full when the command line or environment asks for anything else', async () => {
    const { file, replayFile } = await replayable();
    for (const [args, extra] of [
      [['run', '-f', file, '--output', 'json'], {}],
      [['--org', 'x', 'run', '-f', file], {}],
      [['run', '-f', file, '--show-logs'], {}],
      [['run', '-f', file], { EVIDENT_OUTPUT: 'json' }],
      [['run', '-f', file], { EVIDENT_NO_REPLAY: '1' }],
    ] as const) {
      const before = inode(replayFile);
      const r = await evident([...args], { ...env, ...extra });
      expect(r.code, r.stderr).toBe(0);
      expect(inode(replayFile), args.join(' ')).not.toBe(before);
    }
    const json = await evident(['run', '-f', file, '--output', 'json'], env);
    expect(JSON.parse(json.stdout).steps.map((s: { cache: string }) => s.cache)).toEqual(['hit', 'hit']);
  });

  it('runs in full when an input changed, and replays again once that run is recorded', async () => {
    const { dir, file, replayFile } = await replayable();
    fs.appendFileSync(path.join(dir, 'src/main.js'), 'console.log(2)\n');
    const changed = await evident(['run', '-f', file], env);
    expect(withoutTimes(changed.stdout)).toBe('[OK] build (T) - cache miss (inputs changed)\n[OK] test (T) - cache miss (inputs and upstream build changed)\n');
    expect(fs.readFileSync(path.join(dir, 'report.txt'), 'utf8')).toBe('console.log(1)\nconsole.log(2)\n');
    // Just written: not trusted yet (racy-git rule), so no replay file until the files are old enough.
    expect(fs.existsSync(replayFile)).toBe(false);
    age(dir);
    expect((await evident(['run', '-f', file], env)).code).toBe(0);
    const recorded = inode(replayFile);
    const again = await evident(['run', '-f', file], env);
    expect(again.stdout).toBe('[OK] build (0.0s) - cache hit\n[OK] test (0.0s) - cache hit\n');
    expect(inode(replayFile)).toBe(recorded);
  });
});

describe('replayableArgs', () => {
  it('accepts only the plain forms of `run`', () => {
    expect(replayableArgs(['run'])).toEqual({ file: 'attest.yaml' });
    expect(replayableArgs(['run', '-f', 'ci/a.yaml', '-j', '4', '-k'])).toEqual({ file: 'ci/a.yaml' });
    expect(replayableArgs(['run', '--file=x.yaml', '--jobs=2', '--keep-going'])).toEqual({ file: 'x.yaml' });
    for (const args of [
      ['pipeline'], ['--org', 'o', 'run'], ['run', '--no-cache'], ['run', '--only', 'a'], ['run', '-f'], ['run', '-f', '--jobs'],
      ['run', '-j', '0'], ['run', '-j', 'x'], ['run', '--keep-going=yes'], ['run', '-kj', '2'], ['run', 'extra'], ['run', '--output', 'json'], ['run', '--help'],
    ]) expect(replayableArgs(args), args.join(' ')).toBeUndefined();
  });
});
