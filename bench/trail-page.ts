// `node dist/bench/trail-page.js` (issue #21, "Eighth round" in docs/performance.md): `get trail` and `list
// flows` when a flow's latest trail holds thousands of attestations. Fills, on each engine, FLOWS flows each
// with a trail (an artifact, three attestations) and one flow `big` whose trail holds --attestations
// attestations (five names, one bound to the artifact, a few failing), through the services (group-committed
// appends); then times the routes in-process through inject() (no socket: the server's own cost), warm (after
// WARMUP requests) and cold (the first request of a fresh process on the same database).
//
//   node dist/bench/trail-page.js [--engines sqlite,postgres] [--attestations 12000] [--samples 100]
//
// It uses only what the server had before paging (services, buildApp, the routes' URLs), so the same file
// measures a build from before the change: copy it into that tree, build, run both one after the other.
import { performance } from 'node:perf_hooks';
import { buildApp } from '../src/server/index.js';
import { createServices, type ServiceBundle } from '../src/services/index.js';
import { generateSignerKey, parseSignerKey } from '../src/ledger/index.js';
import type { OrgRecord } from '../src/store/index.js';
import { openPostgres, openSqlite, postgresReachable, postgresUrl, type BenchStore } from './engines.js';
import { percentile, round, table } from './stats.js';
import { benchArgs } from './bench-args.js';

const { values } = benchArgs(import.meta.url, {
  options: {
    engines: { type: 'string', default: 'sqlite,postgres' },
    attestations: { type: 'string', default: '12000' },
    samples: { type: 'string', default: '100' },
    label: { type: 'string', default: '' },
  },
});
const ATTESTATIONS = Number(values.attestations);
const SAMPLES = Number(values.samples);
const FLOWS = 50;
const WARMUP = 3;
const FP = 'f'.repeat(64);
const signer = parseSignerKey(generateSignerKey('bench.evident/log').signerKey);

async function inBatches(n: number, work: (i: number) => Promise<unknown>, batch = 250): Promise<void> {
  for (let i = 0; i < n; i += batch) await Promise.all(Array.from({ length: Math.min(batch, n - i) }, (_, k) => work(i + k)));
}

async function fill(services: ServiceBundle, org: OrgRecord): Promise<void> {
  await inBatches(FLOWS, (i) => services.flows.create(org, { name: `svc-${i}` }));
  await inBatches(FLOWS, (i) => services.trails.begin(org, { flow: `svc-${i}`, name: 't1' }));
  await inBatches(FLOWS, (i) => services.artifacts.report(org, { flow: `svc-${i}`, trail: 't1', name: 'app', fingerprint: (i + 1).toString(16).padStart(64, '0') }));
  await inBatches(FLOWS * 3, (i) => services.attestations.record(org, 'generic', { flow: `svc-${i % FLOWS}`, trail: 't1', name: `check-${Math.floor(i / FLOWS)}` }, true, null));
  await services.flows.create(org, { name: 'big', template: 'version: 1\ntrail:\n  attestations:\n    - name: review\n      type: generic\n  artifacts:\n    - name: app\n      attestations:\n        - name: scan\n          type: generic\n' });
  await services.trails.begin(org, { flow: 'big', name: 'release' });
  await services.artifacts.report(org, { flow: 'big', trail: 'release', name: 'app', fingerprint: FP });
  const names = ['review', 'app.scan', 'unit', 'lint', 'load-test'];
  await inBatches(ATTESTATIONS, (i) => services.attestations.record(org, 'generic', {
    flow: 'big', trail: 'release', name: names[i % names.length]!, ...(i % names.length === 1 ? { fingerprint: FP } : {}),
  }, i % 997 !== 5, null));
}

async function timeRoute(app: Awaited<ReturnType<typeof buildApp>>, token: string, url: string): Promise<{ cold: number; p50: number; p99: number; bytes: number }> {
  const once = async () => {
    const start = performance.now();
    const res = await app.inject({ method: 'GET', url: `/api/v1/orgs/bench${url}`, headers: { authorization: `Bearer ${token}` } });
    if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body.slice(0, 200)}`);
    return { ms: performance.now() - start, bytes: res.body.length };
  };
  const first = await once();
  for (let i = 1; i < WARMUP; i++) await once();
  const ms: number[] = [];
  for (let i = 0; i < SAMPLES; i++) ms.push((await once()).ms);
  return { cold: first.ms, p50: percentile(ms, 50), p99: percentile(ms, 99), bytes: first.bytes };
}

async function run(bench: BenchStore): Promise<Record<string, unknown>[]> {
  const services = createServices(bench.store, signer);
  const { org } = await services.auth.ensureOrg('bench');
  const t0 = performance.now();
  await fill(services, org);
  console.error(`${bench.engine}: filled ${await services.log.size(org)} entries in ${round((performance.now() - t0) / 1000, 1)} s`);
  await services.log.settled();
  // A fresh process on the filled database: its first request of each route is the cold one.
  const fresh = createServices(bench.store, signer);
  const { secret } = await fresh.auth.issue(org, { name: 'bench', role: 'admin' });
  const app = await buildApp({ services: fresh, defaultOrg: 'bench' });
  try {
    const rows: Record<string, unknown>[] = [];
    // The small trail first: its cold request also starts what every first request starts (the subject map's load, a template parser).
    for (const [route, url] of [['get trail (small)', '/flows/svc-7/trails/t1'], ['get trail (12k)', '/flows/big/trails/release'], ['list flows', '/flows']] as const) {
      const r = await timeRoute(app, secret, url);
      rows.push({ engine: bench.engine, route: route.replace('12k', `${ATTESTATIONS}`), ...r });
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
console.log(table(['engine', 'route', 'cold ms', 'p50 ms', 'p99 ms', 'KB'], out.map((r) => [
  String(r.engine), String(r.route), String(round(r.cold as number)), String(round(r.p50 as number)), String(round(r.p99 as number)), String(round((r.bytes as number) / 1024)),
])));
console.log(`BENCH_JSON ${JSON.stringify({ label: values.label, attestations: ATTESTATIONS, samples: SAMPLES, rows: out })}`);
