import { EvidentError, bytesEqual, fromHex, toHex } from '../../core/index.js';
import { canonicalJson } from '../../formats/index.js';
import {
  EMPTY_ROOT, TreeBuilder, leafHash, openCheckpoint, rootOfLeaves, verifyConsistency, type Checkpoint, type Hash, type NoteVerifier,
} from '../../ledger/index.js';

/** What the verifier needs from a log server; the HTTP client provides it. Everything it returns is untrusted. */
export interface LogSource {
  checkpoint(): Promise<string>;
  consistencyProof(from: number, to?: number): Promise<{ hashes: string[] }>;
  logEntries(start: number, end?: number): Promise<{ items: { index: number; leaf_hash: string; entry: string }[]; next_cursor: string | null }>;
}

export interface Check {
  ok: boolean;
  message: string;
}

export interface VerifyLogReport {
  ok: boolean;
  origin: string;
  size: number;
  root: string;
  previous: { size: number; root: string } | null;
  checks: Check[];
  /** Set when the log contradicts what was seen before: both signed notes, the proof of a rollback or fork. */
  conflict: { kind: 'rollback' | 'fork'; previous: string; current: string } | null;
  /** Set by a full check that finds an entry that does not match the signed tree. */
  first_bad_index: number | null;
}

const encoder = new TextEncoder();

/**
 * The checkpoint origin of an org's log under a verifier key. Each org's log key is named after its origin
 * (`evident.<host>/<org>`, C2SP tlog-checkpoint: the key name SHOULD match the origin line); a key named
 * only `evident.<host>` (servers before 2026-12) signed the origin `<name>/<org>`.
 */
export function logOrigin(verifier: NoteVerifier, org: string): string {
  return verifier.name.endsWith(`/${org}`) ? verifier.name : `${verifier.name}/${org}`;
}

/** Step 1: the checkpoint must be signed by the pinned key and be for the expected origin. */
export function checkCheckpoint(note: string, verifier: NoteVerifier, expectedOrigin: string): Checkpoint {
  const cp = openCheckpoint(note, [verifier]);
  if (cp.origin !== expectedOrigin) {
    throw new EvidentError('VERIFICATION_FAILED', `checkpoint is for origin ${JSON.stringify(cp.origin)}, expected ${JSON.stringify(expectedOrigin)}`);
  }
  return cp;
}

/**
 * Step 2: a newer checkpoint must extend the last one seen (RFC 9162 §2.1.4); an older or different one
 * at the same size is a rollback or a fork.
 */
export async function checkAgainstPrevious(source: Pick<LogSource, 'consistencyProof'>, previous: Checkpoint, current: Checkpoint): Promise<Check & { kind?: 'rollback' | 'fork' }> {
  if (current.size < previous.size) {
    return { ok: false, kind: 'rollback', message: `log rolled back: size ${current.size} is smaller than the ${previous.size} seen before` };
  }
  if (current.size === previous.size) {
    return bytesEqual(current.root, previous.root)
      ? { ok: true, message: `Same tree as the checkpoint seen before (size ${current.size})` }
      : { ok: false, kind: 'fork', message: `log forked: two different roots signed for size ${current.size}` };
  }
  if (previous.size === 0) {
    // The empty tree is a prefix of every tree (RFC 9162 §2.1.4 defines proofs only from size >= 1).
    return bytesEqual(previous.root, EMPTY_ROOT)
      ? { ok: true, message: `Consistent with the checkpoint seen before (the empty log -> size ${current.size})` }
      : { ok: false, kind: 'fork', message: 'the checkpoint seen before claims size 0 with a root that is not the empty tree\'s' };
  }
  try {
    const proof = await source.consistencyProof(previous.size, current.size);
    const hashes = proof.hashes.map((h, i) => fromHex(h, `consistency proof hash ${i}`, 32));
    verifyConsistency(previous.size, current.size, hashes, previous.root, current.root);
  } catch (err) {
    if (err instanceof EvidentError && (err.code === 'VERIFICATION_FAILED' || err.code === 'INVALID_ARGUMENT')) {
      return { ok: false, kind: 'fork', message: `log forked: no valid consistency proof from size ${previous.size} to ${current.size} (${err.message})` };
    }
    throw err;
  }
  return { ok: true, message: `Consistent with the checkpoint seen before (size ${previous.size} -> ${current.size})` };
}

export interface FullCheckProgress {
  (done: number, total: number): void;
}

/**
 * Step 3 (--full): re-derive every leaf hash from the entry text and the root from the leaves. The first
 * index that does not match is named: directly when an entry's text disagrees with its leaf hash, and
 * otherwise by bisecting with consistency proofs for the prefixes of the re-derived tree.
 */
export async function checkAllEntries(source: LogSource, cp: Checkpoint, org: string, progress?: FullCheckProgress): Promise<Check & { firstBad: number | null }> {
  const leaves: Hash[] = [];
  const builder = new TreeBuilder();
  let start = 0;
  while (start < cp.size) {
    const page = await source.logEntries(start, cp.size);
    if (page.items.length === 0) break;
    for (const item of page.items) {
      const index = leaves.length;
      if (item.index !== index) return { ok: false, firstBad: index, message: `the server skipped or repeated entries at index ${index}` };
      const leaf = leafHash(encoder.encode(item.entry));
      if (toHex(leaf) !== item.leaf_hash) return { ok: false, firstBad: index, message: `entry ${index} does not match its leaf hash: its text was changed` };
      const problem = entryProblem(item.entry, org);
      if (problem) return { ok: false, firstBad: index, message: `entry ${index} ${problem}` };
      leaves.push(leaf);
      builder.append(leaf);
    }
    start = leaves.length;
    progress?.(leaves.length, cp.size);
  }
  if (leaves.length !== cp.size) return { ok: false, firstBad: leaves.length, message: `the server returned ${leaves.length} entries for a tree of size ${cp.size}` };
  if (bytesEqual(builder.root(), cp.root)) return { ok: true, firstBad: null, message: `All ${cp.size} entries re-derived: leaf hashes and root match the checkpoint` };
  const firstBad = await bisect(source, leaves, cp);
  return { ok: false, firstBad, message: `entry ${firstBad} is not the entry the signed tree committed to: it was changed after it was logged` };
}

function entryProblem(text: string, org: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'is not JSON';
  }
  if (canonicalJson(value) !== text) return 'is not RFC 8785 canonical JSON';
  const e = value as { org?: unknown; v?: unknown; type?: unknown };
  if (e.org !== org) return `belongs to org ${JSON.stringify(e.org)}, not ${JSON.stringify(org)}`;
  if (e.v !== 1 || typeof e.type !== 'string') return 'lacks the fields v and type';
  return undefined;
}

/** Smallest m whose re-derived prefix is not consistent with the signed root; entry m-1 is the first bad one. */
async function bisect(source: LogSource, leaves: Hash[], cp: Checkpoint): Promise<number> {
  const consistent = async (m: number): Promise<boolean> => {
    try {
      const proof = await source.consistencyProof(m, cp.size);
      verifyConsistency(m, cp.size, proof.hashes.map((h) => fromHex(h, 'hash', 32)), rootOfLeaves(leaves.slice(0, m)), cp.root);
      return true;
    } catch (err) {
      if (err instanceof EvidentError && err.code !== 'UNAVAILABLE') return false;
      throw err;
    }
  };
  let lo = 1; // prefixes of size < lo are consistent (size 0 always is)
  let hi = cp.size; // the full prefix is not
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (await consistent(mid)) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}
