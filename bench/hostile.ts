// Hostile clients against a real `evident server` process (issue 16): a legitimate client writes and reads
// in a loop, first alone (the quiet baseline), then while a bounded mix of attacks runs:
//   - catastrophic-regex data for a custom type whose schema pattern is ^(a+)+$ (reporter token),
//   - a 50 MiB JUnit report uploaded and attested (its parse is the expensive part),
//   - 500 slow-body connections: POST headers, one byte of body, then silence (no token),
//   - bad tokens from one address, as fast as it is answered.
// Prints the legitimate client's success rate and p50/p99 latency in both phases, and p99 / baseline p99.
// Target: 100 % success, p99 <= 5x the quiet baseline. Attackers use other loopback addresses (127.0.0.2-9)
// than the legitimate client (127.0.0.1), as they would be other hosts.
// Usage: npm run bench:hostile [-- --seconds 20 --slow 500 --junit-mib 50]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { percentile, round, table } from './stats.js';

const CLI = path.resolve('dist/cli/evident.js');
const args = process.argv.slice(2);
const flag = (name: string, dflt: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
};
const SECONDS = Number(flag('--seconds', '20'));
const SLOW = Number(flag('--slow', '500'));
const JUNIT_MIB = Number(flag('--junit-mib', '50'));
/** Run only these attacks (comma-separated: regex,report,slow,tokens), to see what each costs. */
const ONLY = new Set(flag('--only', 'regex,report,slow,tokens').split(','));

interface Server { url: string; port: number; token: string; pid: number; stop(): Promise<void> }

function startServer(extra: string[]): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, '--output', 'json', 'server', '--port', '0', '--log-level', 'error', ...extra], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, EVIDENT_NO_DEMO: '1' } });
    let buffer = '';
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      buffer += line + '\n';
      try {
        const info = JSON.parse(buffer) as { url: string; first_admin: { token: string } };
        resolve({
          url: info.url, port: Number(new URL(info.url).port), token: info.first_admin.token, pid: child.pid!,
          stop: () => new Promise((r) => { child.once('exit', () => r()); child.kill('SIGTERM'); }),
        });
      } catch {
        // not complete yet
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
}

interface Answer { status: number; body: string }

/** One HTTP request from `localAddress`, with a keep-alive agent per client. */
function request(server: Server, agent: http.Agent, method: string, url: string, token: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port: server.port, method, path: url, agent,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }), ...headers },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(60_000, () => req.destroy(new Error('client timeout 60 s')));
    req.end(body);
  });
}

const agentFrom = (localAddress: string, maxSockets = 8) => new http.Agent({ keepAlive: true, maxSockets, localAddress } as http.AgentOptions);

async function must(p: Promise<Answer>, what: string): Promise<Answer> {
  const a = await p;
  if (a.status >= 300) throw new Error(`${what}: ${a.status} ${a.body.slice(0, 300)}`);
  return a;
}

/** The legitimate client: write an attestation, read the trail, again, until `until`. */
async function legitimate(server: Server, until: number): Promise<{ latencies: number[]; ok: number; failed: number; errors: string[] }> {
  const agent = agentFrom('127.0.0.1', 1);
  const latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  const errors: string[] = [];
  for (let k = 0; performance.now() < until; k++) {
    const write = k % 2 === 0;
    const started = performance.now();
    try {
      const a = write
        ? await request(server, agent, 'POST', '/api/v1/orgs/default/flows/app/trails/t/attestations/generic', server.token, JSON.stringify({ name: `check-${k}`, compliant: true, user_data: { k } }))
        : await request(server, agent, 'GET', '/api/v1/orgs/default/flows/app/trails/t', server.token);
      if (a.status === (write ? 201 : 200)) ok++;
      else {
        failed++;
        if (errors.length < 5) errors.push(`${a.status} ${a.body.slice(0, 120)}`);
      }
    } catch (err) {
      failed++;
      if (errors.length < 5) errors.push((err as Error).message);
    }
    latencies.push(performance.now() - started);
  }
  agent.destroy();
  return { latencies, ok, failed, errors };
}

function junit(mib: number): Buffer {
  const parts = ['<?xml version="1.0"?><testsuite name="big">'];
  let size = parts[0]!.length;
  for (let k = 0; size < mib * 1024 * 1024 - 64; k++) {
    const s = `<testcase classname="com.example.C${k % 997}" name="test${k}" time="0.001"/>`;
    parts.push(s);
    size += s.length;
  }
  parts.push('</testsuite>');
  return Buffer.from(parts.join(''));
}

function multipart(name: string, data: Buffer): { body: Buffer; type: string } {
  const boundary = '----evident-bench-' + Date.now();
  const head = Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="${name}"\r\ncontent-type: application/xml\r\n\r\n`);
  return { body: Buffer.concat([head, data, Buffer.from(`\r\n--${boundary}--\r\n`)]), type: `multipart/form-data; boundary=${boundary}` };
}

interface AttackStats { requests: number; statuses: Record<string, number> }
const count = (s: AttackStats, key: string | number) => {
  s.requests++;
  s.statuses[key] = (s.statuses[key] ?? 0) + 1;
};

/** Catastrophic-regex data for the custom type, over and over (bounded by `until`), 2 at a time. */
async function regexAttack(server: Server, reporter: string, until: number, stats: AttackStats): Promise<void> {
  const agent = agentFrom('127.0.0.2', 2);
  const body = JSON.stringify({ name: 'redos', type: 'redos', data: { s: 'a'.repeat(40) + '!' } });
  await Promise.all([0, 1].map(async () => {
    while (performance.now() < until) {
      try {
        count(stats, (await request(server, agent, 'POST', '/api/v1/orgs/default/flows/attack/trails/t/attestations/custom', reporter, body)).status);
      } catch (err) {
        count(stats, (err as Error).message);
      }
    }
  }));
  agent.destroy();
}

/** Uploads the big report and attests it, twice. */
async function reportAttack(server: Server, reporter: string, report: Buffer, stats: AttackStats): Promise<void> {
  const agent = agentFrom('127.0.0.3', 1);
  const { body, type } = multipart('big-junit.xml', report);
  for (let k = 0; k < 2; k++) {
    try {
      const up = await request(server, agent, 'POST', '/api/v1/orgs/default/evidence', reporter, body, { 'content-type': type, 'content-length': String(body.length) });
      count(stats, `upload ${up.status}`);
      const digest = (JSON.parse(up.body) as { items: { digest: string }[] }).items[0]!.digest;
      const at = await request(server, agent, 'POST', '/api/v1/orgs/default/flows/attack/trails/t/attestations/junit', reporter, JSON.stringify({ name: `big-${k}`, reports: [digest] }));
      count(stats, `attest ${at.status}`);
    } catch (err) {
      count(stats, (err as Error).message);
    }
  }
  agent.destroy();
}

/** SLOW connections that send POST headers and one byte of body, then nothing; reopened when closed. */
async function slowBodyAttack(server: Server, until: number, stats: AttackStats & { closedByServer: number }): Promise<void> {
  const open = (k: number): Promise<void> => new Promise((resolve) => {
    if (performance.now() >= until) return resolve();
    const socket = net.connect({ port: server.port, host: '127.0.0.1', localAddress: `127.0.0.${4 + (k % 5)}` });
    socket.on('error', () => undefined);
    socket.on('connect', () => {
      count(stats, 'opened');
      socket.write('POST /api/v1/orgs/default/flows HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{');
    });
    socket.on('data', () => undefined);
    const timer = setTimeout(() => socket.destroy(), Math.max(0, until - performance.now()));
    socket.on('close', () => {
      clearTimeout(timer);
      if (performance.now() < until) {
        stats.closedByServer++;
        // Back off a little, as a real attacker's reconnects are not free either.
        setTimeout(() => void open(k).then(resolve), 50);
      } else resolve();
    });
  });
  await Promise.all(Array.from({ length: SLOW }, (_, k) => open(k)));
}

/** Bad tokens from one address, 4 at a time. */
async function badTokenAttack(server: Server, until: number, stats: AttackStats): Promise<void> {
  const agent = agentFrom('127.0.0.9', 4);
  await Promise.all([0, 1, 2, 3].map(async (w) => {
    for (let k = 0; performance.now() < until; k++) {
      try {
        count(stats, (await request(server, agent, 'GET', '/api/v1/whoami', `evd_guess${w}_${k}`)).status);
      } catch (err) {
        count(stats, (err as Error).message);
      }
    }
  }));
  agent.destroy();
}

function summary(name: string, r: { latencies: number[]; ok: number; failed: number }) {
  const total = r.ok + r.failed;
  return { phase: name, requests: total, success_pct: round((100 * r.ok) / Math.max(1, total), 2), p50_ms: round(percentile(r.latencies, 50), 2), p99_ms: round(percentile(r.latencies, 99), 2), max_ms: round(Math.max(...r.latencies), 1) };
}

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'evident-bench-hostile-'));
  const server = await startServer(['--data-dir', dataDir]);
  try {
    const admin = agentFrom('127.0.0.1', 1);
    const post = (url: string, body: unknown) => must(request(server, admin, 'POST', `/api/v1/orgs/default${url}`, server.token, JSON.stringify(body)), url);
    for (const flow of ['app', 'attack']) {
      await post('/flows', { name: flow });
      await post(`/flows/${flow}/trails`, { name: 't' });
    }
    const reporter = (JSON.parse((await post('/tokens', { name: 'ci', role: 'reporter' })).body) as { secret: string }).secret;
    await post('/attestation-types', { name: 'redos', schema: { type: 'object', properties: { s: { type: 'string', pattern: '^(a+)+$' } } } });
    admin.destroy();
    process.stderr.write(`generating a ${JUNIT_MIB} MiB JUnit report...\n`);
    const report = junit(JUNIT_MIB);

    process.stderr.write(`quiet baseline: ${SECONDS} s...\n`);
    const quiet = await legitimate(server, performance.now() + SECONDS * 1000);

    process.stderr.write(`under attack: ${SECONDS} s (regex data, a ${JUNIT_MIB} MiB report twice, ${SLOW} slow-body connections, bad tokens)...\n`);
    const until = performance.now() + SECONDS * 1000;
    const regex: AttackStats = { requests: 0, statuses: {} };
    const reports: AttackStats = { requests: 0, statuses: {} };
    const slow = { requests: 0, statuses: {}, closedByServer: 0 };
    const tokens: AttackStats = { requests: 0, statuses: {} };
    const attacks = Promise.all([
      ONLY.has('regex') && regexAttack(server, reporter, until, regex), ONLY.has('report') && reportAttack(server, reporter, report, reports),
      ONLY.has('slow') && slowBodyAttack(server, until, slow), ONLY.has('tokens') && badTokenAttack(server, until, tokens),
    ]);
    const attacked = await legitimate(server, until);
    await attacks;

    const rows = [summary('quiet baseline', quiet), summary('under attack', attacked)];
    console.log(table(['phase', 'requests', 'success %', 'p50 ms', 'p99 ms', 'max ms'], rows.map((r) => [r.phase, String(r.requests), String(r.success_pct), String(r.p50_ms), String(r.p99_ms), String(r.max_ms)])));
    const ratio = round(rows[1]!.p99_ms / rows[0]!.p99_ms, 2);
    console.log(`p99 under attack / quiet p99: ${ratio}x (target <= 5x); success ${rows[1]!.success_pct} % (target 100 %)`);
    if (attacked.errors.length > 0) console.log(`legitimate failures (first ${attacked.errors.length}): ${attacked.errors.join(' | ')}`);
    console.log(`attacks: regex ${JSON.stringify(regex.statuses)}; report ${JSON.stringify(reports.statuses)}; slow-body ${JSON.stringify(slow.statuses)}, closed by the server ${slow.closedByServer}; bad tokens ${JSON.stringify(tokens.statuses)}`);
    console.log('BENCH_JSON ' + JSON.stringify({ seconds: SECONDS, slow: SLOW, junit_mib: JUNIT_MIB, quiet: rows[0], attacked: rows[1], p99_ratio: ratio, attacks: { regex: regex.statuses, report: reports.statuses, slow: { ...slow.statuses, closed_by_server: slow.closedByServer }, bad_tokens: tokens.statuses } }));
  } finally {
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
