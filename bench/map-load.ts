// Where a fresh process's load of a large log's subject map goes (issue #21, docs/performance.md "Tenth round"):
// on a database kept by `bench/scale.ts --keep`, each part of LogMaps.at timed apart — the leaves' SQL read, the
// entries past the table, the map keys (SHA-256 of each subject text), the tree built from them — and then the
// whole load as a server's first append or its preload makes it (the map thread, the root check), `--runs` times.
//
//   node dist/bench/map-load.js --dir DIR [--org scale] [--runs 3] [--parts]
import { performance } from 'node:perf_hooks';
import { MapForest, mapKey } from '../src/ledger/index.js';
import { LogMaps } from '../src/services/log-map.js';
import { openStore } from '../src/store/index.js';
import { round } from './stats.js';
import { benchArgs } from './bench-args.js';

const { values } = benchArgs(import.meta.url, {
  options: {
    dir: { type: 'string' },
    org: { type: 'string', default: 'scale' },
    runs: { type: 'string', default: '3' },
    parts: { type: 'boolean', default: false },
  },
});
if (!values.dir) throw new Error('--dir DIR: a data directory kept by bench/scale.ts --keep');

const store = await openStore({ dataDir: values.dir });
try {
  const org = (await store.orgs.list()).find((o) => o.name === values.org);
  if (!org) throw new Error(`no organisation ${values.org} in ${values.dir}`);
  const head = await store.log.head(org.id);
  console.log(`${values.dir}: ${head.size.toLocaleString()} entries`);
  const timed = async <T>(label: string, fn: () => Promise<T> | T): Promise<T> => {
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    const out = await fn();
    const d = process.cpuUsage(cpu);
    console.log(`  ${label.padEnd(44)} ${round(performance.now() - t0, 0).toString().padStart(6)} ms wall  ${round((d.user + d.system) / 1000, 0).toString().padStart(6)} ms CPU (process)`);
    return out;
  };
  if (values.parts) {
    const leaves = await timed('leaves: SQL read of log_map_moves', () => store.log.mapLeaves(org.id, 0));
    console.log(`    ${leaves.length.toLocaleString()} rows, ${new Set(leaves.map((l) => l.subject)).size.toLocaleString()} subjects`);
    const last = await timed('last leaf index', () => store.log.lastMapLeafIndex(org.id));
    const later = await timed('entries past the table', () => store.log.entries(org.id, (last ?? -1) + 1, head.size));
    console.log(`    ${later.length.toLocaleString()} entries`);
    const keys = new Uint8Array(32 * leaves.length);
    await timed('map keys (SHA-256 of each subject text)', () => leaves.forEach((l, i) => keys.set(mapKey(l.subject), 32 * i)));
    await timed('tree (MapForest.apply, this thread)', () => new MapForest().apply(0, head.size, keys, leaves.map((l) => l.index)));
    await timed('join subjects (to the thread)', () => leaves.map((l) => l.subject).join('\n').length);
  }
  for (let r = 0; r < Number(values.runs); r++) {
    // The longest the event loop went without a turn during the load: what a request arriving then waits.
    let last = performance.now();
    let blocked = 0;
    const tick = setInterval(() => {
      const now = performance.now();
      blocked = Math.max(blocked, now - last);
      last = now;
    }, 1);
    const maps = new LogMaps(store);
    const state = await timed(`whole load (LogMaps.at, map thread) run ${r + 1}`, () => maps.at(org.id, head, {
      leaves: (from) => store.log.mapLeaves(org.id, from), last: () => store.log.lastMapLeafIndex(org.id), entriesAt: (ix) => store.log.entriesAt(org.id, ix),
    }));
    clearInterval(tick);
    blocked = Math.max(blocked, performance.now() - last);
    console.log(`    ${state.latest.size.toLocaleString()} subjects, ${state.unwritten.size.toLocaleString()} unwritten; event loop blocked at most ${round(blocked, 0)} ms`);
    maps.forget(org.id);
  }
} finally {
  await store.close();
}
