import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { turboRemoteVsLocal } from './runner-turbo-remote.js';

// `npm run bench:runner` (issue #6 item 10): a generated 10-layer DAG of 200 trivial steps, each writing one
// output file. Warm run (everything cached) of `evident run` through the real CLI process, side by side
// with `turbo run` (the same DAG as 200 npm workspace packages) and a `make -j` no-op; then a cold run's
// per-step overhead over a bare `sh -c`. Wall time and the children's CPU time (bash `times`) are both
// printed: the machine is shared, and CPU time is the steadier figure under load.

const LAYERS = 10;
const WIDTH = 20;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const evidentBin = path.join(root, 'dist', 'cli', 'evident.js');
const turboBin = path.join(root, 'node_modules', '.bin', 'turbo');

const name = (l: number, j: number) => `s${l}_${j}`;
const needsOf = (l: number, j: number) => (l === 0 ? [] : [name(l - 1, j), name(l - 1, (j + 1) % WIDTH)]);
const steps = Array.from({ length: LAYERS }, (_, l) => Array.from({ length: WIDTH }, (_, j) => ({ l, j, name: name(l, j), needs: needsOf(l, j) }))).flat();

function writeEvident(dir: string): void {
  const lines = ['version: "0.1"', 'name: bench', 'steps:'];
  for (const s of steps) lines.push(`  ${s.name}: { run: "mkdir -p out && echo ${s.name} > out/${s.name}.txt", outputs: [out/${s.name}.txt]${s.needs.length ? `, needs: [${s.needs.join(', ')}]` : ''} }`);
  fs.writeFileSync(path.join(dir, 'attest.yaml'), lines.join('\n') + '\n');
}

function writeTurbo(dir: string): void {
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'bench', private: true, packageManager: 'npm@10.9.0', workspaces: ['packages/*'] }, null, 2));
  fs.writeFileSync(path.join(dir, 'turbo.json'), JSON.stringify({ $schema: 'https://turbo.build/schema.json', tasks: { build: { dependsOn: ['^build'], outputs: ['out.txt'] } } }, null, 2));
  const lock: Record<string, unknown> = { '': { name: 'bench', workspaces: ['packages/*'] } };
  for (const s of steps) {
    const pkg = path.join(dir, 'packages', s.name);
    fs.mkdirSync(pkg, { recursive: true });
    const dependencies = Object.fromEntries(s.needs.map((n) => [n, '*']));
    fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: s.name, version: '1.0.0', scripts: { build: `echo ${s.name} > out.txt` }, dependencies }, null, 2));
    lock[`packages/${s.name}`] = { name: s.name, version: '1.0.0', dependencies };
    lock[`node_modules/${s.name}`] = { resolved: `packages/${s.name}`, link: true };
  }
  fs.writeFileSync(path.join(dir, 'package-lock.json'), JSON.stringify({ name: 'bench', lockfileVersion: 3, requires: true, packages: lock }, null, 2));
  // A git repository ignoring outputs and turbo's logs, as a real one is: otherwise turbo hashes every
  // file of a package, so each run's packages/*/.turbo/turbo-build.log changes the next run's task
  // hashes, and a "warm" run misses.
  fs.writeFileSync(path.join(dir, '.gitignore'), 'out.txt\n.turbo\nnode_modules\n');
  const git = (...args: string[]) => spawnSync('git', args, { cwd: dir, stdio: 'ignore' });
  git('init', '-q', '.');
  git('add', '-A');
  git('-c', 'user.email=bench@example.com', '-c', 'user.name=bench', 'commit', '-qm', 'bench');
}

function writeMake(dir: string): void {
  const rules = steps.map((s) => `out/${s.name}.txt: ${s.needs.map((n) => `out/${n}.txt`).join(' ')}\n\t@mkdir -p out && echo ${s.name} > $@`);
  fs.writeFileSync(path.join(dir, 'Makefile'), `all: ${steps.map((s) => `out/${s.name}.txt`).join(' ')}\n\n${rules.join('\n')}\n`);
}

interface Sample { wallMs: number; cpuMs: number; ok: boolean }

/** Runs `command` under bash and reads the children's user+sys time from `times`. */
function measure(command: string, cwd: string, env: NodeJS.ProcessEnv = {}): Sample {
  const started = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', `${command} >/dev/null 2>/dev/null; rc=$?; times; exit $rc`], { cwd, env: { ...process.env, ...env }, encoding: 'utf8' });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const children = r.stdout.trim().split('\n').at(-1)!.match(/(\d+)m([\d.]+)s/g) ?? [];
  const cpuMs = children.reduce((sum, t) => {
    const [, m, s] = /(\d+)m([\d.]+)s/.exec(t)!;
    return sum + (Number(m) * 60 + Number(s)) * 1000;
  }, 0);
  return { wallMs, cpuMs, ok: r.status === 0 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
function repeat(label: string, command: string, cwd: string, env?: NodeJS.ProcessEnv): { label: string; wall: number; cpu: number } | undefined {
  const samples: Sample[] = [];
  for (let i = 0; i < RUNS; i++) samples.push(measure(command, cwd, env));
  if (samples.some((s) => !s.ok)) {
    console.log(`${label.padEnd(28)} FAILED (${command})`);
    return undefined;
  }
  const row = { label, wall: median(samples.map((s) => s.wallMs)), cpu: median(samples.map((s) => s.cpuMs)) };
  console.log(`${label.padEnd(28)} wall ${row.wall.toFixed(0).padStart(6)} ms   cpu ${row.cpu.toFixed(0).padStart(6)} ms   (median of ${RUNS})`);
  return row;
}

/** `BENCH_ONLY=turbo-remote`: only the turbo section (remote cache at Evident vs turbo's local cache). */
async function turboRemoteOnly(): Promise<void> {
  const tu = fs.mkdtempSync(path.join(os.tmpdir(), 'evident-bench-turbo-'));
  writeTurbo(tu);
  const turboEnv = { TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1', TURBO_NO_UPDATE_NOTIFIER: '1' };
  console.log(`turbo only: ${steps.length} packages; ${os.availableParallelism()} CPUs, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  // No separate cold run: the section's own first run (--force, remote on) fills both caches.
  await turboRemoteVsLocal(evidentBin, turboBin, tu, turboEnv, repeat, measure);
  console.log(`load after: ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  fs.rmSync(tu, { recursive: true, force: true });
}

async function main(): Promise<void> {
  if (!fs.existsSync(evidentBin)) throw new Error(`${evidentBin} missing: npm run build first`);
  if (process.env.BENCH_ONLY === 'turbo-remote') return turboRemoteOnly();
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'evident-bench-runner-'));
  const [ev, tu, mk] = ['evident', 'turbo', 'make'].map((d) => path.join(base, d)) as [string, string, string];
  for (const d of [ev, tu, mk]) fs.mkdirSync(d);
  writeEvident(ev);
  writeTurbo(tu);
  writeMake(mk);
  console.log(`DAG: ${LAYERS} layers x ${WIDTH} = ${steps.length} steps, each writing one file; ${os.availableParallelism()} CPUs, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const evident = `node ${evidentBin} run`;
  const turboEnv = { TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1', TURBO_NO_UPDATE_NOTIFIER: '1' };

  // Fill the caches once; then, once its files are older than the racy-git margin (2 s, stat-memo.ts), one
  // full warm run, which records the run for replay (docs/runner.md "Replaying an unchanged run").
  if (!measure(evident, ev).ok) throw new Error('the first evident run failed');
  const filled = Date.now();
  const haveTurbo = fs.existsSync(turboBin);
  const turboCmd = `${turboBin} run build --output-logs=none`;
  const turboOk = haveTurbo && measure(turboCmd, tu, turboEnv).ok;
  if (haveTurbo && !turboOk) console.log('turbo: the first run failed; left out');
  measure('make -j', mk);

  const wait = 2100 - (Date.now() - filled);
  if (wait > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, wait);
  if (!measure(evident, ev).ok) throw new Error('the second evident run failed');
  const replayFile = path.join(ev, '.evident/cache/metadata/replay.json');
  // A full run writes the replay file anew (new times); replays leave it alone.
  const identity = () => {
    const st = fs.statSync(replayFile, { throwIfNoEntry: false });
    return st && `${st.ino}:${st.mtimeMs}:${st.ctimeMs}`;
  };
  const recorded = identity();

  console.log('\nWarm run (everything cached / up to date):');
  const version = repeat('evident --version', `node ${evidentBin} --version`, ev);
  const warm = repeat('evident run (warm)', evident, ev);
  const replayed = recorded !== undefined && identity() === recorded;
  const rows = [
    version,
    warm,
    repeat('evident run (warm, no replay)', evident, ev, { EVIDENT_NO_REPLAY: '1' }),
    turboOk ? repeat('turbo run build (warm)', turboCmd, tu, turboEnv) : undefined,
    repeat('make -j (no-op)', 'make -j', mk),
  ];
  console.log(replayed ? 'note: "evident run (warm)" was replayed; "no replay" is the full warm run (EVIDENT_NO_REPLAY=1)' : 'note: "evident run (warm)" was not replayed: it ran in full');
  const [, evRow, fullRow, tuRow, mkRow] = rows;
  if (evRow && tuRow) console.log(`evident / turbo: wall ${(evRow.wall / tuRow.wall).toFixed(2)}x, cpu ${(evRow.cpu / tuRow.cpu).toFixed(2)}x  (target: <= 1)`);
  if (fullRow && tuRow) console.log(`evident (no replay) / turbo: wall ${(fullRow.wall / tuRow.wall).toFixed(2)}x, cpu ${(fullRow.cpu / tuRow.cpu).toFixed(2)}x`);
  if (evRow && mkRow) console.log(`evident / make:  wall ${(evRow.wall / mkRow.wall).toFixed(2)}x, cpu ${(evRow.cpu / mkRow.cpu).toFixed(2)}x`);

  console.log('\nCold run (empty cache), one job at a time, against the same 200 commands through sh -c:');
  const script = steps.map((s) => `sh -c 'mkdir -p out && echo ${s.name} > out/${s.name}.txt'`).join('\n');
  fs.writeFileSync(path.join(ev, 'bare.sh'), script + '\n');
  const bare = repeat('200 x sh -c (bare)', 'sh bare.sh', ev);
  const cold = repeat('evident run --jobs 1 (cold)', `rm -rf .evident out && ${evident} --jobs 1`, ev);
  const start = rows[0];
  if (bare && cold && start) {
    const per = (a: number, b: number, s: number) => ((a - b - s) / steps.length).toFixed(2);
    console.log(`per-step overhead over sh -c (start-up excluded): wall ${per(cold.wall, bare.wall, start.wall)} ms, cpu ${per(cold.cpu, bare.cpu, start.cpu)} ms  (target: < 10 ms)`);
  }
  if (turboOk) await turboRemoteVsLocal(evidentBin, turboBin, tu, turboEnv, repeat, measure);
  fs.rmSync(base, { recursive: true, force: true });
}

await main();
