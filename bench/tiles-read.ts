// `node dist/bench/tiles-read.js` (issue #21, "Eighth round: tiles and consistency proofs checked before they
// are served" in docs/performance.md): what a client reading a whole log by tiles costs the server, and random
// consistency proofs per second. Fills one org's log with --entries entries through the services (group-
// committed appends), then, in a fresh set of services on the same database (a process that has checked
// nothing yet), reads every hash tile of every level and every entry bundle through inject() (no socket: the
// server's own cost, wall and CPU seconds), twice (cold, then warm), and asks for --proofs random consistency proofs (random
// from ≤ to ≤ the head), cold and warm.
//
//   node dist/bench/tiles-read.js [--engines sqlite] [--entries 100000] [--proofs 2000] [--label before]
//
// It uses only what the server had before tiles were checked (services, buildApp, the tiles and consistency
// URLs), so the same file measures a build from before the change: copy it into that tree, build, run both.
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { buildApp } from '../src/server/index.js';
import { createServices } from '../src/services/index.js';
import { TILE_HEIGHT, TILE_WIDTH, generateSignerKey, parseSignerKey, tilePath, tileWidthAt } from '../src/ledger/index.js';
import { openPostgres, openSqlite, postgresReachable, postgresUrl, type BenchStore } from './engines.js';
import { round, table } from './stats.js';
import { benchArgs } from './bench-args.js';

const { values } = benchArgs(import.meta.url, {
  options: {
    engines: { type: 'string', default: 'sqlite' },
    entries: { type: 'string', default: '100000' },
    proofs: { type: 'string', default: '2000' },
    label: { type: 'string', default: '' },
  },
});
const ENTRIES = Number(values.entries);
const PROOFS = Number(values.proofs);
const signer = parseSignerKey(generateSignerKey('bench.evident/log').signerKey);
const load = () => os.loadavg()[0]!.toFixed(1);
/** CPU seconds (user + system) of this process since `from`: on a loaded machine a steadier figure than wall time (SQLite runs in-process). */
const cpuSeconds = (from: NodeJS.CpuUsage) => {
  const { user, system } = process.cpuUsage(from);
  return round((user + system) / 1e6, 2);
};

/** Every tile path of a tree of `size` leaves: hash tiles of every level, then entry bundles. */
function allTiles(size: number): string[] {
  const out: string[] = [];
  for (let level = 0; 2 ** (TILE_HEIGHT * level) <= size; level++) {
    const nodes = Math.floor(size / 2 ** (TILE_HEIGHT * level));
    for (let index = 0; index * TILE_WIDTH < nodes; index++) {
      out.push(tilePath({ kind: 'hashes', level, index, width: tileWidthAt(size, 'hashes', level, index) }));
    }
  }
  for (let index = 0; index * TILE_WIDTH < size; index++) out.push(tilePath({ kind: 'entries', level: 0, index, width: tileWidthAt(size, 'entries', 0, index) }));
  return out;
}

/** A small deterministic PRNG (mulberry32), so both builds ask for the same proofs. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function run(bench: BenchStore): Promise<Record<string, unknown>[]> {
  const services = createServices(bench.store, signer);
  const { org } = await services.auth.ensureOrg('bench');
  const t0 = performance.now();
  for (let i = 0; i < ENTRIES; i += 1000) {
    await Promise.all(Array.from({ length: Math.min(1000, ENTRIES - i) }, (_, k) => services.log.append(org, 'bench.entry', { i: i + k, note: 'x'.repeat((i + k) % 200) })));
  }
  await services.log.settled();
  console.error(`${bench.engine}: filled ${ENTRIES} entries in ${round((performance.now() - t0) / 1000, 1)} s (load ${load()})`);
  // A fresh process on the filled database.
  const fresh = createServices(bench.store, signer);
  const { secret } = await fresh.auth.issue(org, { name: 'bench', role: 'admin' });
  const app = await buildApp({ services: fresh, defaultOrg: 'bench' });
  const get = async (url: string) => {
    const res = await app.inject({ method: 'GET', url: `/api/v1/orgs/bench/log/${url}`, headers: { authorization: `Bearer ${secret}` } });
    if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body.slice(0, 200)}`);
    return res.rawPayload.length;
  };
  const rows: Record<string, unknown>[] = [];
  try {
    const size = await fresh.log.size(org);
    const tiles = allTiles(size);
    for (const pass of ['cold', 'warm']) {
      const start = performance.now();
      const cpu = process.cpuUsage();
      let bytes = 0;
      for (const t of tiles) bytes += await get(t);
      const s = (performance.now() - start) / 1000;
      rows.push({ engine: bench.engine, what: `whole log by tiles, ${pass}`, count: tiles.length, seconds: round(s, 2), cpu: cpuSeconds(cpu), per_s: round(tiles.length / s, 0), mb: round(bytes / 1e6, 1), load: load() });
    }
    for (const pass of ['cold', 'warm']) {
      const next = random(7);
      const pairs = Array.from({ length: PROOFS }, () => {
        const a = 1 + Math.floor(next() * size);
        const b = next() < 0.5 ? size : 1 + Math.floor(next() * size);
        return a <= b ? [a, b] : [b, a];
      });
      // A fresh process for the cold pass: nothing checked yet (the tiles pass above checked everything).
      const services2 = pass === 'cold' ? createServices(bench.store, signer) : fresh;
      const app2 = pass === 'cold' ? await buildApp({ services: services2, defaultOrg: 'bench' }) : app;
      const start = performance.now();
      const cpu = process.cpuUsage();
      for (const [from, to] of pairs) {
        const res = await app2.inject({ method: 'GET', url: `/api/v1/orgs/bench/log/proof/consistency?from=${from}&to=${to}`, headers: { authorization: `Bearer ${secret}` } });
        if (res.statusCode !== 200) throw new Error(`consistency ${from} ${to}: ${res.statusCode} ${res.body.slice(0, 200)}`);
      }
      const s = (performance.now() - start) / 1000;
      const used = cpuSeconds(cpu);
      if (app2 !== app) await app2.close();
      rows.push({ engine: bench.engine, what: `random consistency proofs, ${pass}`, count: PROOFS, seconds: round(s, 2), cpu: used, per_s: round(PROOFS / s, 0), mb: '', load: load() });
    }
  } finally {
    await app.close();
  }
  return rows;
}

const out: Record<string, unknown>[] = [];
for (const engine of values.engines.split(',')) {
  const unreachable = engine === 'postgres' ? await postgresReachable(postgresUrl()) : undefined;
  if (unreachable) {
    console.error(`postgres: ${unreachable}; skipped`);
    continue;
  }
  const bench = engine === 'postgres' ? await openPostgres(postgresUrl()) : await openSqlite();
  try {
    out.push(...(await run(bench)));
  } finally {
    await bench.cleanup();
  }
}
console.log(`${values.label ? `${values.label}: ` : ''}${ENTRIES} entries, ${os.availableParallelism()} CPUs, node ${process.version}`);
console.log(table(['engine', 'what', 'count', 's', 'CPU s', '/s', 'MB', 'load'], out.map((r) => [String(r.engine), String(r.what), String(r.count), String(r.seconds), String(r.cpu), String(r.per_s), String(r.mb), String(r.load)])));
console.log(`BENCH_JSON ${JSON.stringify({ label: values.label, entries: ENTRIES, proofs: PROOFS, rows: out })}`);
