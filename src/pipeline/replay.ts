import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { LocalCache } from './cache.js';
import { buildReceipt, writeReceipt } from './receipt.js';
import { checkReplayData, fingerprint, replayFile, type Probe, type ReplayData } from './replay-format.js';
import { acquireRunLock } from './run-lock.js';
import { Sealer } from './seal.js';
import { passEnvDigest } from './env-expand.js';
import { RACY_MARGIN_MS } from './stat-memo.js';
import type { RunRecord, StepRecord } from './types.js';

// Replaying an unchanged run (docs/runner.md "Replaying an unchanged run"): when attest.yaml is the
// file the last full run succeeded with and every look at the disk that run recorded sees the same thing
// again, every step would be a cache hit that restores nothing and keeps its provenance. So this does what
// such a run does, the same way: the run lock, the LRU times and eviction, a receipt, the result lines;
// and skips what it would compute again to the same answer: parsing attest.yaml, expanding and hashing
// inputs, reading 200 manifests, checking outputs and statements one by one. Anything unexpected (a
// changed stat, a file younger than the racy margin, an entry gone from the cache index, a malformed
// replay file, another run holding the lock) returns a reason, and the caller runs normally.

export type ReplayResult =
  | { replayed: true; record: RunRecord; receiptFile: string; evicted: number }
  | { replayed: false; reason: string };

const no = (reason: string): ReplayResult => ({ replayed: false, reason });

/** Why `probe` no longer holds, if it does not. */
function probeProblem(workspace: string, probe: Probe): string | undefined {
  const [rel, kind, fp, mtime, at] = probe;
  // Paths are only looked at, never written: a hostile one can only fail the replay.
  const abs = `${workspace}/${rel}`;
  const st = kind === 'l' ? fs.lstatSync(abs, { throwIfNoEntry: false }) : fs.statSync(abs, { throwIfNoEntry: false });
  if (fingerprint(st, kind).fp !== fp) return `${rel} changed`;
  if (mtime !== null && mtime > at - RACY_MARGIN_MS) return `${rel} was modified too close to the run that recorded it`;
  return undefined;
}

function readReplay(cacheRoot: string, pipelineHash: string, sealer: Sealer): ReplayData | string {
  let text: string;
  try {
    text = fs.readFileSync(replayFile(cacheRoot), 'utf8');
  } catch {
    return 'no replay file from the last run';
  }
  // Only a file this runner wrote: a planted one would put its steps, digests and commands in a receipt.
  const body = sealer.open('replay', text);
  if (body === undefined) return "the replay file's seal does not verify";
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return 'the replay file is malformed';
  }
  const data = checkReplayData(value);
  if (!data) return 'the replay file is malformed';
  return data.pipeline_hash === pipelineHash ? data : `${path.basename(replayFile(cacheRoot))} was made from another attest.yaml`;
}

/**
 * Replays the last run of the pipeline in `file` if nothing it depended on changed. Writes nothing unless
 * it replays; then the receipt and the cache index, as the full run would.
 */
export function tryReplay(file: string, version: string): ReplayResult {
  const started = Date.now();
  const absolute = path.resolve(file);
  const workspace = path.dirname(absolute);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(absolute);
  } catch {
    return no(`cannot read ${file}`);
  }
  const pipelineHash = createHash('sha256').update(bytes).digest('hex');
  const cacheRoot = path.join(workspace, '.evident', 'cache');
  let sealer: Sealer | undefined;
  try {
    sealer = Sealer.forWorkspace(workspace, { create: false });
  } catch (err) {
    return no((err as Error).message);
  }
  if (!sealer) return no('no cache seal key');
  const data = readReplay(cacheRoot, pipelineHash, sealer);
  if (typeof data === 'string') return no(data);

  let release: () => void;
  try {
    release = acquireRunLock(workspace);
  } catch (err) {
    return no((err as Error).message);
  }
  try {
    for (const [name, digest] of Object.entries(data.env)) {
      if (passEnvDigest(process.env[name]) !== digest) return no(`the environment variable ${name} changed`);
    }
    for (const probe of data.probes) {
      const problem = probeProblem(workspace, probe);
      if (problem) return no(problem);
    }
    const cache = new LocalCache(cacheRoot, data.cache, sealer).open({ memo: false });
    for (const step of data.steps) {
      if (!cache.isIndexed(step.key) || cache.lastKey(step.name) !== step.key) return no(`the cache index no longer holds ${step.name}'s entry`);
    }
    // Decided: from here on, what the full run would do.
    const now = Date.now();
    for (const step of data.steps) cache.markUsed(step.key, now);
    const evicted = cache.prune(now).length;
    cache.close();
    const at = new Date(now).toISOString();
    const steps: StepRecord[] = data.steps.map((s) => ({ ...s, exitCode: 0, startedAt: at, finishedAt: at, durationSecs: 0, cache: 'hit', isolation: 'process' }));
    const record: RunRecord = {
      pipeline: data.pipeline,
      pipelineHash,
      workspace,
      startedAt: new Date(started).toISOString(),
      totalDurationSecs: (Date.now() - started) / 1000,
      steps,
      graph: {},
      ok: true,
    };
    const receiptFile = writeReceipt(workspace, buildReceipt(record, version));
    return { replayed: true, record, receiptFile, evicted };
  } finally {
    release();
  }
}
