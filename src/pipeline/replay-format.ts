import type fs from 'node:fs';
import path from 'node:path';
import type { Compression } from './spec.js';
import { COMPRESSIONS } from './spec-format.js';
import type { FileDigest } from './types.js';

// `.evident/cache/metadata/replay.json`: what a run that succeeded and changed nothing would do again
// (docs/runner.md "Replaying an unchanged run"). Written by a full run (replay-record.ts), read by the next
// `evident run` (replay.ts), which, when every recorded look at the disk still sees the same thing, does
// what a warm run of all cache hits does (receipt, LRU, result lines) without expanding, hashing or
// restoring. Like everything under .evident/, the file is treated as attacker-controlled: it is checked
// field by field, and anything unexpected means "run normally".

/** 2: sealed (seal.ts), with the digests of the process variables the keys depend on. */
export const REPLAY_VERSION = 2;

export function replayFile(cacheRoot: string): string {
  return path.join(cacheRoot, 'metadata', 'replay.json');
}

/**
 * One look at the disk: `l` lstat, `s` stat, `L` a directory listing (its stat stands for its entries).
 * `fp` says what was seen; `mtime` is set when the look depends on the file's content or entries, and
 * is then trusted only if older than the look by RACY_MARGIN_MS (git's racy-git rule, stat-memo.ts).
 */
export type ProbeKind = 'l' | 's' | 'L';
export type Probe = [rel: string, kind: ProbeKind, fp: string, mtime: number | null, at: number];

export interface ReplayStep {
  name: string;
  command: string;
  needs: string[];
  env: Record<string, string>;
  key: string;
  inputs: FileDigest[];
  outputs: FileDigest[];
}

export interface ReplayData {
  v: typeof REPLAY_VERSION;
  pipeline: string;
  /** Hex SHA-256 of the attest.yaml bytes the run was made from. */
  pipeline_hash: string;
  cache: { compression: Compression; maxBytes: number; retentionDays: number };
  /** The process variables the keys depend on (pass_env, `${VAR}`), by passEnvDigest: a replay needs them unchanged. */
  env: Record<string, string>;
  /** In plan order. */
  steps: ReplayStep[];
  probes: Probe[];
}

/**
 * What a look saw. A directory looked at (not listed) counts by identity only: its times change with
 * every entry added or removed under it (run.lock, logs), and only "still this directory" matters there.
 */
export function fingerprint(st: fs.Stats | undefined, kind: ProbeKind): { fp: string; mtime: number | null } {
  if (!st) return { fp: '-', mtime: null };
  if (st.isDirectory() && kind !== 'L') return { fp: `d${st.dev}:${st.ino}`, mtime: null };
  const type = st.isDirectory() ? 'D' : st.isSymbolicLink() ? 'l' : st.isFile() ? 'f' : 'o';
  return { fp: `${type}${st.dev}:${st.ino}:${st.size}:${st.mode}:${st.mtimeMs}:${st.ctimeMs}`, mtime: st.mtimeMs };
}

const HEX64 = /^[0-9a-f]{64}$/;
const isString = (v: unknown): v is string => typeof v === 'string';
const isStringRecord = (v: unknown): v is Record<string, string> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every(isString);
const isDigests = (v: unknown): v is FileDigest[] =>
  Array.isArray(v) && v.every((f) => typeof f === 'object' && f !== null && isString(f.path) && isString(f.sha256) && HEX64.test(f.sha256) && typeof f.executable === 'boolean');
const isProbe = (p: unknown): p is Probe =>
  Array.isArray(p) && p.length === 5 && isString(p[0]) && (p[1] === 'l' || p[1] === 's' || p[1] === 'L') && isString(p[2]) &&
  (p[3] === null || typeof p[3] === 'number') && typeof p[4] === 'number';
const isStep = (s: unknown): s is ReplayStep => {
  const r = s as Partial<ReplayStep> | null;
  return typeof r === 'object' && r !== null && isString(r.name) && isString(r.command) && Array.isArray(r.needs) && r.needs.every(isString) &&
    isStringRecord(r.env) && isString(r.key) && HEX64.test(r.key) && isDigests(r.inputs) && isDigests(r.outputs);
};

/** The replay data if `value` has exactly the expected shape; undefined for anything else. */
export function checkReplayData(value: unknown): ReplayData | undefined {
  const d = value as Partial<ReplayData> | null;
  if (typeof d !== 'object' || d === null || d.v !== REPLAY_VERSION || !isString(d.pipeline) || !isString(d.pipeline_hash)) return undefined;
  const c = d.cache;
  if (typeof c !== 'object' || c === null || !(COMPRESSIONS as readonly unknown[]).includes(c.compression) || !(c.maxBytes >= 0) || !(c.retentionDays >= 0)) return undefined;
  if (!isStringRecord(d.env)) return undefined;
  if (!Array.isArray(d.steps) || d.steps.length === 0 || !d.steps.every(isStep)) return undefined;
  if (new Set(d.steps.map((s) => s.name)).size !== d.steps.length) return undefined;
  if (!Array.isArray(d.probes) || !d.probes.every(isProbe)) return undefined;
  return d as ReplayData;
}
