// `node dist/bench/shown-runs.js` ("Shown runs checked against the log" in docs/performance.md): what checking
// `list flows`' last deployments and `get artifact`'s history against their log entries costs. Fills, on each
// engine, FLOWS flows (a trail each) and two environments; then ROUNDS rounds, each reporting a new artifact
// into every flow and a snapshot of one environment (alternating) running every flow's latest: each flow's
// last deployment moves at every round. Times the routes in-process through inject() (no socket: the
// server's own cost): cold (p50 of --cold requests, each after the process forgot every verified entry and
// bound subtree, as a fresh process) and warm p50/p99, each with the CPU time of the process per request (p50).
//
//   npm run bench:shown-runs -- [options], or node dist/bench/shown-runs.js [--engines sqlite,postgres] [--flows 200] [--rounds 20] [--samples 60] [--cold 15] [--label NAME]
//
// It uses only what the server had before the check (services, buildApp, the routes' URLs, ProjectionCheck's
// clear and forgetTree), so the same file measures a build from before the change: copy it into that tree,
// build, run both one after the other.
import { performance } from 'node:perf_hooks';
import { buildApp } from '../src/server/index.js';
import { createServices, type ServiceBundle } from '../src/services/index.js';
import { projectionCheck } from '../src/services/records/projection-check.js';
import { generateSignerKey, parseSignerKey } from '../src/ledger/index.js';
import type { OrgRecord } from '../src/store/index.js';
import { openPostgres, openSqlite, postgresReachable, postgresUrl, type BenchStore } from './engines.js';
import { percentile, round, table } from './stats.js';
import { benchArgs } from './bench-args.js';

const { values } = benchArgs(import.meta.url, {
  options: {
    engines: { type: 'string', default: 'sqlite,postgres' },
    flows: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '20' },
    samples: { type: 'string', default: '60' },
    cold: { type: 'string', default: '15' },
    label: { type: 'string', default: '' },
  },
});
const FLOWS = Number(values.flows);
const ROUNDS = Number(values.rounds);
const SAMPLES = Number(values.samples);
const WARMUP = 3;
const COLD = Number(values.cold);
const signer = parseSignerKey(generateSignerKey('bench.evident/log').signerKey);
const fp = (flow: number, round: number) => `${flow.toString(16).padStart(8, '0')}${round.toString(16).padStart(56, '0')}`;

async function inBatches(n: number, work: (i: number) => Promise<unknown>, batch = 250): Promise<void> {
  for (let i = 0; i < n; i += batch) await Promise.all(Array.from({ length: Math.min(batch, n - i) }, (_, k) => work(i + k)));
}

async function fill(services: ServiceBundle, org: OrgRecord): Promise<void> {
  await inBatches(FLOWS, (i) => services.flows.create(org, { name: `svc-${i}` }));
  await inBatches(FLOWS, (i) => services.trails.begin(org, { flow: `svc-${i}`, name: 't1' }));
  for (const env of ['prod', 'beta']) await services.environments.create(org, { name: env, type: 'k8s' });
  for (let round = 0; round < ROUNDS; round++) {
    await inBatches(FLOWS, (i) => services.artifacts.report(org, { flow: `svc-${i}`, trail: 't1', name: 'app', fingerprint: fp(i, round), gitCommit: fp(i, round).slice(24) }));
    const running = Array.from({ length: FLOWS }, (_, i) => ({ name: `svc-${i}`, fingerprint: fp(i, round), instances: 1 + (round % 3) }));
    await services.environments.report(org, round % 2 === 0 ? 'prod' : 'beta', running);
  }
}

async function timeRoute(app: Awaited<ReturnType<typeof buildApp>>, token: string, url: string, forget: () => void) {
  const once = async () => {
    const cpu = process.cpuUsage();
    const start = performance.now();
    const res = await app.inject({ method: 'GET', url: `/api/v1/orgs/bench${url}`, headers: { authorization: `Bearer ${token}` } });
    if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body.slice(0, 200)}`);
    const used = process.cpuUsage(cpu);
    return { ms: performance.now() - start, cpu: (used.user + used.system) / 1000 };
  };
  // Cold: each request after the process forgot every verified entry, bound subtree and proved fact.
  const coldMs: number[] = [];
  const coldCpu: number[] = [];
  for (let i = 0; i < COLD; i++) {
    forget();
    const r = await once();
    coldMs.push(r.ms);
    coldCpu.push(r.cpu);
  }
  for (let i = 0; i < WARMUP; i++) await once();
  const ms: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const r = await once();
    ms.push(r.ms);
    cpu.push(r.cpu);
  }
  return { cold: percentile(coldMs, 50), coldCpu: percentile(coldCpu, 50), p50: percentile(ms, 50), p99: percentile(ms, 99), cpu50: percentile(cpu, 50) };
}

async function run(bench: BenchStore): Promise<Record<string, unknown>[]> {
  const services = createServices(bench.store, signer);
  const { org } = await services.auth.ensureOrg('bench');
  const t0 = performance.now();
  await fill(services, org);
  console.error(`${bench.engine}: filled ${await services.log.size(org)} entries in ${round((performance.now() - t0) / 1000, 1)} s`);
  await services.log.settled();
  const fresh = createServices(bench.store, signer);
  const { secret } = await fresh.auth.issue(org, { name: 'bench', role: 'admin' });
  const app = await buildApp({ services: fresh, defaultOrg: 'bench' });
  const check = projectionCheck(bench.store);
  const forget = () => {
    check.clear();
    check.forgetTree();
  };
  try {
    const rows: Record<string, unknown>[] = [];
    // A first request starts what every first request starts (the subject map's load): not timed.
    await app.inject({ method: 'GET', url: '/api/v1/orgs/bench/flows?limit=1', headers: { authorization: `Bearer ${secret}` } });
    for (const [route, url] of [
      ['list flows', '/flows?limit=100'], ['list flows --sort last-deployment', '/flows?limit=100&sort=last-deployment'],
      ['get artifact', `/artifacts/${fp(7, ROUNDS - 2)}`],
      // By FLOW:COMMIT: not kept by the view cache, so every request reads and checks its history.
      ['get artifact (flow:commit)', `/artifacts/svc-7:${fp(7, ROUNDS - 2).slice(24)}`],
    ] as const) {
      rows.push({ engine: bench.engine, route, ...await timeRoute(app, secret, url, forget) });
    }
    return rows;
  } finally {
    await app.close();
    await fresh.parser.close();
    await services.parser.close();
  }
}

const out: Record<string, unknown>[] = [];
for (const engine of values.engines.split(',')) {
  if (engine === 'postgres') {
    const why = await postgresReachable(postgresUrl());
    if (why) {
      console.error(`postgres skipped: ${why}`);
      continue;
    }
  }
  const bench = engine === 'postgres' ? await openPostgres(postgresUrl()) : await openSqlite();
  try {
    out.push(...await run(bench));
  } finally {
    await bench.cleanup();
  }
}
console.log(table(['engine', 'route', 'cold p50 ms', 'cold cpu ms', 'p50 ms', 'p99 ms', 'cpu p50 ms'], out.map((r) => [
  String(r.engine), String(r.route), String(round(r.cold as number)), String(round(r.coldCpu as number)), String(round(r.p50 as number)), String(round(r.p99 as number)), String(round(r.cpu50 as number)),
])));
console.log(`BENCH_JSON ${JSON.stringify({ label: values.label, flows: FLOWS, rounds: ROUNDS, samples: SAMPLES, rows: out })}`);
