// `npm run bench:ledger`: durable log appends per second through the group-committing LogService,
// against a baseline of raw inserts of the same rows with the same batch sizes on the same engine.
//
//   node dist/bench/ledger.js [--entries N] [--concurrency C] [--engines sqlite,postgres] [--rounds R] [--warmup W]
//   node --cpu-prof dist/bench/ledger.js --only log|raw ...   (one side alone, for profiling)
//
// Prints a report per engine and, last, one `BENCH_JSON {...}` line for machines.
import fs from 'node:fs';
import os from 'node:os';
import { createHash, randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { canonicalJson } from '../src/formats/index.js';
import {
  appendLeaves, generateSignerKey, leafHash, parseSignerKey, storedHashCount, storedHashIndex, type NoteSigner,
} from '../src/ledger/index.js';
import { LogService, type Projector } from '../src/services/index.js';
import type { Engine, OrgRecord, SqlStore } from '../src/store/index.js';
import {
  openPostgres, openSqlite, postgresReachable, postgresUrl, redactUrl, sqliteLibraryVersion, type BenchStore,
} from './engines.js';
import { mean, percentile, round, sum, table } from './stats.js';

interface Options {
  entries: number;
  concurrency: number;
  engines: Engine[];
  rounds: number;
  warmup: number;
  /** For profiling one side alone (`--only log` or `--only raw`); the report then has no ratio. */
  only: 'log' | 'raw' | undefined;
  /**
   * `noop`: every append carries a projector that writes nothing, to price the per-entry savepoint the
   * store wraps projections in (real records always have one). Off by default: plain appends.
   */
  projector: 'none' | 'noop';
  /**
   * `artifact`: each entry is an `attestation.reported` about a new artifact in one of 50 trails, so the
   * log service links it (`prev`) and updates the subject map for two subjects per entry (docs/log.md, "The
   * subject map"). `none` (default): entries about no subject, as before the map.
   */
  subjects: 'none' | 'artifact';
  /**
   * With `--subjects artifact`: also append the same records as entries about no subject (type `bench`, so
   * no prev links and no map update) to a third org, alternating with the mapped ones in every round, and
   * report mapped / unmapped: the map's cost measured side by side in one process.
   */
  compareMap: boolean;
}

/** The store's own chunking (sql-store.ts INSERT_CHUNK), so the baseline issues the same statements. */
const INSERT_CHUNK = 2000;
const TARGET_PCT = 50;
let ENTRY_TYPE = 'bench';
const encoder = new TextEncoder();

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      entries: { type: 'string', default: '20000' },
      concurrency: { type: 'string', default: '256' },
      engines: { type: 'string', default: 'sqlite,postgres' },
      rounds: { type: 'string', default: '4' },
      warmup: { type: 'string' },
      only: { type: 'string' },
      projector: { type: 'string', default: 'none' },
      subjects: { type: 'string', default: 'none' },
      'compare-map': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log('usage: node dist/bench/ledger.js [--entries N] [--concurrency C] [--engines sqlite,postgres] [--rounds R] [--warmup W] [--only log|raw] [--projector none|noop] [--subjects none|artifact] [--compare-map]');
    process.exit(0);
  }
  const int = (name: string, text: string, min: number) => {
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, not ${JSON.stringify(text)}`);
    return n;
  };
  const entries = int('entries', values.entries, 1);
  const concurrency = int('concurrency', values.concurrency, 1);
  const rounds = Math.min(int('rounds', values.rounds, 1), entries);
  const engines = values.engines.split(',').map((e) => e.trim()).filter((e) => e !== '');
  for (const e of engines) if (e !== 'sqlite' && e !== 'postgres') throw new Error(`--engines: unknown engine ${JSON.stringify(e)}`);
  // Enough to reach steady state (full group-commit batches, JIT-compiled paths, warm page cache) cheaply.
  const warmup = values.warmup === undefined ? Math.min(entries, Math.max(4 * concurrency, 1000)) : int('warmup', values.warmup, 0);
  if (values.only !== undefined && values.only !== 'log' && values.only !== 'raw') throw new Error('--only must be log or raw');
  if (values.projector !== 'none' && values.projector !== 'noop') throw new Error('--projector must be none or noop');
  if (values.subjects !== 'none' && values.subjects !== 'artifact') throw new Error('--subjects must be none or artifact');
  if (values['compare-map'] && values.subjects !== 'artifact') throw new Error('--compare-map needs --subjects artifact');
  return {
    entries, concurrency, engines: engines as Engine[], rounds, warmup, only: values.only, projector: values.projector, subjects: values.subjects,
    compareMap: values['compare-map'],
  };
}

/** ~1 KB record, different for every entry so no layer (compression, dedup, caches) can profit from repeats. */
function makeRecord(i: number, salt: string, subjects: Options['subjects']): Record<string, unknown> {
  const fingerprint = createHash('sha256').update(`${salt}:${i}`).digest('hex');
  if (subjects === 'artifact') {
    return { flow: 'bench', trail: `run-${i % 50}`, artifact_fingerprint: fingerprint, name: 'unit', payload: `${fingerprint.slice(0, 16)}/`.repeat(50) };
  }
  return {
    artifact: { name: `service-${i % 97}`, fingerprint },
    payload: `${fingerprint.slice(0, 16)}/`.repeat(53), // 901 characters
  };
}

// ---- instrumentation of the store's append transaction ----

interface TxnSample {
  entries: number;
  /** Whole store.log.append call: BEGIN .. COMMIT, fsync included. */
  ms: number;
  /** The service's build callback (frontier read, canonical JSON, hashing, tree update). */
  buildMs: number;
  /** The frontier read inside build. */
  readMs: number;
}

/**
 * Wraps store.log.append to see every transaction the service makes: batch sizes are what group commit
 * achieved, and the timings show how the writer's time splits between database and JavaScript.
 */
function instrumentAppends(store: SqlStore): { take(): TxnSample[] } {
  const log = store.log;
  const original = log.append.bind(log);
  let samples: TxnSample[] = [];
  log.append = async (orgId, build, at) => {
    const sample: TxnSample = { entries: 0, ms: 0, buildMs: 0, readMs: 0 };
    const t0 = performance.now();
    const head = await original(
      orgId,
      async (h, ctx) => {
        const b0 = performance.now();
        // Spread ctx so whatever else the store's context carries passes through untouched.
        const batch = await build(h, {
          ...ctx,
          readHashes: async (indexes) => {
            const r0 = performance.now();
            const out = await ctx.readHashes(indexes);
            sample.readMs += performance.now() - r0;
            return out;
          },
        });
        sample.buildMs = performance.now() - b0;
        sample.entries = batch.entries.length;
        return batch;
      },
      at,
    );
    sample.ms = performance.now() - t0;
    samples.push(sample);
    return head;
  };
  return {
    take() {
      const out = samples;
      samples = [];
      return out;
    },
  };
}

// ---- the two measurements ----

/**
 * CPU time of this process (user + system) over a measurement. SQLite runs inside the process (and
 * better-sqlite3 blocks the thread), so there wall time is this CPU plus fsync waits; on PostgreSQL it is
 * the client's share only. Much steadier than throughput on a shared VM, so it shows the service's own cost.
 */
function cpuMsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

/**
 * CPU time of this process's main thread alone, in ms (Linux: /proc/self/task/<pid>/stat, user + system
 * clock ticks of 10 ms); undefined elsewhere. With the subject map hashed in its own thread, the writer's
 * thread is what bounds the append rate when that thread has a core, and process CPU counts both.
 */
function mainThreadCpuMs(): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

interface LogRun {
  entries: number;
  seconds: number;
  /** The main (writer) thread's CPU; NaN where it cannot be read. */
  mainCpuMs: number;
  cpuMs: number;
  latenciesMs: Float64Array;
  txns: TxnSample[];
}

/** `concurrency` callers, each appending its next record as soon as its previous append is acknowledged. */
async function runLog(
  service: LogService, org: OrgRecord, records: readonly Record<string, unknown>[], concurrency: number,
  probe: { take(): TxnSample[] }, project: Projector<undefined> | undefined, type = ENTRY_TYPE,
): Promise<LogRun> {
  probe.take();
  const latenciesMs = new Float64Array(records.length);
  let next = 0;
  const caller = async () => {
    for (let i = next++; i < records.length; i = next++) {
      const t0 = performance.now();
      await service.append(org, type, records[i]!, project);
      latenciesMs[i] = performance.now() - t0;
    }
  };
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpuMs();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, records.length) }, caller));
  const seconds = (performance.now() - t0) / 1000;
  const main1 = mainThreadCpuMs();
  const mainCpuMs = main0 === undefined || main1 === undefined ? NaN : main1 - main0;
  return { entries: records.length, seconds, cpuMs: cpuMsSince(cpu0), mainCpuMs, latenciesMs, txns: probe.take() };
}

/** Every row the raw baseline will insert, built before any timing: the baseline times storage only. */
interface RawPlan {
  entryRows: { org_id: number; idx: number; leaf_hash: Uint8Array; entry: string }[];
  hashRows: { org_id: number; hidx: number; hash: Uint8Array }[];
}

function planRaw(org: OrgRecord, records: readonly Record<string, unknown>[], at: string): RawPlan {
  // The same entry bytes the service would write for this org (same field set, same org-name length).
  const entries = records.map((r) => canonicalJson({ ...r, v: 1, type: ENTRY_TYPE, org: org.name, time: at }));
  const leaves = entries.map((e) => leafHash(encoder.encode(e)));
  const { stored } = appendLeaves(0, [], leaves);
  if (stored.length !== storedHashCount(leaves.length) || stored.some((h, i) => h.index !== i)) {
    throw new Error('appendLeaves did not return the dense stored-hash sequence the raw plan slices');
  }
  return {
    entryRows: entries.map((entry, idx) => ({ org_id: org.id, idx, leaf_hash: leaves[idx]!, entry })),
    hashRows: stored.map((h) => ({ org_id: org.id, hidx: h.index, hash: h.hash })),
  };
}

interface RawRun {
  entries: number;
  hashRows: number;
  seconds: number;
  cpuMs: number;
  txns: TxnSample[];
}

/**
 * Leaves [start, start+count) of the plan, one durable transaction per batch, batch sizes replayed from
 * the latest log-service run: the same rows the service would write for those leaves (entries plus the
 * stored hashes they complete), minus its head lock/read/update and JavaScript work.
 */
async function runRaw(store: SqlStore, plan: RawPlan, start: number, count: number, batchSizes: readonly number[]): Promise<RawRun> {
  const sizes = batchSizes.filter((b) => b > 0);
  if (sizes.length === 0) throw new Error('no log-service batch sizes to replay');
  const txns: TxnSample[] = [];
  let hashRows = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let a = start, k = 0; a < start + count; k++) {
    const b = Math.min(a + sizes[k % sizes.length]!, start + count);
    const entryRows = plan.entryRows.slice(a, b);
    const hashes = plan.hashRows.slice(storedHashIndex(0, a), storedHashIndex(0, b));
    const s0 = performance.now();
    await store.write(async (tx) => {
      for (let i = 0; i < entryRows.length; i += INSERT_CHUNK) {
        await tx.insertInto('log_entries').values(entryRows.slice(i, i + INSERT_CHUNK)).execute();
      }
      for (let i = 0; i < hashes.length; i += INSERT_CHUNK) {
        await tx.insertInto('log_hashes').values(hashes.slice(i, i + INSERT_CHUNK)).execute();
      }
    });
    txns.push({ entries: b - a, ms: performance.now() - s0, buildMs: 0, readMs: 0 });
    hashRows += hashes.length;
    a = b;
  }
  return { entries: count, hashRows, seconds: (performance.now() - t0) / 1000, cpuMs: cpuMsSince(cpu0), txns };
}

// ---- one engine ----

interface EngineResult {
  engine: Engine;
  settings: Record<string, string>;
  entries: number;
  concurrency: number;
  rounds: number;
  warmup: number;
  projector: Options['projector'];
  avgEntryBytes: number;
  log: {
    txns: number; avgEntriesPerTxn: number; seconds: number; appendsPerSec: number;
    /** This process's CPU time per entry, microseconds. */
    cpuUsPerEntry: number;
    p50Ms: number; p99Ms: number; maxMs: number;
    txnP50Ms: number; txnP99Ms: number;
    /** Share of wall time the single writer spent inside store.log.append. */
    writerBusyPct: number;
    /** Share of transaction time spent in the build callback (JS + frontier read). */
    buildPctOfTxn: number;
    frontierReadPctOfTxn: number;
    perRound: number[];
  };
  raw: {
    txns: number; avgEntriesPerTxn: number; hashRows: number; seconds: number; entriesPerSec: number; cpuUsPerEntry: number;
    txnP50Ms: number; txnP99Ms: number; perRound: number[];
  };
  ratioPct: number;
  targetPct: number;
  meetsTarget: boolean;
  /** --compare-map: the same records logged about no subject, alternating with the mapped ones. */
  unmapped?: {
    appendsPerSec: number; cpuUsPerEntry: number; perRound: number[]; mappedPct: number;
    /** The writer thread's CPU µs per entry, mapped and unmapped, and unmapped / mapped (null off Linux). */
    writerUsPerEntry: number | null; mappedWriterUsPerEntry: number | null; writerPct: number | null;
  };
}

/** The writer thread's CPU per entry on both sides, and their ratio (null where it cannot be read). */
function writerShare(mapped: readonly LogRun[], unmapped: readonly LogRun[], entries: number) {
  const mappedUs = (1000 * sum(mapped.map((r) => r.mainCpuMs))) / entries;
  const unmappedUs = (1000 * sum(unmapped.map((r) => r.mainCpuMs))) / entries;
  if (!Number.isFinite(mappedUs) || !Number.isFinite(unmappedUs) || mappedUs <= 0) return { writerUsPerEntry: null, mappedWriterUsPerEntry: null, writerPct: null };
  return { writerUsPerEntry: round(unmappedUs), mappedWriterUsPerEntry: round(mappedUs), writerPct: round((100 * unmappedUs) / mappedUs) };
}

function splitEven(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor((total * (i + 1)) / parts) - Math.floor((total * i) / parts));
}

function fmtRun(runs: { entries: number; seconds: number; cpuMs: number; txns: TxnSample[] }[]): string {
  const entries = sum(runs.map((r) => r.entries));
  const seconds = sum(runs.map((r) => r.seconds));
  const txns = runs.flatMap((r) => r.txns);
  const cpuUs = (1000 * sum(runs.map((r) => r.cpuMs))) / entries;
  return `${entries} entries in ${txns.length} txns, ${seconds.toFixed(3)} s, ${Math.round(entries / seconds)} entries/s, ` +
    `${cpuUs.toFixed(1)} CPU µs/entry, txn p50 ${percentile(txns.map((t) => t.ms), 50).toFixed(2)} ms`;
}

async function benchEngine(bs: BenchStore, signer: NoteSigner, opts: Options): Promise<EngineResult | undefined> {
  const { store } = bs;
  const at = new Date().toISOString();
  const tag = randomBytes(4).toString('hex');
  // Two orgs with names of equal length: equal entry sizes, and the raw rows never collide with the service's keys.
  const logOrg = await store.orgs.create(`bench-log-${tag}`, at);
  const rawOrg = await store.orgs.create(`bench-raw-${tag}`, at);
  const nomOrg = opts.compareMap ? await store.orgs.create(`bench-nom-${tag}`, at) : undefined;
  const unmappedRuns: LogRun[] = [];
  const service = new LogService(store, signer);
  const probe = instrumentAppends(store);
  const project: Projector<undefined> | undefined = opts.projector === 'noop' ? async () => undefined : undefined;

  const total = opts.warmup + opts.entries;
  const records = Array.from({ length: total }, (_, i) => makeRecord(i, tag, opts.subjects));
  const plan = planRaw(rawOrg, records, at);
  const avgEntryBytes = mean(plan.entryRows.map((r) => Buffer.byteLength(r.entry)));

  // Warm-up on both paths, untimed: JIT, statement paths, page cache, and a first set of batch sizes for raw.
  let cursor = 0;
  let lastBatches = [opts.concurrency];
  if (opts.warmup > 0) {
    const w = await runLog(service, logOrg, records.slice(0, opts.warmup), opts.concurrency, probe, project);
    lastBatches = w.txns.map((t) => t.entries);
    await runRaw(store, plan, 0, opts.warmup, lastBatches);
    if (nomOrg) await runLog(service, nomOrg, records.slice(0, opts.warmup), opts.concurrency, probe, project, 'bench');
    cursor = opts.warmup;
  }

  // Rounds alternate the order (raw→log, then log→raw, ...). Whichever runs second meets bigger tables and
  // indexes, a longer WAL (and the SQLite checkpoint or PostgreSQL background writes it triggers) and a
  // different page-cache state; alternating spreads those costs over both sides instead of charging one.
  const logRuns: LogRun[] = [];
  const rawRuns: RawRun[] = [];
  for (const [r, n] of splitEven(opts.entries, opts.rounds).entries()) {
    const start = cursor;
    const doLog = async () => {
      const run = await runLog(service, logOrg, records.slice(start, start + n), opts.concurrency, probe, project);
      lastBatches = run.txns.map((t) => t.entries);
      logRuns.push(run);
    };
    // Raw replays the batch sizes of the latest log run (the warm-up's, in the first round).
    const doRaw = async () => {
      rawRuns.push(await runRaw(store, plan, start, n, lastBatches));
      // The unmapped log runs next to raw, so it sits before the mapped log in even rounds and after it in odd ones.
      if (nomOrg) unmappedRuns.push(await runLog(service, nomOrg, records.slice(start, start + n), opts.concurrency, probe, project, 'bench'));
    };
    if (opts.only === 'log') await doLog();
    else if (opts.only === 'raw') await doRaw();
    else if (r % 2 === 0) {
      await doRaw();
      await doLog();
    } else {
      await doLog();
      await doRaw();
    }
    cursor += n;
  }

  // Sanity: everything that was acknowledged is in the database.
  const head = await store.log.head(logOrg.id);
  const expectLog = opts.only === 'raw' ? opts.warmup : total;
  if (head.size !== expectLog) throw new Error(`log head is ${head.size}, expected ${expectLog}`);
  const rawCount = await store.db.selectFrom('log_entries').select((eb) => eb.fn.countAll<number>().as('n')).where('org_id', '=', rawOrg.id).executeTakeFirstOrThrow();
  const expectRaw = opts.only === 'log' ? opts.warmup : total;
  if (Number(rawCount.n) !== expectRaw) throw new Error(`raw org holds ${String(rawCount.n)} entries, expected ${expectRaw}`);
  if (opts.only !== undefined) {
    console.log(`--only ${opts.only}: ${opts.only === 'log' ? fmtRun(logRuns) : fmtRun(rawRuns)}`);
    return undefined;
  }

  const logTxns = logRuns.flatMap((r) => r.txns);
  const rawTxns = rawRuns.flatMap((r) => r.txns);
  const latencies = Float64Array.from(logRuns.flatMap((r) => Array.from(r.latenciesMs)));
  const logSeconds = sum(logRuns.map((r) => r.seconds));
  const rawSeconds = sum(rawRuns.map((r) => r.seconds));
  const logTxnMs = sum(logTxns.map((t) => t.ms));
  const appendsPerSec = opts.entries / logSeconds;
  const entriesPerSec = opts.entries / rawSeconds;
  const ratioPct = (100 * appendsPerSec) / entriesPerSec;
  const unmappedPerSec = opts.entries / sum(unmappedRuns.map((r) => r.seconds));
  const unmapped = nomOrg
    ? {
      appendsPerSec: round(unmappedPerSec, 0),
      cpuUsPerEntry: round((1000 * sum(unmappedRuns.map((r) => r.cpuMs))) / opts.entries),
      perRound: unmappedRuns.map((r) => round(r.entries / r.seconds, 0)),
      mappedPct: round((100 * appendsPerSec) / unmappedPerSec),
      ...writerShare(logRuns, unmappedRuns, opts.entries),
    }
    : undefined;
  return {
    unmapped,
    engine: bs.engine,
    settings: bs.settings,
    entries: opts.entries,
    concurrency: opts.concurrency,
    rounds: opts.rounds,
    warmup: opts.warmup,
    projector: opts.projector,
    avgEntryBytes: round(avgEntryBytes, 0),
    log: {
      txns: logTxns.length,
      avgEntriesPerTxn: round(opts.entries / logTxns.length),
      seconds: round(logSeconds, 3),
      appendsPerSec: round(appendsPerSec, 0),
      cpuUsPerEntry: round((1000 * sum(logRuns.map((r) => r.cpuMs))) / opts.entries),
      p50Ms: round(percentile(latencies, 50), 2),
      p99Ms: round(percentile(latencies, 99), 2),
      maxMs: round(percentile(latencies, 100), 2),
      txnP50Ms: round(percentile(logTxns.map((t) => t.ms), 50), 2),
      txnP99Ms: round(percentile(logTxns.map((t) => t.ms), 99), 2),
      writerBusyPct: round((100 * logTxnMs) / (logSeconds * 1000)),
      buildPctOfTxn: round((100 * sum(logTxns.map((t) => t.buildMs))) / logTxnMs),
      frontierReadPctOfTxn: round((100 * sum(logTxns.map((t) => t.readMs))) / logTxnMs),
      perRound: logRuns.map((r) => round(r.entries / r.seconds, 0)),
    },
    raw: {
      txns: rawTxns.length,
      avgEntriesPerTxn: round(opts.entries / rawTxns.length),
      hashRows: sum(rawRuns.map((r) => r.hashRows)),
      seconds: round(rawSeconds, 3),
      entriesPerSec: round(entriesPerSec, 0),
      cpuUsPerEntry: round((1000 * sum(rawRuns.map((r) => r.cpuMs))) / opts.entries),
      txnP50Ms: round(percentile(rawTxns.map((t) => t.ms), 50), 2),
      txnP99Ms: round(percentile(rawTxns.map((t) => t.ms), 99), 2),
      perRound: rawRuns.map((r) => round(r.entries / r.seconds, 0)),
    },
    ratioPct: round(ratioPct),
    targetPct: TARGET_PCT,
    meetsTarget: ratioPct >= TARGET_PCT,
  };
}

// ---- report ----

function describeEngine(r: EngineResult): string {
  const s = r.settings;
  return r.engine === 'sqlite'
    ? `SQLite ${s.version}, journal_mode=${s.journal_mode}, synchronous=${s.synchronous}`
    : `PostgreSQL ${s.server_version}, fsync=${s.fsync}, synchronous_commit=${s.synchronous_commit}, wal_sync_method=${s.wal_sync_method}`;
}

function printEngine(r: EngineResult): void {
  console.log(`\n== ${r.engine}: ${describeEngine(r)} ==`);
  console.log(
    `${r.entries} entries per side (~${r.avgEntryBytes} B each), ${r.concurrency} concurrent callers, ` +
      `${r.rounds} round(s) in alternating order after ${r.warmup} warm-up entries per side` +
      (r.projector === 'noop' ? '; every append with a no-op projector (one savepoint per entry)' : ''),
  );
  console.log(
    table(
      ['', 'txns', 'entries/txn', 'seconds', 'entries/s', 'CPU µs/entry', 'txn p50 ms', 'txn p99 ms', 'per round entries/s'],
      [
        ['log service', String(r.log.txns), r.log.avgEntriesPerTxn.toFixed(1), r.log.seconds.toFixed(3), String(r.log.appendsPerSec),
          r.log.cpuUsPerEntry.toFixed(1), r.log.txnP50Ms.toFixed(2), r.log.txnP99Ms.toFixed(2), r.log.perRound.join(' / ')],
        ['raw insert', String(r.raw.txns), r.raw.avgEntriesPerTxn.toFixed(1), r.raw.seconds.toFixed(3), String(r.raw.entriesPerSec),
          r.raw.cpuUsPerEntry.toFixed(1), r.raw.txnP50Ms.toFixed(2), r.raw.txnP99Ms.toFixed(2), r.raw.perRound.join(' / ')],
      ],
    ),
  );
  console.log(`log/raw: ${r.ratioPct.toFixed(1)}%   (target >= ${r.targetPct}%: ${r.meetsTarget ? 'met' : 'NOT met'})`);
  if (r.unmapped) {
    console.log(
      `subject map: mapped ${r.log.appendsPerSec} appends/s (${r.log.cpuUsPerEntry.toFixed(1)} CPU µs/entry, rounds ${r.log.perRound.join(' / ')}), ` +
        `same records about no subject ${r.unmapped.appendsPerSec}/s (${r.unmapped.cpuUsPerEntry.toFixed(1)} CPU µs/entry, rounds ${r.unmapped.perRound.join(' / ')}): ` +
        `mapped/unmapped ${r.unmapped.mappedPct.toFixed(1)}% (target >= 80%)`,
    );
    const u = r.unmapped;
    if (u.writerPct !== null) {
      console.log(
        `subject map, writer thread alone: mapped ${u.mappedWriterUsPerEntry!.toFixed(1)} CPU µs/entry, unmapped ${u.writerUsPerEntry!.toFixed(1)}: ` +
          `unmapped/mapped ${u.writerPct.toFixed(1)}% (the rate ratio when the map thread has a core of its own)`,
      );
    }
  }
  console.log(`append latency: p50 ${r.log.p50Ms.toFixed(2)} ms, p99 ${r.log.p99Ms.toFixed(2)} ms, max ${r.log.maxMs.toFixed(2)} ms`);
  console.log(
    `log writer: inside a transaction ${r.log.writerBusyPct.toFixed(1)}% of the wall time; of transaction time, ` +
      `build callback ${r.log.buildPctOfTxn.toFixed(1)}% (frontier read ${r.log.frontierReadPctOfTxn.toFixed(1)}%)`,
  );
  console.log(`raw rows: ${r.entries} log_entries + ${r.raw.hashRows} log_hashes`);
}

function printSummary(results: EngineResult[]): void {
  if (results.length === 0) return;
  console.log('\n== summary ==');
  console.log(
    table(
      ['engine', 'entries', 'callers', 'entries/txn', 'log appends/s', 'raw entries/s', 'log/raw', 'target', 'p50 ms', 'p99 ms'],
      results.map((r) => [
        r.engine, String(r.entries), String(r.concurrency), r.log.avgEntriesPerTxn.toFixed(1), String(r.log.appendsPerSec),
        String(r.raw.entriesPerSec), `${r.ratioPct.toFixed(1)}%`, `>= ${r.targetPct}%`, r.log.p50Ms.toFixed(2), r.log.p99Ms.toFixed(2),
      ]),
    ),
  );
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  if (opts.subjects === 'artifact') ENTRY_TYPE = 'attestation.reported';
  const machine = {
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    sqlite: sqliteLibraryVersion(),
  };
  console.log(`ledger append benchmark: node ${machine.node}, ${machine.nproc} CPUs (${machine.cpu}), ${machine.platform}`);
  const signer = parseSignerKey(generateSignerKey('bench').signerKey);
  const results: EngineResult[] = [];
  const skipped: { engine: Engine; reason: string }[] = [];
  for (const engine of opts.engines) {
    let bs: BenchStore;
    if (engine === 'postgres') {
      const url = postgresUrl();
      const problem = await postgresReachable(url);
      if (problem !== undefined) {
        console.log(`\n*** NOTICE: PostgreSQL at ${redactUrl(url)} is unreachable (${problem}): the postgres benchmark is SKIPPED ***`);
        console.log('*** set EVIDENT_BENCH_DATABASE_URL (or EVIDENT_TEST_DATABASE_URL) to a reachable database ***');
        skipped.push({ engine, reason: problem });
        continue;
      }
      bs = await openPostgres(url);
    } else {
      bs = await openSqlite();
    }
    try {
      const result = await benchEngine(bs, signer, opts);
      if (result) {
        printEngine(result);
        results.push(result);
      }
    } finally {
      await bs.cleanup();
    }
  }
  printSummary(results);
  console.log(`BENCH_JSON ${JSON.stringify({ bench: 'ledger', machine, options: opts, results, skipped })}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
