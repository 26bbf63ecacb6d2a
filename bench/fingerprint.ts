// `npm run bench:fingerprint`: our fingerprints beside a C baseline, timed in the same run (issue 3, item 8).
//
//   file: fingerprintFile(1 GiB)  beside  openssl dgst -sha256 FILE
//   tree: fingerprintDir(10,000 files of 100 B..8 KB)  beside  sh -c 'tar cf - DIR | openssl dgst -sha256'
//
//   node dist/bench/fingerprint.js [--reps N] [--file-mib M] [--files F] [--keep DIR]
//
// Both sides read from the page cache: each is run once before timing (the generated data is fresh in the
// cache anyway, but the first run also pays one-off costs: for us, starting the hashing worker threads,
// which the process then keeps while busy). Timings alternate ours/baseline and report the median.
// Targets: file throughput >= 90% of openssl's; tree time <= 1.5x tar|openssl. Ours is timed in-process;
// also shown, for honesty: the first call in a fresh process (workers started cold) and the whole CLI
// process, whose start-up (node, module loading) is not fingerprinting.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fingerprintDir, fingerprintFile } from '../src/services/index.js';
import { percentile, round, table } from './stats.js';
import { benchArgs } from './bench-args.js';

const { values: args } = benchArgs(import.meta.url, {
  options: {
    reps: { type: 'string', default: '7' },
    'file-mib': { type: 'string', default: '1024' },
    files: { type: 'string', default: '10000' },
    keep: { type: 'string' },
  },
});
const REPS = Number(args.reps);
const FILE_BYTES = Number(args['file-mib']) * 1024 * 1024;
const FILES = Number(args.files);
const FILE_TARGET = 0.9;
const TREE_TARGET = 1.5;

function sh(command: string): { ms: number; out: string } {
  const start = performance.now();
  const r = spawnSync('sh', ['-c', command], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const ms = performance.now() - start;
  if (r.status !== 0) throw new Error(`${command} failed: ${r.stderr}`);
  return { ms, out: r.stdout };
}

async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** Deterministic sizes (xorshift), random contents. */
function generateTree(root: string): number {
  let seed = 0x9e3779b9;
  const next = () => ((seed ^= seed << 13), (seed ^= seed >>> 17), (seed ^= seed << 5), (seed >>> 0) / 2 ** 32);
  let bytes = 0;
  for (let i = 0; i < FILES; i++) {
    const dir = path.join(root, `pkg-${String(Math.floor(i / 100)).padStart(3, '0')}`, `mod-${Math.floor(i / 10) % 10}`);
    if (i % 10 === 0) fs.mkdirSync(dir, { recursive: true });
    const size = 100 + Math.floor(next() * (8192 - 100 + 1));
    fs.writeFileSync(path.join(dir, `file-${i}.dat`), randomBytes(size));
    bytes += size;
  }
  return bytes;
}

function generateFile(file: string): void {
  const fd = fs.openSync(file, 'w');
  const chunk = randomBytes(16 << 20);
  for (let written = 0; written < FILE_BYTES; written += chunk.length) {
    chunk[0] = written & 0xff; // no two chunks alike
    fs.writeSync(fd, chunk, 0, Math.min(chunk.length, FILE_BYTES - written));
  }
  fs.closeSync(fd);
}

const median = (xs: number[]) => percentile(xs, 50);
const ms = (x: number) => `${round(x, 0)} ms`;

async function main(): Promise<void> {
  const work = args.keep ?? fs.mkdtempSync(path.join(os.tmpdir(), 'evident-bench-fp-'));
  const treeDir = path.join(work, 'tree');
  const bigFile = path.join(work, 'big.bin');
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' }).stdout.trim();
  console.log(`machine: ${cpu}, ${os.availableParallelism()} cores, ${round(os.totalmem() / 2 ** 30, 0)} GiB RAM, ${os.platform()} ${os.release()}`);
  console.log(`node ${process.version}, ${openssl}, reps ${REPS} (median), work dir ${work}`);
  try {
    let t = performance.now();
    const treeBytes = fs.existsSync(treeDir) ? 0 : generateTree(treeDir);
    if (!fs.existsSync(bigFile) || fs.statSync(bigFile).size !== FILE_BYTES) generateFile(bigFile);
    console.log(`generated ${FILES} files (${round(treeBytes / 2 ** 20, 1)} MiB) and a ${round(FILE_BYTES / 2 ** 20, 0)} MiB file in ${ms(performance.now() - t)}`);

    // ---- the 1 GiB file ----
    const opensslFile = `openssl dgst -sha256 '${bigFile}'`;
    const ours = await fingerprintFile(bigFile); // warm-up, and a correctness check against openssl
    const theirs = /([0-9a-f]{64})\s*$/.exec(sh(opensslFile).out)?.[1];
    if (ours !== theirs) throw new Error(`file fingerprint ${ours} differs from openssl's ${theirs}`);
    const fileOurs: number[] = [];
    const fileBase: number[] = [];
    for (let i = 0; i < REPS; i++) {
      fileOurs.push(await timeIt(() => fingerprintFile(bigFile)));
      fileBase.push(sh(opensslFile).ms);
    }

    // ---- the tree ----
    const tarPipe = `tar cf - -C '${work}' tree | openssl dgst -sha256`;
    const treeFp = await fingerprintDir(treeDir);
    sh(tarPipe);
    const cli = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../src/cli/main.js');
    const cliCommand = `'${process.execPath}' '${cli}' fingerprint '${treeDir}' -t dir`;
    if (sh(cliCommand).out.trim() !== treeFp) throw new Error('the CLI and the service disagree on the tree fingerprint');
    const services = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../src/services/index.js');
    const coldScript = `const m = await import('${services}'); const t = performance.now(); await m.fingerprintDir('${treeDir}'); console.log(performance.now() - t);`;
    const coldCommand = `'${process.execPath}' --input-type=module -e "${coldScript}"`;
    const treeOurs: number[] = [];
    const treeBase: number[] = [];
    const treeCold: number[] = [];
    const treeCli: number[] = [];
    for (let i = 0; i < REPS; i++) {
      treeOurs.push(await timeIt(() => fingerprintDir(treeDir)));
      treeBase.push(sh(tarPipe).ms);
      treeCold.push(Number(sh(coldCommand).out));
      treeCli.push(sh(cliCommand).ms);
    }
    t = performance.now();
    const nodeStart = median(Array.from({ length: 3 }, () => sh(`'${process.execPath}' -e 0`).ms));

    const fileRatio = median(fileBase) / median(fileOurs); // throughput ratio: ours / openssl
    const treeRatio = median(treeOurs) / median(treeBase); // time ratio: ours / tar|openssl
    const mibps = (msValue: number) => `${round(FILE_BYTES / 2 ** 20 / (msValue / 1000), 0)} MiB/s`;
    const rows = [
      ['file 1 GiB: evident (in-process)', ms(median(fileOurs)), mibps(median(fileOurs)), ''],
      ['file 1 GiB: openssl dgst -sha256', ms(median(fileBase)), mibps(median(fileBase)), ''],
      ['  throughput ours/openssl', '', `${round(fileRatio * 100, 0)}%`, `>= ${FILE_TARGET * 100}% ${fileRatio >= FILE_TARGET ? 'MET' : 'MISSED'}`],
      [`tree ${FILES} files: evident (in-process)`, ms(median(treeOurs)), '', ''],
      [`tree ${FILES} files: tar cf - | openssl dgst`, ms(median(treeBase)), '', ''],
      ['  time ours/baseline', '', `${round(treeRatio, 2)}x`, `<= ${TREE_TARGET}x ${treeRatio <= TREE_TARGET ? 'MET' : 'MISSED'}`],
      ['tree: first call in a fresh process', ms(median(treeCold)), `${round(median(treeCold) / median(treeBase), 2)}x`, '(workers start cold)'],
      [`tree: evident fingerprint CLI process`, ms(median(treeCli)), '', `node start-up alone ${ms(nodeStart)}`],
    ];
    console.log('\n' + table(['measurement', 'median', 'rate/ratio', 'target'], rows));
    console.log(`\ntree fingerprint ${treeFp}`);
    console.log(
      'BENCH_JSON ' +
        JSON.stringify({
          file_ms: { ours: fileOurs.map((x) => round(x, 1)), openssl: fileBase.map((x) => round(x, 1)) },
          tree_ms: {
            ours: treeOurs.map((x) => round(x, 1)), baseline: treeBase.map((x) => round(x, 1)),
            cold: treeCold.map((x) => round(x, 1)), cli: treeCli.map((x) => round(x, 1)),
          },
          file_throughput_ratio: round(fileRatio, 3),
          tree_time_ratio: round(treeRatio, 3),
          node_startup_ms: round(nodeStart, 1),
          sha256_check: createHash('sha256').update(treeFp).digest('hex').slice(0, 8),
        }),
    );
    process.exitCode = fileRatio >= FILE_TARGET && treeRatio <= TREE_TARGET ? 0 : 1;
  } finally {
    if (!args.keep) fs.rmSync(work, { recursive: true, force: true });
  }
}

await main();
