import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { mapEngine } from '../../src/services/map-thread.js';

// The built worker (npm run build): vitest runs TypeScript, which a worker thread cannot load.
const script = pathToFileURL(path.resolve('dist/src/services/map-worker.js'));
const updates = { subjects: ['trail:acme/a', 'artifact:acme/' + 'ab'.repeat(32), 'flow:acme/b'], indexes: [3, 7, 9] };

/** Blocks this thread (its event loop included) for `ms`. */
function block(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

describe('the subject map thread', () => {
  it('answers as the trees in this thread do', async () => {
    const threaded = mapEngine(true, script);
    const local = mapEngine(false);
    expect(await threaded.apply(1, 0, 10, updates)).toEqual(await local.apply(1, 0, 10, updates));
    await expect(threaded.apply(1, 4, 12, updates)).rejects.toMatchObject({ code: 'CONFLICT' });
    threaded.drop(1);
  });

  // Issue #21, fourteenth round: a batch's root waited a turn of a busy event loop after the thread had sent it.
  it('poll takes an answer already sent without a turn of the event loop', async () => {
    const engine = mapEngine(true, script);
    await engine.apply(2, 0, 1, { subjects: ['trail:acme/warm'], indexes: [0] }); // the thread is started
    let root: Uint8Array | undefined;
    void engine.apply(2, 1, 10, updates).then((r) => (root = r.root));
    block(100); // the thread answers meanwhile; this thread's event loop cannot take the message
    for (let i = 0; i < 5; i++) await null; // microtasks only
    expect(root).toBeUndefined();
    // Never a turn of the event loop from here on: only poll can deliver the answer (on a loaded machine the
    // thread may need longer than the first block).
    for (let waited = 0; root === undefined && waited < 10_000; waited += 20) {
      engine.poll();
      for (let i = 0; i < 5; i++) await null;
      if (root === undefined) block(20);
    }
    const local = mapEngine(false);
    await local.apply(2, 0, 1, { subjects: ['trail:acme/warm'], indexes: [0] });
    expect(root).toEqual((await local.apply(2, 1, 10, updates)).root);
    engine.poll(); // nothing left: a no-op
  });

  it('does not keep a finished process alive, and keeps it alive while a call waits', () => {
    const url = pathToFileURL(path.resolve('dist/src/services/map-thread.js')).href;
    const program = `import { mapEngine } from ${JSON.stringify(url)};
      const engine = mapEngine(true);
      engine.apply(1, 0, 2, { subjects: ['trail:acme/a'], indexes: [1] }).then((r) => console.log(r.root.length));`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', program], { encoding: 'utf8', timeout: 20_000 });
    expect(run.error).toBeUndefined();
    expect(run.stdout.trim()).toBe('32');
    expect(run.status).toBe(0);
  });
});
