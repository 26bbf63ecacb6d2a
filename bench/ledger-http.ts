// Durable log appends through HTTP: `evident attest generic` requests (~1 KB each) from autocannon with
// 50 connections against a real `evident server` process, on SQLite and on PostgreSQL.
// Target (issue #2): >= 5,000 durable appends/s over HTTP on SQLite on a 2-core machine.
// `--servers N` (PostgreSQL): also N server processes on one database, each driven by its own autocannon
// with the same connections, against one server (issue #21: two servers >= 1.6x one). `--warmup S` (default 5):
// the same load for S seconds first, not counted. `--seconds S` (10), `--connections N` (50), `--engines sqlite,postgres`,
// `--rate R` (requests/s per server; default: as fast as answered).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import autocannon from 'autocannon';
import pg from 'pg';

const CLI = path.resolve('dist/cli/evident.js');
const args = process.argv.slice(2);
const flag = (name: string, dflt: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
};
const seconds = Number(flag('--seconds', '10'));
// The same load for this many seconds first, not counted: a server runs for days, and in a fresh process a
// third of the CPU of a 10 s run was V8 compiling the hot path (perf, twelfth round). `--warmup 0` measures
// a cold server, as rounds before the twelfth did.
const warmup = Number(flag('--warmup', '5'));
const connections = Number(flag('--connections', '50'));
const engines = flag('--engines', 'sqlite,postgres').split(',');
const servers = Number(flag('--servers', '1'));
// `--rate R`: at most R requests/s per server (autocannon's overallRate), so that the CPU each append costs
// is compared at the same load (its throughput then says only whether the server kept up).
const rate = Number(flag('--rate', '0'));
// `--subjects artifact`: each request attests a new artifact (a random fingerprint), so every entry also
// moves a new leaf of the subject map (docs/log.md): the map's worst case. Default `trail`: every entry is
// about the one trail only.
const subjects = flag('--subjects', 'trail');
if (subjects !== 'trail' && subjects !== 'artifact') throw new Error('--subjects is trail or artifact');
const pgUrl = process.env.EVIDENT_BENCH_DATABASE_URL ?? process.env.EVIDENT_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

// Extra Node options for the server processes, e.g. `BENCH_SERVER_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/p'`
// to profile them (profiles are written when a server exits on SIGTERM).
const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);

interface Server { url: string; token?: string; pid: number; stop(): Promise<void> }

/** CPU time (user + system, all threads) a process has used so far, in ms (Linux: /proc; null elsewhere). */
function cpuMs(pid: number): number | null {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime, stime in ticks of 10 ms (CLK_TCK 100)
  } catch {
    return null;
  }
}

function startServer(extra: string[]): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, CLI, '--output', 'json', 'server', '--port', '0', '--log-level', 'warn', ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buffer = '';
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      buffer += line + '\n';
      try {
        const info = JSON.parse(buffer);
        // Only the server that creates the database prints a first admin token.
        resolve({ url: info.url, token: info.first_admin?.token, pid: child.pid!, stop: () => new Promise((r) => { child.once('exit', () => r()); child.kill('SIGTERM'); }) });
      } catch {
        // not complete yet
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
}

async function api(server: Server, method: string, url: string, body: unknown): Promise<void> {
  const res = await fetch(server.url + url, { method, headers: { authorization: `Bearer ${server.token!}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
}

async function pgQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** Appends through `count` servers on one database at once (count > 1: PostgreSQL only), each driven by its own autocannon. */
async function measure(engine: string, count = 1): Promise<Record<string, number | string>> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'evident-bench-http-'));
  const schema = `bench_http_${process.pid}`;
  const extra = ['--data-dir', dataDir];
  if (engine === 'postgres') await pgQuery(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  if (engine === 'postgres') extra.push('--database-url', `${pgUrl}${pgUrl.includes('?') ? '&' : '?'}options=-c%20search_path%3D${schema}`);
  const started: Server[] = [];
  try {
    const first = await startServer(extra);
    started.push(first);
    // The others share the database and the log key (same data directory).
    for (let i = 1; i < count; i++) started.push(await startServer(extra));
    const token = first.token!;
    await api(first, 'POST', '/api/v1/orgs/default/flows', { name: 'bench' });
    await api(first, 'POST', '/api/v1/orgs/default/flows/bench/trails', { name: 'run-1' });
    const body = JSON.stringify({ name: 'unit-test', compliant: true, description: 'x'.repeat(900) });
    const perRequest = subjects === 'artifact'
      ? { requests: [{ setupRequest: (req: autocannon.Request) => ({ ...req, body: JSON.stringify({ name: 'unit-test', compliant: true, fingerprint: randomBytes(32).toString('hex'), description: 'x'.repeat(836) }) }) }] }
      : { body };
    const load = (duration: number) => Promise.all(started.map((server) => autocannon({
      url: `${server.url}/api/v1/orgs/default/flows/bench/trails/run-1/attestations/generic`,
      // reconnectRate: the server ends a keep-alive socket after 1,000 requests (limits.ts maxRequestsPerSocket)
      // and answers 503 to what a client sends on it after that; autocannon would keep sending (at 10
      // connections, two thirds of a 10 s run's answers were 503 before this).
      method: 'POST', connections, duration, reconnectRate: 900, ...(rate > 0 ? { overallRate: rate } : {}), ...perRequest,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    })));
    if (warmup > 0) await load(warmup);
    const cpuBefore = started.map((s) => cpuMs(s.pid));
    const clientBefore = process.cpuUsage();
    const results = await load(seconds);
    const cpuAfter = started.map((s) => cpuMs(s.pid));
    const client = process.cpuUsage(clientBefore);
    const ok = results.reduce((n, r) => n + r['2xx'], 0);
    // The servers' CPU (all their threads) per 2xx append during the run: the figure that bounds appends/s
    // when the cores are saturated, and less noisy than appends/s on a shared machine.
    const cpu = cpuAfter.every((c, i) => c !== null && cpuBefore[i] !== null) ? cpuAfter.reduce<number>((n, c, i) => n + c! - cpuBefore[i]!, 0) : null;
    return {
      engine, servers: count, connections: connections * count, seconds, requests_2xx: ok,
      non_2xx: results.reduce((n, r) => n + r.non2xx, 0), errors: results.reduce((n, r) => n + r.errors, 0),
      appends_per_s: Math.round(ok / seconds), p50_ms: Math.max(...results.map((r) => r.latency.p50)), p99_ms: Math.max(...results.map((r) => r.latency.p99)),
      server_cpu_us_per_append: cpu === null || ok === 0 ? 'n/a' : Math.round((cpu * 1000) / ok),
      // autocannon's own CPU (this process) per request answered: it shares the cores with the server.
      client_cpu_us_per_request: Math.round((client.user + client.system) / Math.max(1, results.reduce((n, r) => n + r.requests.total, 0))),
    };
  } finally {
    await Promise.all(started.map((s) => s.stop()));
    fs.rmSync(dataDir, { recursive: true, force: true });
    if (engine === 'postgres') await pgQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
}

const rows: Record<string, number | string>[] = [];
for (const engine of engines) {
  try {
    rows.push(await measure(engine));
    if (engine === 'postgres' && servers > 1) rows.push(await measure(engine, servers));
  } catch (err) {
    console.error(`${engine}: skipped (${(err as Error).message})`);
  }
}
console.log(`\nHTTP appends (POST attestations/generic, ~1 KB, about ${subjects === 'artifact' ? 'a new artifact each' : 'one trail'}, ${connections} connections, ${seconds} s after ${warmup} s of warm-up, ${os.cpus().length} cores, Node ${process.version})`);
console.table(rows);
for (const r of rows) {
  if (r.engine === 'sqlite') console.log(`SQLite: ${r.appends_per_s} durable appends/s over HTTP — target >= 5000: ${Number(r.appends_per_s) >= 5000 ? 'met' : 'NOT met'}`);
  if (r.engine === 'postgres' && r.servers === 1) console.log(`PostgreSQL, one server: ${r.appends_per_s} durable appends/s over HTTP — target >= 5000: ${Number(r.appends_per_s) >= 5000 ? 'met' : 'NOT met'}`);
}
const pgOne = rows.find((r) => r.engine === 'postgres' && r.servers === 1);
const pgMany = rows.find((r) => r.engine === 'postgres' && Number(r.servers) > 1);
if (pgOne && pgMany) {
  const ratio = Number(pgMany.appends_per_s) / Number(pgOne.appends_per_s);
  console.log(`PostgreSQL, ${servers} servers / one: ${ratio.toFixed(2)}x — target >= 1.6x: ${ratio >= 1.6 ? 'met' : 'NOT met'} (${os.cpus().length} cores for the servers, autocannon and PostgreSQL together)`);
}
console.log(`BENCH_JSON ${JSON.stringify({ http: rows })}`);
