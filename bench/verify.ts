// `npm run bench:verify` (issue #21): `evident verify log --full` against a real server process, at a size
// given on the command line, printing the verifier's peak RSS and entries per second against the targets
// (≤ 256 MB RSS at any size, ≥ 100,000 entries/s).
//
//   node dist/bench/verify.js [--size 1000000] [--data-dir DIR] [--runs 1] [--subjects none|artifact] [--no-wait]
//
// The first run starts once the server has loaded its subject maps (it says so at `info`); `--no-wait` starts
// it at once, while the server is still loading them.
// `--runs 0` fills and stops (a mixed log: fill to one size with `--subjects artifact`, then to a larger one
// with `none`, in the same DIR).
// `--subjects artifact`: every entry reports a new artifact in one of 50 trails, so the verifier recomputes a
// subject map with one leaf per entry (its worst case for memory); `none` (default): entries about nothing.
//
// The log is filled once through the LogService (the server's own append path, ~1 KB entries) into DIR and
// reused by later runs with the same DIR (a larger --size appends the difference). Prints `BENCH_JSON {...}` last.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LogService, loadLogKey } from '../src/services/index.js';
import { openStore } from '../src/store/index.js';
import { benchArgs } from './bench-args.js';

const { values } = benchArgs(import.meta.url, {
  options: { size: { type: 'string', default: '1000000' }, 'data-dir': { type: 'string' }, runs: { type: 'string', default: '1' }, subjects: { type: 'string', default: 'none' }, 'no-wait': { type: 'boolean', default: false } },
});
if (values.subjects !== 'none' && values.subjects !== 'artifact') throw new Error('--subjects is none or artifact');
const size = Number(values.size);
const dataDir = values['data-dir'] ?? fs.mkdtempSync(path.join(os.tmpdir(), 'evident-bench-verify-'));
const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../cli/evident.js');
const ORG = 'default';
const TARGET_RSS_MB = 256;
const TARGET_RATE = 100_000;

interface Server { url: string; token?: string; verifierKey: string; stop(): Promise<void>; mapsLoaded: Promise<number> }

function startServer(): Promise<Server> {
  return new Promise((resolve, reject) => {
    // `info`: the server says when its subject maps are loaded (one line; requests are not logged at info).
    const child = spawn(process.execPath, [CLI, '--output', 'json', 'server', '--port', '0', '--log-level', 'info', '--data-dir', dataDir], {
      env: { PATH: process.env.PATH ?? '', EVIDENT_NO_DEMO: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let loaded!: (ms: number) => void;
    const mapsLoaded = new Promise<number>((resolve) => (loaded = resolve));
    child.stderr.on('data', (d) => {
      err += d;
      const m = /"ms":(\d+)[^\n]*"msg":"subject maps loaded"/.exec(err);
      if (m) loaded(Number(m[1]));
      // A load that failed is said at `warn` instead: the runs start then too (the server serves the tiles).
      else if (err.includes('loading the subject maps at start failed')) loaded(Number.NaN);
      if (err.length > 1_000_000) err = err.slice(-100_000);
    });
    child.stdout.on('data', (d) => {
      out += d;
      try {
        const info = JSON.parse(out);
        resolve({
          url: info.url, token: info.first_admin?.token, verifierKey: info.verifier_key, mapsLoaded,
          stop: () => new Promise((done) => { child.once('exit', () => done()); child.kill('SIGTERM'); }),
        });
      } catch {
        // not the whole report yet
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}: ${err}`)));
  });
}

async function fill(): Promise<number> {
  const store = await openStore({ dataDir });
  try {
    const log = new LogService(store, loadLogKey({ dataDir }).signer);
    const org = (await store.orgs.get(ORG))!;
    let have = await log.size(org);
    const started = performance.now();
    const from = have;
    while (have < size) {
      const batch = Math.min(5000, size - have);
      await Promise.all(Array.from({ length: batch }, (_, i) => {
        const n = have + i;
        const fingerprint = createHash('sha256').update(`verify:${n}`).digest('hex');
        if (values.subjects === 'artifact') {
          return log.append(org, 'artifact.reported', { flow: 'bench', trail: `t${n % 50}`, artifact: `service-${n % 97}`, fingerprint, payload: `${fingerprint.slice(0, 16)}/`.repeat(50) });
        }
        return log.append(org, 'bench.record', { artifact: { name: `service-${n % 97}`, fingerprint }, payload: `${fingerprint.slice(0, 16)}/`.repeat(53) });
      }));
      have += batch;
      if (have % 100_000 < batch) console.error(`filled ${have}/${size} (${Math.round((have - from) / ((performance.now() - started) / 1000))}/s)`);
    }
    return have;
  } finally {
    await store.close();
  }
}

/** Runs the CLI, sampling its peak resident set (VmHWM) from /proc while it runs. */
function verify(server: Server, home: string): Promise<{ ms: number; rssMb: number; code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [CLI, 'verify', 'log', '--full', '--key', server.verifierKey], {
      env: { PATH: process.env.PATH ?? '', HOME: home, EVIDENT_HOST: server.url, EVIDENT_ORG: ORG, EVIDENT_API_TOKEN: token },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let peakKb = 0;
    const sample = () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
      } catch {
        // exited
      }
    };
    const timer = setInterval(sample, 50);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(timer);
      resolve({ ms: performance.now() - started, rssMb: peakKb / 1024, code: code ?? -1, stdout, stderr });
    });
  });
}

const tokenFile = path.join(dataDir, 'bench-token.json');
let token: string;
if (fs.existsSync(tokenFile)) token = JSON.parse(fs.readFileSync(tokenFile, 'utf8')).token;
else {
  const first = await startServer();
  await first.stop();
  token = first.token!;
  fs.writeFileSync(tokenFile, JSON.stringify({ token }));
}
const fillStart = performance.now();
const entries = await fill();
console.error(`log of ${entries} entries in ${dataDir} (${Math.round((performance.now() - fillStart) / 1000)} s to fill)`);

const server = await startServer();
const results: { ms: number; rssMb: number; rate: number }[] = [];
try {
  // A server loads its subject maps when it starts (O(subjects), and a log about no subject is read whole:
  // 36–43 s of a core for this bench's 5M entries), serving requests meanwhile: a verify started at once
  // shares the CPU with that load.
  // `--no-wait` measures that; by default the first run starts after it.
  if (!values['no-wait'] && Number(values.runs) > 0) {
    const ms = await server.mapsLoaded;
    console.log(Number.isNaN(ms) ? 'the server could not load its subject maps (see its warning); the runs start now' : `the server loaded its subject maps in ${(ms / 1000).toFixed(1)} s; the runs start now`);
  }
  for (let r = 0; r < Number(values.runs); r++) {
    // A fresh home each run: the first checkpoint seen, so the run is the full check alone.
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'evident-bench-home-'));
    const res = await verify(server, home);
    fs.rmSync(home, { recursive: true, force: true });
    if (res.code !== 0) throw new Error(`verify log --full exited ${res.code}: ${res.stderr}${res.stdout}`);
    const rate = entries / (res.ms / 1000);
    results.push({ ms: res.ms, rssMb: res.rssMb, rate });
    console.log(`verify log --full, ${entries} entries: ${(res.ms / 1000).toFixed(1)} s, ${Math.round(rate)} entries/s (target ≥ ${TARGET_RATE}: ${(rate / TARGET_RATE).toFixed(2)}×), peak RSS ${res.rssMb.toFixed(0)} MB (target ≤ ${TARGET_RSS_MB})`);
  }
} finally {
  await server.stop();
}
if (results.length === 0) process.exit(0); // --runs 0: fill only
const best = results.reduce((a, b) => (b.rate > a.rate ? b : a));
console.log(`load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}, ${os.availableParallelism()} CPUs`);
console.log(`BENCH_JSON ${JSON.stringify({ bench: 'verify', entries, runs: results, best_rate: Math.round(best.rate), peak_rss_mb: Math.round(Math.max(...results.map((r) => r.rssMb))) })}`);
