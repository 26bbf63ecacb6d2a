// `npm run bench:cli` (issue #21): what a networked CLI command costs to start, side by side with
// `node -e 0` and `evident --version`, against a real server process on a temp data dir (loopback). Target: a
// networked command within 1.3× of `node -e 0` plus the request itself. The request itself is timed as a
// bare node:http request of the same URL from a fresh process (`node -e <request>`), so each ratio is
// command / its bare request (both pay node's start-up and the same requests; the difference is the CLI's own).
// Commands: `log checkpoint`, `list flows`, `get artifact`, and the pipeline steps `begin trail`, `get trail`,
// `attest artifact`, `attest generic`, `attest junit` (a flow, a trail and an artifact are made first). A write's
// bare request sends the same method and JSON body; `attest junit`'s, the same two requests (the results file
// as multipart, then the attestation naming its digest).
//
//   node dist/bench/cli.js [--runs 15] [--baseline OTHER/dist/cli/evident.cjs] [--node OTHER-NODE]
//
// --baseline runs another build's CLI (e.g. the previous commit's, built in a detached worktree) interleaved
// with this one, against the same server, for a before/after on the same load.
// Each figure: median and p90 of wall time, and median and mean CPU (user + system; on a shared machine CPU time
// is steadier than wall time). CPU is the child's rusage from wait4 at µs resolution, through python3 when
// present (the bench's ratios divide by a bare GET of 20–90 ms, so /usr/bin/time's 10 ms ticks moved them by a
// tenth to a third); else /usr/bin/time's, in 10 ms ticks (then the mean says more than the median). Prints
// `BENCH_JSON {...}` last.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mean, percentile, round, table } from './stats.js';
import { benchArgs } from './bench-args.js';

const { values } = benchArgs(import.meta.url, { options: { runs: { type: 'string', default: '15' }, baseline: { type: 'string' }, node: { type: 'string' } } });
// The node that runs the timed commands (another version's binary); the server runs on this one (native modules).
const NODE = values.node ? path.resolve(values.node) : process.execPath;
const runs = Number(values.runs);
const BASELINE = values.baseline ? path.resolve(values.baseline) : undefined;
// The bin (package.json): the CommonJS launcher (src/cli/launcher.ts).
const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../cli/evident.cjs');
const TIME = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
// Runs argv[1:] and reports its wall time and rusage (wait4: µs CPU, max RSS in KiB) as `BENCH_TIME` on stderr.
const WAIT4 = [
  'import os, sys, time',
  't = time.perf_counter()',
  'pid = os.posix_spawnp(sys.argv[1], sys.argv[1:], dict(os.environ))',
  '_, status, ru = os.wait4(pid, 0)',
  'wall = time.perf_counter() - t',
  "sys.stderr.write('BENCH_TIME %.6f %.6f %d %.6f\\n' % (ru.ru_utime, ru.ru_stime, ru.ru_maxrss, wall))",
  'sys.exit(os.waitstatus_to_exitcode(status))',
].join('\n');
const PYTHON = spawnSync('python3', ['-c', 'import os; os.wait4; os.posix_spawnp'], { stdio: 'ignore' }).status === 0 ? 'python3' : undefined;
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
  const [cmd, argv] = PYTHON ? [PYTHON, ['-c', WAIT4, NODE, ...args]] : TIME ? [TIME, ['-f', 'BENCH_TIME %U %S %M', NODE, ...args]] : [NODE, args];
  const res = spawnSync(cmd, argv, { cwd: workDir, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });
  const m = /BENCH_TIME ([\d.]+) ([\d.]+) (\d+)(?: ([\d.]+))?/.exec(res.stderr);
  // Through python3, wall time is the child's alone (python's own start-up is not the command's).
  const wallMs = m?.[4] !== undefined ? Number(m[4]) * 1000 : performance.now() - started;
  if (res.status !== 0) throw new Error(`${args.join(' ')} exited ${res.status}: ${res.stderr}`);
  return { wallMs, cpuMs: m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN, rssMb: m ? Number(m[3]) / 1024 : NaN };
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'evident-bench-cli-'));
// Every command runs in an empty directory outside any git checkout: `begin trail` and `attest artifact` take
// their commit from git when CI's variables do not give it (flags.ts commitDefaults), and the bench's own checkout
// would have them run three git processes; here they run one (`git rev-parse HEAD`, which fails).
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'evident-bench-cli-cwd-'));
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'evident-bench-cli-home-'));
const server = await startServer(dataDir);
const env = { HOME: home, EVIDENT_HOST: server.url, EVIDENT_ORG: 'default', EVIDENT_API_TOKEN: server.token };
const FP = 'b'.repeat(64);
for (const args of [['create', 'flow', 'bench'], ['begin', 'trail', 't1', '--flow', 'bench'], ['attest', 'artifact', '--fingerprint', FP, '--name', 'app', '--flow', 'bench', '--trail', 't1']]) {
  once([CLI, ...args], env);
}
const resultsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'evident-bench-cli-junit-'));
fs.writeFileSync(path.join(resultsDir, 'junit.xml'), '<testsuite name="bench" tests="2" failures="0" errors="0" skipped="0"><testcase classname="b" name="one"/><testcase classname="b" name="two"/></testsuite>\n');

/** One request of a bare run: a path under the org, with a JSON body (`$digest`: the last upload's) or a file as multipart. */
interface Step { m?: string; p: string; json?: unknown; file?: string }
// node's start-up plus the requests themselves, in sequence, each answer read whole (as the CLI reads it).
const BARE = `const h=require('node:http'),s=JSON.parse(process.env.BENCH_REQ);let d;const go=(i)=>{if(i>=s.length)return;const t=s[i];let b,c;if(t.file){const B='bench'+Date.now(),f=require('node:fs').readFileSync(t.file);b=Buffer.concat([Buffer.from('--'+B+'\\r\\ncontent-disposition: form-data; name="file"; filename="junit.xml"\\r\\ncontent-type: application/octet-stream\\r\\n\\r\\n'),f,Buffer.from('\\r\\n--'+B+'--\\r\\n')]);c='multipart/form-data; boundary='+B}else if(t.json){b=JSON.stringify(t.json).replace('$digest',d);c='application/json'}const r=h.request(process.env.EVIDENT_HOST+'/api/v1/orgs/default/'+t.p,{method:t.m||'GET',headers:{authorization:'Bearer '+process.env.EVIDENT_API_TOKEN,...(c?{'content-type':c}:{})}},(res)=>{let x='';res.setEncoding('utf8');res.on('data',(y)=>{x+=y});res.on('end',()=>{if(res.statusCode>=300){console.error(res.statusCode,x);process.exit(1)}if(t.file)d=JSON.parse(x).items[0].digest;go(i+1)})});r.end(b)};go(0)`;
interface Case { name: string; args: string[]; bare?: string; env?: Record<string, string> }
const TRAIL = 'flows/bench/trails/t1';
const NETWORKED: [string, string[], Step[]][] = [
  ['log checkpoint', ['log', 'checkpoint'], [{ p: 'log/checkpoint' }]],
  ['list flows', ['list', 'flows'], [{ p: 'flows?limit=100' }]],
  ['get artifact', ['get', 'artifact', `bench@${FP}`], [{ p: `artifacts/bench%40${FP}` }]],
  ['begin trail', ['begin', 'trail', 't1', '--flow', 'bench'], [{ m: 'POST', p: 'flows/bench/trails', json: { name: 't1' } }]],
  ['get trail', ['get', 'trail', 't1', '--flow', 'bench'], [{ p: TRAIL }]],
  ['attest artifact', ['attest', 'artifact', '--fingerprint', FP, '--name', 'app', '--flow', 'bench', '--trail', 't1'], [{ m: 'POST', p: `${TRAIL}/artifacts`, json: { name: 'app', fingerprint: FP } }]],
  ['attest generic', ['attest', 'generic', '--name', 'bench-check', '--flow', 'bench', '--trail', 't1'], [{ m: 'POST', p: `${TRAIL}/attestations/generic`, json: { name: 'bench-check', compliant: true } }]],
  ['attest junit', ['attest', 'junit', '--results-dir', resultsDir, '--name', 'unit', '--flow', 'bench', '--trail', 't1'], [
    { m: 'POST', p: 'evidence', file: path.join(resultsDir, 'junit.xml') },
    { m: 'POST', p: `${TRAIL}/attestations/junit`, json: { name: 'unit', reports: ['$digest'] } },
  ]],
];
const cases: Case[] = [
  { name: 'node -e 0', args: ['-e', '0'] },
  ...NETWORKED.map(([name, , steps]) => ({ name: `bare request (${name})`, args: ['-e', BARE], env: { BENCH_REQ: JSON.stringify(steps) } })),
];
for (const [label, cli] of [['', CLI], ...(BASELINE ? [['baseline ', BASELINE]] : [])] as [string, string][]) {
  cases.push({ name: `${label}evident --version`, args: [cli, '--version'] });
  for (const [name, args] of NETWORKED) cases.push({ name: `${label}evident ${name}`, args: [cli, ...args], bare: `bare request (${name})` });
}
const nodeVersion = spawnSync(NODE, ['--version'], { encoding: 'utf8' }).stdout.trim();
const samples = new Map<string, Sample[]>(cases.map(({ name }) => [name, []]));
try {
  for (const c of cases) once(c.args, { ...env, ...c.env }); // warm the page cache; every case must succeed
  // Interleaved, so that load on a shared machine falls on every case alike.
  for (let r = 0; r < runs; r++) for (const c of cases) samples.get(c.name)!.push(once(c.args, { ...env, ...c.env }));
} finally {
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(resultsDir, { recursive: true, force: true });
  fs.rmSync(workDir, { recursive: true, force: true });
  fs.rmSync(home, { recursive: true, force: true });
}

const med = (name: string, key: keyof Sample) => percentile(samples.get(name)!.map((s) => s[key]), 50);
const avg = (name: string, key: keyof Sample) => mean(samples.get(name)!.map((s) => s[key]));
// The spread of the runs (sample standard deviation): on a shared machine, what a difference of means must exceed.
const sd = (name: string, key: keyof Sample) => {
  const xs = samples.get(name)!.map((s) => s[key]);
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / Math.max(1, xs.length - 1));
};
const rows = cases.map(({ name }) => {
  const s = samples.get(name)!;
  return [name, String(round(med(name, 'wallMs'))), String(round(percentile(s.map((x) => x.wallMs), 90))), String(round(med(name, 'cpuMs'))), String(round(avg(name, 'cpuMs'))), String(round(sd(name, 'cpuMs'))), String(round(med(name, 'rssMb')))];
});
console.log(table(['command', 'wall p50 ms', 'wall p90 ms', 'CPU p50 ms', 'CPU mean ms', 'CPU sd ms', 'RSS p50 MB'], rows));
const ratios: Record<string, { wall: number; cpu: number }> = {};
for (const c of cases.filter((x) => x.bare)) {
  const wall = med(c.name, 'wallMs') / med(c.bare!, 'wallMs');
  const cpu = avg(c.name, 'cpuMs') / avg(c.bare!, 'cpuMs');
  ratios[c.name] = { wall: round(wall, 2), cpu: round(cpu, 2) };
  console.log(`${c.name} / (node -e 0 + the request): ${wall.toFixed(2)}× wall (medians), ${cpu.toFixed(2)}× CPU (means) (target ≤ ${TARGET}×)`);
}
console.log(`load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}, ${os.availableParallelism()} CPUs, node ${nodeVersion}, CPU from ${PYTHON ? 'wait4 (µs)' : TIME ? '/usr/bin/time (10 ms ticks)' : 'nowhere'}`);
console.log(`BENCH_JSON ${JSON.stringify({ bench: 'cli', runs, node: nodeVersion, medians: Object.fromEntries(cases.map(({ name: n }) => [n, { wall_ms: round(med(n, 'wallMs')), cpu_ms: round(med(n, 'cpuMs')), cpu_mean_ms: round(avg(n, 'cpuMs')), cpu_sd_ms: round(sd(n, 'cpuMs')), rss_mb: round(med(n, 'rssMb')) }])), ratios })}`);
