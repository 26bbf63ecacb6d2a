// `npm run bench:snapshot`: environment reports and snapshot diffs through the HTTP API (Fastify inject:
// routing, schema validation, JSON and the store, without sockets), for environments of 100, 1,000 and
// 10,000 running artifacts where consecutive reports change 1 % of them (issue #4 item 8).
//
//   node dist/bench/snapshot.js [--sizes 100,1000,10000] [--reports R] [--engines sqlite,postgres]
//
// Targets: a 10,000-artifact report accepted in under 10x the time of a 1,000-artifact one (linear), and
// a diff of two 10,000-artifact snapshots under 200 ms. Prints one `BENCH_JSON {...}` line last.
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/server/index.js';
import { createServices } from '../src/services/index.js';
import { generateSignerKey, parseSignerKey } from '../src/ledger/index.js';
import type { Engine } from '../src/store/index.js';
import { openPostgres, openSqlite, postgresReachable, postgresUrl, type BenchStore } from './engines.js';
import { mean, percentile, round, table } from './stats.js';
import { benchArgs } from './bench-args.js';

const { values } = benchArgs(import.meta.url, {
  options: {
    sizes: { type: 'string', default: '100,1000,10000' },
    reports: { type: 'string', default: '20' },
    diffs: { type: 'string', default: '10' },
    engines: { type: 'string', default: 'sqlite,postgres' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const reports = Number(values.reports);
const diffs = Number(values.diffs);

const fp = (seed: string) => createHash('sha256').update(seed).digest('hex');

/**
 * The running set after `generation` reports: report g replaces the artifacts of slot (g-1) mod slots
 * (1 % of them) with a new version, so consecutive reports differ in exactly 1 %.
 */
function state(size: number, generation: number) {
  const perSlot = Math.max(1, Math.round(size / 100));
  const slots = Math.ceil(size / perSlot);
  return Array.from({ length: size }, (_, i) => {
    const slot = Math.floor(i / perSlot);
    const version = generation - 1 >= slot ? Math.floor((generation - 1 - slot) / slots) + 1 : 0;
    return { name: `service-${i}`, fingerprint: fp(`${i}:${version}`), instances: 1 + (i % 3) };
  });
}

async function app(bench: BenchStore): Promise<{ app: FastifyInstance; token: string }> {
  const services = createServices(bench.store, parseSignerKey(generateSignerKey('bench.evident/log').signerKey));
  const { org } = await services.auth.ensureOrg('bench');
  const { secret } = await services.auth.issue(org, { name: 'bench', role: 'admin' });
  return { app: await buildApp({ services, defaultOrg: 'bench', bodyLimit: 64 * 1024 * 1024 }), token: secret };
}

async function call(a: FastifyInstance, token: string, method: 'GET' | 'PUT' | 'POST', url: string, body?: unknown) {
  const res = await a.inject({ method, url, headers: { authorization: `Bearer ${token}` }, payload: body as object });
  if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body.slice(0, 300)}`);
  return res;
}

/**
 * Wall times, and this process's CPU time for the diff: on a shared machine the CPU time is what the
 * work costs when it has a core to itself (with SQLite the database work runs in this process too; with
 * PostgreSQL the server's share is not counted).
 */
interface Row { engine: Engine; size: number; reportMs: number; reportP90Ms: number; perArtifactUs: number; reportsPerSec: number; diffMs: number; diffP90Ms: number; diffCpuMs: number; fullDiffMs: number; fullDiffCpuMs: number }

async function measure(bench: BenchStore, size: number): Promise<Row> {
  const { app: a, token } = await app(bench);
  const env = `env-${size}`;
  await call(a, token, 'POST', '/api/v1/orgs/bench/environments', { name: env, type: 'k8s' });
  await call(a, token, 'PUT', `/api/v1/orgs/bench/environments/${env}/snapshot`, { artifacts: state(size, 0) });
  const times: number[] = [];
  for (let g = 1; g <= reports; g++) {
    const body = { artifacts: state(size, g) };
    const t0 = performance.now();
    const res = await call(a, token, 'PUT', `/api/v1/orgs/bench/environments/${env}/snapshot`, body);
    times.push(performance.now() - t0);
    if (!JSON.parse(res.body).created) throw new Error('a changed report made no snapshot');
  }
  // `evident diff snapshots A B` as users run it, then with --show-unchanged (every artifact listed).
  const timeDiffs = async (showUnchanged: boolean) => {
    const times: number[] = [];
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < diffs; i++) {
      const t0 = performance.now();
      const res = await call(a, token, 'GET', `/api/v1/orgs/bench/diff/snapshots?a=${encodeURIComponent(`${env}#1`)}&b=${env}${showUnchanged ? '&show_unchanged=true' : ''}`);
      times.push(performance.now() - t0);
      if (i === 0) {
        const d = JSON.parse(res.body);
        const listed = d.snappish1.artifacts.length + d.changed.artifacts.length + d['not-changed'].artifacts.length;
        if (showUnchanged ? listed !== size : d['not-changed'].artifacts.length !== 0) throw new Error('diff lost artifacts');
      }
    }
    const cpu = process.cpuUsage(cpu0);
    return { times, cpuMs: (cpu.user + cpu.system) / 1000 / diffs };
  };
  const brief = await timeDiffs(false);
  const full = await timeDiffs(true);
  await a.close();
  const reportMs = mean(times);
  return {
    engine: bench.engine, size, reportMs, reportP90Ms: percentile(times, 90), perArtifactUs: (reportMs * 1000) / size,
    reportsPerSec: 1000 / reportMs, diffMs: mean(brief.times), diffP90Ms: percentile(brief.times, 90), diffCpuMs: brief.cpuMs,
    fullDiffMs: mean(full.times), fullDiffCpuMs: full.cpuMs,
  };
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  for (const engine of values.engines.split(',') as Engine[]) {
    if (engine === 'postgres') {
      const why = await postgresReachable(postgresUrl());
      if (why) {
        console.log(`NOTICE: skipping PostgreSQL: ${why}`);
        continue;
      }
    }
    for (const size of sizes) {
      const bench = engine === 'postgres' ? await openPostgres(postgresUrl()) : await openSqlite();
      try {
        rows.push(await measure(bench, size));
      } finally {
        await bench.cleanup();
      }
    }
  }
  console.log(`Snapshot reports (${reports} per size, each changing 1 % of the artifacts) and diffs (#1 vs latest, ${diffs} each; -u = --show-unchanged):\n`);
  console.log(table(
    ['engine', 'artifacts', 'report ms', 'p90 ms', 'µs/artifact', 'reports/s', 'diff ms', 'diff p90', 'diff CPU', 'diff -u ms', 'diff -u CPU'],
    rows.map((r) => [r.engine, String(r.size), String(round(r.reportMs)), String(round(r.reportP90Ms)), String(round(r.perArtifactUs, 2)), String(round(r.reportsPerSec, 2)), String(round(r.diffMs)), String(round(r.diffP90Ms)), String(round(r.diffCpuMs)), String(round(r.fullDiffMs)), String(round(r.fullDiffCpuMs))]),
  ));
  for (const engine of new Set(rows.map((r) => r.engine))) {
    const at = (n: number) => rows.find((r) => r.engine === engine && r.size === n);
    const k1 = at(1000);
    const k10 = at(10000);
    if (k1 && k10) {
      const ratio = k10.reportMs / k1.reportMs;
      const verdict = (wall: number, cpu: number) => (wall < 200 ? 'met' : cpu < 200 ? 'met in CPU time only: the machine is shared' : 'MISSED');
      console.log(`\n${engine}: 10,000-artifact report = ${round(ratio, 2)}x the 1,000-artifact one (target < 10x: ${ratio < 10 ? 'met' : 'MISSED'})`);
      console.log(`${engine}: diff of two 10,000-artifact snapshots ${round(k10.diffMs)} ms wall, ${round(k10.diffCpuMs)} ms CPU (target < 200 ms: ${verdict(k10.diffMs, k10.diffCpuMs)}); with --show-unchanged ${round(k10.fullDiffMs)} ms wall, ${round(k10.fullDiffCpuMs)} ms CPU (${verdict(k10.fullDiffMs, k10.fullDiffCpuMs)})`);
    }
  }
  console.log(`BENCH_JSON ${JSON.stringify({ bench: 'snapshot', reports, rows: rows.map((r) => ({ ...r, reportMs: round(r.reportMs, 2), diffMs: round(r.diffMs, 2) })) })}`);
}

await main();
