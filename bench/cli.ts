// `npm run bench:cli` (issue #21): what a networked CLI command costs to start, side by side with
// `node -e 0` and `evident --version`, against a real server process on a temp data dir. Target: `evident
// log checkpoint` within 1.3× of `node -e 0` plus the request itself. The request itself is timed as a bare
// node:http GET of the same URL from a fresh process (`node -e <get>`), so the ratio is
// checkpoint / bare-request (both pay node's start-up and one request; the difference is the CLI's own).
//
//   node dist/bench/cli.js [--runs 15]
//
// Each figure: median and p90 of wall time, and median CPU (user + system, from /usr/bin/time when present:
// on a shared machine CPU time is steadier than wall time). Prints `BENCH_JSON {...}` last.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { percentile, round, table } from './stats.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' } } });
const runs = Number(values.runs);
const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../cli/evident.js');
const TIME = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const TARGET = 1.3;

function startServer(dataDir: string): Promise<{ url: string; token: string; stop(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, '--output', 'json', 'server', '--port', '0', '--log-level', 'warn', '--data-dir', dataDir], {
      env: { PATH: process.env.PATH ?? '', EVIDENT_NO_DEMO: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      try {
        const info = JSON.parse(out);
        resolve({ url: info.url, token: info.first_admin.token, stop: () => new Promise((done) => { child.once('exit', () => done()); child.kill('SIGTERM'); }) });
      } catch {
        // not the whole report yet
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
}

interface Sample { wallMs: number; cpuMs: number; rssMb: number }

function once(args: string[], env: Record<string, string>): Sample {
  const started = performance.now();
  const cmd = TIME ? TIME : process.execPath;
  const argv = TIME ? ['-f', 'BENCH_TIME %U %S %M', process.execPath, ...args] : args;
  const res = spawnSync(cmd, argv, { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });
  const wallMs = performance.now() - started;
  if (res.status !== 0) throw new Error(`${args.join(' ')} exited ${res.status}: ${res.stderr}`);
  const m = /BENCH_TIME ([\d.]+) ([\d.]+) (\d+)/.exec(res.stderr);
  return { wallMs, cpuMs: m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN, rssMb: m ? Number(m[3]) / 1024 : NaN };
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'evident-bench-cli-'));
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'evident-bench-cli-home-'));
const server = await startServer(dataDir);
const env = { HOME: home, EVIDENT_HOST: server.url, EVIDENT_ORG: 'default', EVIDENT_API_TOKEN: server.token };
const get = `require('node:http').get(process.env.EVIDENT_HOST+'/api/v1/orgs/default/log/checkpoint',{headers:{authorization:'Bearer '+process.env.EVIDENT_API_TOKEN}},(r)=>{r.resume();r.on('end',()=>{})})`;
const cases: [string, string[]][] = [
  ['node -e 0', ['-e', '0']],
  ['bare request (node -e http.get)', ['-e', get]],
  ['evident --version', [CLI, '--version']],
  ['evident log checkpoint', [CLI, 'log', 'checkpoint']],
];
const samples = new Map<string, Sample[]>(cases.map(([name]) => [name, []]));
try {
  for (const [, args] of cases) once(args, env); // warm the page cache
  // Interleaved, so that load on a shared machine falls on every case alike.
  for (let r = 0; r < runs; r++) for (const [name, args] of cases) samples.get(name)!.push(once(args, env));
} finally {
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(home, { recursive: true, force: true });
}

const med = (name: string, key: keyof Sample) => percentile(samples.get(name)!.map((s) => s[key]), 50);
const rows = cases.map(([name]) => {
  const s = samples.get(name)!;
  return [name, String(round(med(name, 'wallMs'))), String(round(percentile(s.map((x) => x.wallMs), 90))), String(round(med(name, 'cpuMs'))), String(round(med(name, 'rssMb')))];
});
console.log(table(['command', 'wall p50 ms', 'wall p90 ms', 'CPU p50 ms', 'RSS p50 MB'], rows));
const wallRatio = med('evident log checkpoint', 'wallMs') / med('bare request (node -e http.get)', 'wallMs');
const cpuRatio = med('evident log checkpoint', 'cpuMs') / med('bare request (node -e http.get)', 'cpuMs');
console.log(`evident log checkpoint / (node -e 0 + the request): ${wallRatio.toFixed(2)}× wall, ${cpuRatio.toFixed(2)}× CPU (target ≤ ${TARGET}×)`);
console.log(`load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}, ${os.availableParallelism()} CPUs`);
console.log(`BENCH_JSON ${JSON.stringify({ bench: 'cli', runs, medians: Object.fromEntries(cases.map(([n]) => [n, { wall_ms: round(med(n, 'wallMs')), cpu_ms: round(med(n, 'cpuMs')), rss_mb: round(med(n, 'rssMb')) }])), wall_ratio: round(wallRatio, 2), cpu_ratio: round(cpuRatio, 2) })}`);
