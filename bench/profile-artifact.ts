// `get artifact` on its own (issue #21, sixth round): an in-process server with a small org (flows, trails,
// artifacts with three attestations each, prod/beta snapshots), then
//   1. single-request latency: sequential random `get artifact` over the real socket (p50/p99, ms);
//   2. a CPU profile (node:inspector Profiler, main thread only) while autocannon, in its own worker thread,
//      sends `get artifact` for a few seconds (--read warm: fingerprints read before; cold: each one new); prints requests/s and main-thread CPU per request
//      (the profile's non-idle time ÷ requests), less noisy on a shared machine than the rate itself.
// Writes the profile to --out (read it with `node dist/bench/profile-summary.js FILE`).
//
//   node dist/bench/profile-artifact.js [--engine sqlite|postgres] [--trails 2000] [--seconds 8] [--read warm|cold] [--out artifact.cpuprofile]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Session } from 'node:inspector/promises';
import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import pg from 'pg';
import { startServer } from '../src/server/index.js';
import { postgresUrl } from './engines.js';
import { percentile, round } from './stats.js';
import { benchArgs } from './bench-args.js';

const { values } = benchArgs(import.meta.url, {
  options: {
    engine: { type: 'string', default: 'sqlite' },
    trails: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '8' },
    connections: { type: 'string', default: '32' },
    out: { type: 'string', default: 'artifact.cpuprofile' },
    read: { type: 'string', default: 'warm' },
  },
});
const ORG = 'prof';
const trails = Number(values.trails);
const hex = (seed: string) => createHash('sha256').update(seed).digest('hex');

let databaseUrl: string | undefined;
let schema: string | undefined;
if (values.engine === 'postgres') {
  schema = `bench_prof_${randomBytes(4).toString('hex')}`;
  const client = new pg.Client({ connectionString: postgresUrl() });
  await client.connect();
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.end();
  const url = new URL(postgresUrl());
  url.searchParams.set('options', `-c search_path=${schema}`);
  databaseUrl = url.toString();
}
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'evident-bench-prof-'));
const server = await startServer({ port: 0, bind: '127.0.0.1', dataDir, databaseUrl, defaultOrg: ORG, logLevel: 'warn', demo: false });
const headers = { authorization: `Bearer ${server.bootstrap!.token}`, 'content-type': 'application/json' };
const base = `/api/v1/orgs/${ORG}`;
const post = async (method: 'POST' | 'PUT', url: string, payload: object) => {
  const res = await server.app.inject({ method, url: `${base}${url}`, headers, payload });
  if (res.statusCode >= 300) throw new Error(`${url}: ${res.statusCode} ${res.body.slice(0, 200)}`);
};

try {
  for (let i = 0; i < 10; i++) await post('POST', '/flows', { name: `svc-${i}` });
  for (const env of ['prod', 'beta']) await post('POST', '/environments', { name: env, type: 'k8s' });
  const latest = new Map<number, { name: string; fingerprint: string }>();
  for (let n = 0; n < trails; n += 20) {
    await Promise.all(Array.from({ length: Math.min(20, trails - n) }, async (_, k) => {
      const i = n + k;
      const flow = `svc-${i % 10}`;
      const fingerprint = hex(`a${i}`);
      await post('POST', `/flows/${flow}/trails`, { name: `t-${i}` });
      await post('POST', `/flows/${flow}/trails/t-${i}/artifacts`, { name: flow, fingerprint, build_url: `https://ci.example/${i}` });
      for (const name of ['unit-tests', 'security-scan', 'code-review']) {
        await post('POST', `/flows/${flow}/trails/t-${i}/attestations/generic`, { name, compliant: true, fingerprint, user_data: { note: 'x'.repeat(600) } });
      }
      latest.set(i % 10, { name: flow, fingerprint });
    }));
    const running = [...latest.values()].map((a) => ({ ...a, instances: 1 }));
    await post('PUT', `/environments/${n % 40 === 0 ? 'prod' : 'beta'}/snapshot`, { artifacts: running });
  }

  // 200 distinct fingerprints read twice, one request at a time: first read (cold) and read again (warm).
  const distinct = Array.from({ length: Math.min(200, trails) }, (_, i) => `${base}/artifacts/${hex(`a${i}`)}`);
  const passes: number[][] = [[], []];
  for (const times of passes) {
    for (const p of distinct) {
      const t0 = performance.now();
      const res = await fetch(`${server.url}${p}`, { headers });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`GET ${p}: ${res.status}`);
      times.push(performance.now() - t0);
    }
  }
  const ms = (t: number[]) => `p50 ${round(percentile(t, 50), 2)} ms p99 ${round(percentile(t, 99), 2)} ms`;
  console.log(`${values.engine}, ${trails} trails: single request, first read ${ms(passes[0]!)}; read again ${ms(passes[1]!)}  (load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')})`);

  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  // warm: the 200 fingerprints read above, again and again; cold: the others, each read for the first time
  // (the server keeps each fingerprint's view: with fewer of them than the run reads, it is partly warm).
  const paths = values.read === 'cold' ? Array.from({ length: trails - distinct.length }, (_, i) => `${base}/artifacts/${hex(`a${i + distinct.length}`)}`) : distinct;
  const r = await autocannon({
    url: server.url, headers, requests: paths.map((p) => ({ method: 'GET' as const, path: p })),
    connections: Number(values.connections), duration: Number(values.seconds), workers: 1, reconnectRate: 900,
  });
  const { profile } = await session.post('Profiler.stop');
  await new Promise((resolve) => setTimeout(resolve, 300)); // requests autocannon left in flight
  session.disconnect();
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${r.non2xx} non-2xx, ${r.errors} errors`);
  fs.writeFileSync(values.out, JSON.stringify(profile));
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  let busyUs = 0;
  profile.samples!.forEach((id, i) => { if (!idle.has(id)) busyUs += profile.timeDeltas![i] ?? 0; });
  console.log(`  ${values.read}: ${Math.round(r.requests.average).toLocaleString()} req/s, p99 ${r.latency.p99} ms, main-thread CPU ${round(busyUs / 1000 / r.requests.total, 3)} ms/request `
    + `(${r.requests.total} requests; load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}); profile: ${values.out}`);
} finally {
  await server.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
  if (schema) {
    const client = new pg.Client({ connectionString: postgresUrl() });
    await client.connect();
    await client.query(`DROP SCHEMA ${schema} CASCADE`);
    await client.end();
  }
}
