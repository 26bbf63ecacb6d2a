// `npm run bench:projection-check` (docs/performance.md, "Tenth round: decisions checked against the signed
// root"): what checking the entries a decision reads costs, now that each is bound to the signed root by a
// multi-leaf inclusion check (src/ledger/leaf-check.ts) instead of compared with its stored level-0 hash.
// For k random entries of one log (k = 1, 10, 100, 1000), each round:
//   before — the statements and hashing of the old check: the entries and their level-0 hashes, one read each,
//            and each entry's leaf hash compared with both (what src/services/records/projection-check.ts did);
//   cold   — a new ProjectionCheck (a process that has checked nothing): head, entries and the stored hashes
//            beside them, folded up to the signed root;
//   warm   — one ProjectionCheck kept across rounds with its verified entries dropped, so it keeps the
//            subtree hashes earlier rounds bound (a server that has been answering for a while).
//
//   node dist/bench/projection-check.js [--entries 100000] [--rounds 30] [--ks 1,10,100,1000]
//   node dist/bench/projection-check.js --data-dir DIR            (a kept SQLite data directory, e.g. bench:scale --keep)
//   node dist/bench/projection-check.js --database-url URL --schema NAME   (a kept PostgreSQL schema)
//
// Without a kept database it fills a fresh SQLite log with --entries entries through the LogService. The org
// checked is the one with the longest log. Prints p50/p99 ms per k and the ratio cold ÷ before, then BENCH_JSON.
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { LogService } from '../src/services/index.js';
import { ProjectionCheck } from '../src/services/records/projection-check.js';
import { bytesEqual } from '../src/core/index.js';
import { generateSignerKey, leafHash, parseSignerKey, storedHashIndex } from '../src/ledger/index.js';
import { openStore, type OrgRecord, type SqlStore } from '../src/store/index.js';
import { benchArgs } from './bench-args.js';
import { openSqlite } from './engines.js';
import { percentile, round, table } from './stats.js';

const { values } = benchArgs(import.meta.url, {
  options: {
    entries: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '30' },
    ks: { type: 'string', default: '1,10,100,1000' },
    'data-dir': { type: 'string' },
    'database-url': { type: 'string' },
    schema: { type: 'string' },
  },
});
const ROUNDS = Number(values.rounds);
const KS = values.ks.split(',').map(Number);
const encoder = new TextEncoder();

/** A deterministic PRNG (mulberry32): the same entries for every variant and every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function fill(store: SqlStore, entries: number): Promise<void> {
  const log = new LogService(store, parseSignerKey(generateSignerKey('bench.evident/log').signerKey));
  const org = await store.orgs.create('bench', new Date().toISOString());
  for (let done = 0; done < entries;) {
    const batch = Math.min(2000, entries - done);
    await Promise.all(Array.from({ length: batch }, (_, i) => log.append(org, 'bench.entry', { n: done + i, text: 'x'.repeat(200) })));
    done += batch;
  }
  await log.settled();
}

/** The old check: entries and level-0 hashes read, each leaf hash compared with both. */
async function before(store: SqlStore, org: OrgRecord, indexes: number[]): Promise<void> {
  const [rows, hashes] = await Promise.all([store.log.entriesAt(org.id, indexes), store.log.readHashes(org.id, indexes.map((i) => storedHashIndex(0, i)))]);
  for (const row of rows) {
    const leaf = leafHash(encoder.encode(row.entry));
    if (!bytesEqual(leaf, row.leafHash) || !bytesEqual(leaf, hashes.get(storedHashIndex(0, row.index))!)) throw new Error(`entry ${row.index} does not hash to its leaf`);
    JSON.parse(row.entry);
  }
}

async function main(): Promise<void> {
  let store: SqlStore;
  let cleanup = async () => undefined as unknown;
  if (values['data-dir']) store = await openStore({ dataDir: values['data-dir'] });
  else if (values['database-url']) store = await openStore({ databaseUrl: values['database-url'], schema: values.schema });
  else {
    const opened = await openSqlite();
    store = opened.store;
    cleanup = opened.cleanup;
    const t = performance.now();
    await fill(store, Number(values.entries));
    console.log(`filled ${values.entries} entries in ${round((performance.now() - t) / 1000)} s`);
  }
  let org: OrgRecord | undefined;
  let size = 0;
  for (const o of await store.orgs.list()) {
    const head = await store.log.head(o.id);
    if (head.size > size) [org, size] = [o, head.size];
  }
  if (!org) throw new Error('no org with entries');
  console.log(`${store.engine}, org ${org.name}: ${size.toLocaleString('en')} entries; ${ROUNDS} rounds per k; load ${os.loadavg()[0]!.toFixed(1)}`);
  const warm = new ProjectionCheck(store);
  const rows: string[][] = [];
  const json: Record<string, unknown> = {};
  for (const k of KS) {
    const next = random(k);
    const times = { before: [] as number[], cold: [] as number[], warm: [] as number[] };
    let read = { cold: 0, warm: 0 };
    for (let r = 0; r < ROUNDS; r++) {
      const indexes = [...new Set(Array.from({ length: k }, () => Math.floor(next() * size)))];
      // The order rotates so that none of the three always reads what another just brought into the page cache.
      const variants: [keyof typeof times, () => Promise<unknown>][] = [
        ['before', () => before(store, org!, indexes)],
        ['cold', async () => {
          const check = new ProjectionCheck(store);
          await check.entries(org!, indexes);
          read.cold += check.stats.hashesRead;
        }],
        ['warm', async () => {
          const from = warm.stats.hashesRead;
          warm.clear();
          await warm.entries(org!, indexes);
          read.warm += warm.stats.hashesRead - from;
        }],
      ];
      for (let v = 0; v < variants.length; v++) {
        const [name, run] = variants[(v + r) % variants.length]!;
        const t = performance.now();
        await run();
        times[name].push(performance.now() - t);
      }
    }
    const p = (s: number[], q: number) => round(percentile(s, q), 2);
    const perEntry = (n: number) => round(n / (ROUNDS * k), 1);
    rows.push([String(k), `${p(times.before, 50)} / ${p(times.before, 99)}`, `${p(times.cold, 50)} / ${p(times.cold, 99)}`, `${p(times.warm, 50)} / ${p(times.warm, 99)}`,
      `${round(percentile(times.cold, 50) / percentile(times.before, 50), 2)}×`, String(perEntry(read.cold)), String(perEntry(read.warm))]);
    json[k] = { before: p(times.before, 50), cold: p(times.cold, 50), warm: p(times.warm, 50), hashesPerEntryCold: perEntry(read.cold), hashesPerEntryWarm: perEntry(read.warm) };
    read = { cold: 0, warm: 0 };
  }
  console.log(table(['k entries', 'before p50/p99 ms', 'cold p50/p99 ms', 'warm p50/p99 ms', 'cold ÷ before', 'hashes/entry cold', 'hashes/entry warm'], rows));
  console.log(`load ${os.loadavg()[0]!.toFixed(1)}`);
  console.log(`BENCH_JSON ${JSON.stringify({ engine: store.engine, size, results: json })}`);
  await store.close();
  await cleanup();
}

await main();
