// `npm run bench:scale` (issue #21): fills one organisation's log through the server's real write path (HTTP
// routes, in-process through inject(): no socket, so the figures are the server's own cost) with a mix of
// flows, trails, artifacts, attestations and snapshots, and at each size on the way prints the p50/p99 of
// every read route the CLI and the web UI use, so how each grows is visible as a table.
//
//   node dist/bench/scale.js [--size 1000000] [--steps 10000,100000] [--engines sqlite,postgres] [--samples 40]
//                            [--throughput-seconds 10] [--connections 32] [--routes 'list flows,search'] [--keep]
//                            [--fill-concurrency 40]
//   node dist/bench/scale.js --reuse DIR [--schema NAME] [--routes ...] [--throughput] [--dora-preload off]
//
// --keep leaves the filled database (SQLite: the data directory; PostgreSQL: the schema) and what the filler
// knows in DIR/bench-scale-state.json, and prints where; --reuse DIR times the routes again on it without
// filling (with --schema for PostgreSQL): before and after a change on the same data, or EXPLAIN on it.
// --routes times only the routes whose label contains one of the words (`--routes none`: none of them).
// --throughput with --reuse runs the throughput phase on the kept data too (its appends grow the log by
// ~10 s of appends a run): two builds compared side by side on one filled database.
// With --reuse the restarted server's background loads (subject maps, then DORA's ledgers: issue #21 tenth round)
// are timed first, with `log checkpoint` and `get artifact` timed meanwhile (whether they wait for the loads);
// --dora-preload off starts it without building DORA's ledgers, as before (the first DORA request builds them).
//
// Targets (issue #21): no read route above 50 ms p99 at 1M entries; at the final size, reads ≥ writes for
// inclusion proofs and `get artifact`: autocannon (in its own worker thread, over the real socket) measures
// durable appends/s, random `get artifact`/s and random inclusion proofs/s one after the other, and the bench
// prints each read rate ÷ the write rate. Prints one `BENCH_JSON {...}` line last.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import pg from 'pg';
import { startServer, type RunningServer } from '../src/server/index.js';
import { postgresReachable, postgresUrl } from './engines.js';
import { percentile, round, table } from './stats.js';
import { benchArgs } from './bench-args.js';

const { values } = benchArgs(import.meta.url, {
  options: {
    size: { type: 'string', default: '1000000' },
    steps: { type: 'string', default: '10000,100000' },
    engines: { type: 'string', default: 'sqlite,postgres' },
    samples: { type: 'string', default: '40' },
    'throughput-seconds': { type: 'string', default: '10' },
    connections: { type: 'string', default: '32' },
    'fill-concurrency': { type: 'string', default: '40' },
    routes: { type: 'string' },
    keep: { type: 'boolean', default: false },
    reuse: { type: 'string' },
    schema: { type: 'string' },
    throughput: { type: 'boolean', default: false },
    'dora-preload': { type: 'string', default: 'on' },
  },
});
const routeWords = values.routes?.split(',').map((w) => w.trim()).filter(Boolean);
const throughputSeconds = Number(values['throughput-seconds']);
const connections = Number(values.connections);
const size = Number(values.size);
const steps = [...new Set([...values.steps.split(',').map(Number).filter((n) => n > 0 && n < size), size])].sort((a, b) => a - b);
const samples = Number(values.samples);
// Trails filled at once: each trail's five entries go one request after another (begin, artifact, then three
// attestations at once), so the fill rate is about this many trails per three group commits. On PostgreSQL
// under load a commit took ~350 ms, and 40 at once filled ~180 entries/s (1M in 90 minutes).
const fillConcurrency = Number(values['fill-concurrency']);
if (!Number.isSafeInteger(fillConcurrency) || fillConcurrency < 1) throw new Error('--fill-concurrency must be a positive integer');
const FLOWS = 50;
const ORG = 'scale';
const hex = (seed: string) => createHash('sha256').update(seed).digest('hex');
const commit = (seed: string) => hex(seed).slice(0, 40);

interface Filler {
  server: RunningServer;
  token: string;
  entries: number;
  trails: number;
  /** Latest artifact per flow: what a deployment would roll out next. */
  latest: Map<number, { fingerprint: string; name: string; trail: string; commit: string }>;
  deployed: number;
}

async function call(f: Filler, method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown): Promise<{ status: number; body: string }> {
  const res = await f.server.app.inject({
    method, url: `/api/v1/orgs/${ORG}${url}`, headers: { authorization: `Bearer ${f.token}` }, ...(payload === undefined ? {} : { payload: payload as object }),
  });
  if (method !== 'GET' && res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body.slice(0, 300)}`);
  return { status: res.statusCode, body: res.body };
}

/** One trail of one flow: begin, an artifact, three attestations (5 entries); every 40 trails a prod snapshot. */
async function oneTrail(f: Filler, n: number): Promise<void> {
  const flowNo = n % FLOWS;
  const flow = `svc-${flowNo}`;
  const trail = `t-${n}`;
  const sha = commit(`c${n}`);
  const fingerprint = hex(`a${n}`);
  await call(f, 'POST', `/flows/${flow}/trails`, { name: trail, git_commit: sha });
  await call(f, 'POST', `/flows/${flow}/trails/${trail}/artifacts`, { name: flow, fingerprint, git_commit: sha, build_url: `https://ci.example/${n}` });
  await Promise.all(['unit-tests', 'security-scan', 'code-review'].map((name, i) =>
    call(f, 'POST', `/flows/${flow}/trails/${trail}/attestations/generic`, {
      name, compliant: (n + i) % 17 !== 0, fingerprint, user_data: { run: n, note: 'x'.repeat(600) },
    })));
  f.latest.set(flowNo, { fingerprint, name: flow, trail, commit: sha });
  f.entries += 5;
  f.trails += 1;
}

async function fillTo(f: Filler, target: number): Promise<void> {
  const started = performance.now();
  const from = f.entries;
  while (f.entries < target) {
    const batch = Math.max(1, Math.min(fillConcurrency, Math.ceil((target - f.entries) / 5)));
    const first = f.trails;
    await Promise.all(Array.from({ length: batch }, (_, i) => oneTrail(f, first + i)));
    // A snapshot every 40 trails, however many were filled at once.
    while (Math.floor(f.trails / 40) > f.deployed) {
      f.deployed += 1;
      const running = [...f.latest.values()].map((a) => ({ name: a.name, fingerprint: a.fingerprint, instances: 1 + (f.deployed % 3) }));
      await call(f, 'PUT', `/environments/${f.deployed % 2 === 0 ? 'prod' : 'beta'}/snapshot`, { artifacts: running });
      f.entries += 1;
    }
    if (process.stderr.isTTY) process.stderr.write(`\r  filling: ${f.entries.toLocaleString()} / ${target.toLocaleString()} entries`);
  }
  const secs = (performance.now() - started) / 1000;
  if (process.stderr.isTTY) process.stderr.write('\n');
  console.log(`  filled ${f.entries.toLocaleString()} entries (${Math.round((f.entries - from) / secs).toLocaleString()} entries/s)`);
}

async function timeRoute(f: Filler, url: string): Promise<{ p50: number; p99: number; first: number }> {
  const times: number[] = [];
  let first = 0;
  for (let i = 0; i <= samples; i++) {
    const t0 = performance.now();
    const res = await call(f, 'GET', url);
    if (res.status >= 300) throw new Error(`GET ${url}: ${res.status} ${res.body.slice(0, 300)}`);
    if (i > 0) times.push(performance.now() - t0); // the first request warms the caches
    else first = performance.now() - t0; // printed apart: what a cold cache (DORA's ledger, issue #21) costs once
  }
  return { p50: percentile(times, 50), p99: percentile(times, 99), first };
}

/** The read routes behind `list flows`, `get trail`, `get artifact`, `search`, the web pages and the log. */
function routes(f: Filler): [string, string][] {
  const a = f.latest.get(7) ?? f.latest.values().next().value!;
  const mid = Math.floor(f.entries / 2);
  const all: [string, string][] = [
    ['list flows', '/flows?limit=100'],
    ['list flows --sort last-deployment', '/flows?limit=100&sort=last-deployment'],
    ['list flows --sort compliance', '/flows?limit=100&sort=compliance'],
    ['get flow', '/flows/svc-7'],
    ['list trails', '/flows/svc-7/trails?limit=100'],
    ['get trail', `/flows/svc-7/trails/${a.trail}`],
    ['get artifact', `/artifacts/${a.fingerprint}`],
    ['list artifacts', '/artifacts?limit=100'],
    ['search commit', `/search?q=${a.commit.slice(0, 10)}`],
    ['list environments', '/environments'],
    ['get environment', '/environments/prod'],
    ['get snapshot', '/snapshots/prod'],
    ['list snapshots', '/environments/prod/snapshots?limit=100'],
    ['environment events', '/environments/prod/events?limit=100'],
    ['diff snapshots', '/diff/snapshots?a=beta&b=prod'],
    ['release plan', '/release-plan?from=beta&to=prod'],
    ['dora metrics', '/metrics/dora?environment=prod'],
    ['log checkpoint', '/log/checkpoint'],
    ['inclusion proof', `/log/proof/inclusion?index=${mid}`],
    ['consistency proof', `/log/proof/consistency?from=${mid}&to=${f.entries}`],
    ['log entries (100)', `/log/entries?start=${mid}&end=${mid + 100}`],
  ];
  return routeWords ? all.filter(([label]) => routeWords.some((w) => label.includes(w))) : all;
}

type Rates = Record<string, { p50: number; p99: number }>;

/** A random sample of `n` request paths: autocannon cycles through them, one after the other, per connection. */
const sample = (n: number, pathOf: (i: number) => string) => Array.from({ length: n }, (_, i) => ({ method: 'GET' as const, path: pathOf(i) }));

/**
 * Durable appends/s, then random `get artifact`/s and inclusion proofs/s at the final size, over the real
 * socket. autocannon runs in a worker thread so that it does not share the server's event loop; the rates
 * are in the table's p50/p99 slots as { p50: requests/s, p99: latency p99 ms }.
 */
async function throughput(f: Filler): Promise<Rates> {
  const headers = { authorization: `Bearer ${f.token}`, 'content-type': 'application/json' };
  const base = `/api/v1/orgs/${ORG}`;
  const rnd = (n: number) => Math.floor(Math.random() * n);
  const runs: [string, Parameters<typeof autocannon>[0]][] = [
    // Into svc-7's first trail, not its latest: the routes read the latest trail (get trail, list flows' compliance),
    // and ten seconds of appends into it left it with ~12,000 attestations for a later --reuse to read.
    ['appends (attest generic)', {
      url: `${f.server.url}${base}/flows/svc-7/trails/t-7/attestations/generic`, method: 'POST', headers,
      body: JSON.stringify({ name: 'load-test', compliant: true, user_data: { note: 'x'.repeat(800) } }),
    }],
    ['get artifact (random)', { url: f.server.url, headers, requests: sample(2000, () => `${base}/artifacts/${hex(`a${rnd(f.trails)}`)}`) }],
    ['inclusion proof (random)', { url: f.server.url, headers, requests: sample(2000, () => `${base}/log/proof/inclusion?index=${rnd(f.entries)}`) }],
  ];
  const rates: Rates = {};
  for (const [label, opts] of runs) {
    // reconnectRate: the server ends a keep-alive socket after 1,000 requests (limits.ts maxRequestsPerSocket)
    // and answers 503 to what a client sends on it after that; autocannon would keep sending.
    const r = await autocannon({ ...opts, connections, duration: throughputSeconds, workers: 1, reconnectRate: 900 });
    if (r.non2xx > 0 || r.errors > 0) {
      // Say what the server answered: one of the requests again, through inject().
      const first = opts.requests?.[0];
      const probe = first ? await f.server.app.inject({ method: 'GET', url: first.path!, headers: { authorization: headers.authorization } }) : undefined;
      throw new Error(`${label}: ${r.non2xx} non-2xx, ${r.errors} errors${probe ? ` (e.g. GET ${first!.path}: ${probe.statusCode} ${probe.body.slice(0, 200)})` : ''}`);
    }
    rates[label] = { p50: Math.round(r.requests.average), p99: r.latency.p99 };
    console.log(`    ${label.padEnd(34)} ${rates[label].p50.toLocaleString()} req/s  p99 ${r.latency.p99} ms  (${connections} connections, ${throughputSeconds} s)`);
  }
  const writes = rates['appends (attest generic)']!.p50;
  for (const label of ['get artifact (random)', 'inclusion proof (random)']) {
    const ratio = rates[label]!.p50 / writes;
    console.log(`  ${label} ÷ appends: ${ratio.toFixed(2)}× (target ≥ 1: ${ratio >= 1 ? 'met' : 'NOT met'})`);
  }
  return rates;
}

/**
 * A restarted server's background loads (RunningServer.preloaded: subject maps, then DORA's ledgers), timed from
 * startServer's call, with `log checkpoint` and `get artifact` timed one after another meanwhile: what a reader
 * waits while they run.
 */
async function timePreload(f: Filler, listening: number, started: number): Promise<void> {
  let done = false;
  const maps = f.server.mapsPreloaded.then(() => performance.now() - started);
  const loaded = f.server.preloaded.then(() => (done = true, performance.now() - started));
  const times: number[] = [];
  const a = f.latest.get(7) ?? f.latest.values().next().value!;
  for (let i = 0; !done; i++) {
    const t0 = performance.now();
    const res = await call(f, 'GET', i % 2 === 0 ? '/log/checkpoint' : `/artifacts/${a.fingerprint}`);
    if (res.status >= 300) throw new Error(`during the preload: ${res.status} ${res.body.slice(0, 200)}`);
    times.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 5));
  }
  const total = await loaded;
  console.log(`    listening after ${round(listening, 0)} ms; subject maps loaded ${round(await maps, 0)} ms after start; DORA ledgers (${values['dora-preload']}) ${round(total, 0)} ms`);
  if (times.length > 0) {
    console.log(`    meanwhile ${times.length} reads (log checkpoint, get artifact): p50 ${round(percentile(times, 50), 1)} ms  p99 ${round(percentile(times, 99), 1)} ms  max ${round(Math.max(...times), 1)} ms`);
  }
}

async function runEngine(engine: 'sqlite' | 'postgres'): Promise<Record<string, Rates>> {
  const dataDir = values.reuse ?? fs.mkdtempSync(path.join(os.tmpdir(), 'evident-bench-scale-'));
  const stateFile = path.join(dataDir, 'bench-scale-state.json');
  let databaseUrl: string | undefined;
  let schema: string | undefined;
  if (engine === 'postgres') {
    schema = values.schema ?? `bench_scale_${randomBytes(4).toString('hex')}`;
    const client = new pg.Client({ connectionString: postgresUrl() });
    await client.connect();
    if (!values.reuse) await client.query(`CREATE SCHEMA ${schema}`);
    await client.end();
    const url = new URL(postgresUrl());
    url.searchParams.set('options', `-c search_path=${schema}`);
    databaseUrl = url.toString();
  }
  const started = performance.now();
  const server = await startServer({
    port: 0, bind: '127.0.0.1', dataDir, databaseUrl, defaultOrg: ORG, logLevel: 'warn', demo: false,
    ...(values['dora-preload'] === 'off' ? { preloadDoraFrom: Number.MAX_SAFE_INTEGER } : {}),
  });
  const listening = performance.now() - started;
  const f: Filler = { server, token: server.bootstrap?.token ?? '', entries: 0, trails: 0, latest: new Map(), deployed: 0 };
  const out: Record<string, Rates> = {};
  if (values.reuse) {
    const saved = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as Omit<Filler, 'server' | 'latest'> & { latest: [number, Filler['latest'] extends Map<number, infer V> ? V : never][] };
    Object.assign(f, { ...saved, latest: new Map(saved.latest) });
  }
  try {
    if (values.reuse) {
      console.log(`\n${engine} (reused, ${f.entries.toLocaleString()} entries):`);
      await timePreload(f, listening, started);
      const figures: Rates = {};
      for (const [label, url] of routes(f)) {
        figures[label] = await timeRoute(f, url);
        console.log(`    ${f.entries.toLocaleString()} entries  ${label.padEnd(34)} p50 ${round(figures[label].p50, 1)} ms  p99 ${round(figures[label].p99, 1)} ms  first ${round((figures[label] as { first?: number }).first ?? 0, 1)} ms`);
      }
      if (values.throughput && throughputSeconds > 0) return { [String(f.entries)]: figures, throughput: await throughput(f) };
      return { [String(f.entries)]: figures };
    }
    for (let i = 0; i < FLOWS; i++) await call(f, 'POST', '/flows', { name: `svc-${i}`, description: `service ${i}` });
    for (const env of ['prod', 'beta']) await call(f, 'POST', '/environments', { name: env, type: 'k8s' });
    f.entries += FLOWS + 2;
    console.log(`\n${engine}:`);
    for (const step of steps) {
      await fillTo(f, step);
      const figures: Record<string, { p50: number; p99: number; first?: number }> = {};
      for (const [label, url] of routes(f)) {
        figures[label] = await timeRoute(f, url);
        // As it goes: a route that has become slow is visible before the whole table is.
        console.log(`    ${f.entries.toLocaleString()} entries  ${label.padEnd(34)} p50 ${round(figures[label].p50, 1)} ms  p99 ${round(figures[label].p99, 1)} ms  first ${round(figures[label].first ?? 0, 1)} ms`);
      }
      out[String(f.entries)] = figures;
    }
    if (throughputSeconds > 0) out.throughput = await throughput(f);
  } finally {
    await server.close();
    if (values.keep && !values.reuse) {
      fs.writeFileSync(stateFile, JSON.stringify({ token: f.token, entries: f.entries, trails: f.trails, deployed: f.deployed, latest: [...f.latest] }));
      console.log(`  kept: ${dataDir}${schema ? ` (schema ${schema})` : ''}; again with --reuse ${dataDir}${schema ? ` --schema ${schema}` : ''}`);
    }
  }
  if (!values.keep && !values.reuse) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    if (schema) {
      const client = new pg.Client({ connectionString: postgresUrl() });
      await client.connect();
      await client.query(`DROP SCHEMA ${schema} CASCADE`);
      await client.end();
    }
  }
  const sizes = Object.keys(out).filter((k) => k !== 'throughput');
  const labels = Object.keys(out[sizes[0]!]!);
  console.log(table(['route (ms p50 / p99)', ...sizes.map((s) => `${Number(s).toLocaleString()} entries`)],
    labels.map((l) => [l, ...sizes.map((s) => `${round(out[s]![l]!.p50, 1)} / ${round(out[s]![l]!.p99, 1)}`)])));
  const worst = Math.max(...labels.map((l) => out[sizes.at(-1)!]![l]!.p99));
  console.log(`  worst p99 at ${Number(sizes.at(-1)).toLocaleString()} entries: ${round(worst, 1)} ms (target ≤ 50 ms at 1M: ${worst <= 50 ? 'ok' : 'OVER'})`);
  return out;
}

const result: Record<string, unknown> = {};
for (const engine of values.engines.split(',')) {
  const unreachable = engine === 'postgres' ? await postgresReachable(postgresUrl()) : undefined;
  if (unreachable) {
    console.log(`\npostgres: skipped (${unreachable})`);
    continue;
  }
  result[engine] = await runEngine(engine as 'sqlite' | 'postgres');
}
console.log(`BENCH_JSON ${JSON.stringify(result)}`);
