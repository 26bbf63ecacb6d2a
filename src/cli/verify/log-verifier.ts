import { EvidentError, bytesEqual, fromHex, toHex } from '../../core/index.js';
import { canonicalJson } from '../../formats/index.js';
import {
  EMPTY_ROOT, TreeBuilder, appendLeaves, leafHashOfText, openCheckpoint, prefixRootFromConsistencyProof, renamedVerifier, rootFromInclusionProof, treeRoot, verifyConsistency,
  type Checkpoint, type Hash, type NoteVerifier,
} from '../../ledger/index.js';

/** What the verifier needs from a log server; the HTTP client provides it. Everything it returns is untrusted. */
export interface LogSource {
  checkpoint(): Promise<string>;
  consistencyProof(from: number, to?: number): Promise<{ hashes: string[] }>;
  logEntries(start: number, end?: number): Promise<{ items: { index: number; leaf_hash: string; entry: string }[]; next_cursor: string | null }>;
  /** Optional: lets a full check that failed judge prefixes whose size is a power of two. */
  inclusionProof?(q: { index: number; treeSize: number }): Promise<{ hashes: string[] }>;
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
  /** Set by a full check that finds an entry that does not match the signed tree: every entry before it is unchanged. */
  first_bad_index: number | null;
  /** The first changed entry is within [from, to]; from = to when it is known exactly. */
  first_bad_range: [number, number] | null;
}

/**
 * The checkpoint origin of an org's log under a verifier key. Each org's log key is named after its origin
 * (`evident.<host>/<org>`, C2SP tlog-checkpoint: the key name SHOULD match the origin line); a key named
 * only `evident.<host>` (servers before 2026-12) signed the origin `<name>/<org>`.
 */
export function logOrigin(verifier: NoteVerifier, org: string): string {
  return verifier.name.endsWith(`/${org}`) ? verifier.name : `${verifier.name}/${org}`;
}

/**
 * The names under which the trusted log key may have signed `origin`'s checkpoints: the origin itself
 * (servers since 2026-12) and the host part `evident.<host>` (the releases before, one name for every org's
 * log). Both are the same public key, so accepting either trusts nothing new; it is what lets a key pinned,
 * a checkpoint remembered or a package exported before an upgrade still verify after it. A key under any
 * other name is used as given.
 */
export function logVerifiers(verifier: NoteVerifier, origin: string): NoteVerifier[] {
  const slash = origin.lastIndexOf('/');
  const host = slash > 0 ? origin.slice(0, slash) : origin;
  if (verifier.name !== origin && verifier.name !== host) return [verifier];
  try {
    return [...new Set([origin, host])].map((name) => renamedVerifier(verifier, name));
  } catch {
    return [verifier]; // the origin is not a valid key name: only the key as given can have signed it
  }
}

/** Step 1: the checkpoint must be signed by the pinned key and be for the expected origin. */
export function checkCheckpoint(note: string, verifier: NoteVerifier, expectedOrigin: string): Checkpoint {
  let cp: Checkpoint;
  try {
    cp = openCheckpoint(note, logVerifiers(verifier, expectedOrigin));
  } catch (err) {
    // A key pinned from a server before 2026-12 is named without the org; the log now signs as its origin.
    if (verifier.name !== expectedOrigin && note.includes(`\n\u2014 ${expectedOrigin} `)) {
      throw new EvidentError(
        'VERIFICATION_FAILED',
        `${(err as Error).message}: the log signs with the key named after its origin ${expectedOrigin} (C2SP tlog-checkpoint), not ${verifier.name}; ` +
          'compare `evident log key` with the key its operator published, then pass it with --key (or remove the key pinned under ~/.evident/keys/)',
        { cause: err },
      );
    }
    throw err;
  }
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

/** The outcome of a full check: when it fails, where the first changed entry is. */
export interface FullCheck extends Check {
  /** Every entry before this index is proven unchanged; null when the check passed. */
  firstBad: number | null;
  /** The first changed entry is one of firstBadRange[0]..firstBadRange[1] (inclusive); equal bounds name it exactly. */
  firstBadRange: [number, number] | null;
}

/**
 * Step 3 (--full): re-derive every leaf hash from the entry text and the root from the leaves. The first
 * index that does not match is named: directly when an entry's text disagrees with its leaf hash, and
 * otherwise by bisecting over the prefixes of the re-derived tree (see locateChange).
 */
export async function checkAllEntries(source: LogSource, cp: Checkpoint, org: string, progress?: FullCheckProgress): Promise<FullCheck> {
  const leaves: Hash[] = [];
  const builder = new TreeBuilder();
  const bad = (index: number, message: string): FullCheck => ({ ok: false, firstBad: index, firstBadRange: [index, index], message });
  let start = 0;
  while (start < cp.size) {
    const page = await source.logEntries(start, cp.size);
    if (page.items.length === 0) break;
    for (const item of page.items) {
      const index = leaves.length;
      if (item.index !== index) return bad(index, `the server skipped or repeated entries at index ${index}`);
      const leaf = leafHashOfText(item.entry);
      if (toHex(leaf) !== item.leaf_hash) return bad(index, `entry ${index} does not match its leaf hash: its text was changed`);
      const problem = entryProblem(item.entry, org);
      if (problem) return bad(index, `entry ${index} ${problem}`);
      leaves.push(leaf);
      builder.append(leaf);
    }
    start = leaves.length;
    progress?.(leaves.length, cp.size);
  }
  if (leaves.length !== cp.size) return bad(leaves.length, `the server returned ${leaves.length} entries for a tree of size ${cp.size}`);
  if (bytesEqual(builder.root(), cp.root)) return { ok: true, firstBad: null, firstBadRange: null, message: `All ${cp.size} entries re-derived: leaf hashes and root match the checkpoint` };
  const stored = new Map(appendLeaves(0, [], leaves).stored.map((x) => [x.index, x.hash] as const));
  const derived: DerivedTree = { prefixRoot: async (m) => treeRoot(m, stored), leaf: async (j) => leaves[j]! };
  return changedEntry(await locateChange(source, derived, cp));
}

/** The failed check naming the first changed entry, or the range it is in, as locateChange found it. */
export function changedEntry([from, to]: [number, number]): FullCheck {
  const tail = ': it was changed after it was logged';
  if (from === to) return { ok: false, firstBad: from, firstBadRange: [from, to], message: `entry ${from} is not the entry the signed tree committed to${tail}` };
  const which = to === from + 1 ? `entry ${from} or ${to}` : `one of entries ${from} to ${to}`;
  return {
    ok: false, firstBad: from, firstBadRange: [from, to],
    message: `${which} is not the entry the signed tree committed to${tail} (the stored hashes that would tell which were rewritten too)`,
  };
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

type Verdict = 'unchanged' | 'changed' | 'unknown';

/** The tree re-derived from the entry texts, as locateChange reads it: held in memory, or streamed (log-stream.ts). */
export interface DerivedTree {
  /** The root of the re-derived prefix [0, m). */
  prefixRoot(m: number): Promise<Hash>;
  /** The re-derived leaf hash of entry j. */
  leaf(j: number): Promise<Hash>;
}

const isPowerOfTwo = (x: number): boolean => x > 0 && (x & (x - 1)) === 0;

/**
 * Where the first changed entry is, given leaves re-derived from the entry texts whose root is not the
 * signed one. Nothing the server stores is trusted: a prefix [0, m) is judged only from the signed root,
 * the re-derived leaves and the server's consistency proof from m, which can prove either way:
 * - the proof leads from the re-derived prefix root to the signed root: the prefix is unchanged;
 * - the proof leads to the signed root and commits to a prefix root (RFC 9162 §2.1.4.2 yields it when m
 *   is not a power of two) that differs from the re-derived one: the prefix was changed;
 * - otherwise (a proof built from rewritten stored hashes) it proves nothing, and m is skipped.
 * Trusting a failed proof as "changed" named index K-1 for an odd K whose stored level-0 hash had been
 * rewritten too (F8). When the hashes that separate two entries were both rewritten, no verifier can tell
 * which of them changed (the signed root commits to their pair only): the range names both.
 */
export async function locateChange(source: Pick<LogSource, 'consistencyProof' | 'inclusionProof'>, derived: DerivedTree, cp: Checkpoint): Promise<[number, number]> {
  const probe = async (m: number): Promise<Verdict> => {
    const mine = await derived.prefixRoot(m);
    try {
      const proof = (await source.consistencyProof(m, cp.size)).hashes.map((h) => fromHex(h, 'hash', 32));
      try {
        verifyConsistency(m, cp.size, proof, mine, cp.root);
        return 'unchanged';
      } catch {
        // not proven unchanged; perhaps proven changed
      }
      if (isPowerOfTwo(m)) return await probeAligned(source, derived, cp, m, mine);
      const committed = prefixRootFromConsistencyProof(m, cp.size, proof, cp.root);
      return committed !== undefined && !bytesEqual(committed, mine) ? 'changed' : 'unknown';
    } catch (err) {
      if (err instanceof EvidentError && err.code !== 'UNAVAILABLE') return 'unknown';
      throw err;
    }
  };
  let good = 0; // the prefix of this size is proven unchanged (the empty one always is)
  let bad = cp.size; // the prefix of this size is proven changed (the whole tree: its root differs)
  const unknown = new Set<number>();
  let budget = 64 + 4 * Math.ceil(Math.log2(cp.size + 1));
  while (bad - good > 1 && budget > 0) {
    const m = nearestUnprobed(Math.floor((good + bad) / 2), good, bad, unknown);
    if (m === undefined) break;
    budget--;
    const verdict = await probe(m);
    if (verdict === 'unchanged') good = m;
    else if (verdict === 'changed') bad = m;
    else unknown.add(m);
  }
  // Prefix [0, good) is unchanged and [0, bad) is not: the first changed entry is in [good, bad - 1].
  return [good, bad - 1];
}

/**
 * A prefix [0, m) with m a power of two is a node of the signed tree, the left sibling of subtree
 * [m, m + s) (s = min(m, size - m)) in the inclusion path of each leaf j there. If leaf j as re-derived leads
 * to the signed root through the server's path, that node's hash in the path is genuine, and the prefix is
 * changed exactly when it differs from ours. Tries the first two and the last leaf of [m, m + s): one of
 * them is unchanged unless the rewrite spans them all.
 */
async function probeAligned(source: Pick<LogSource, 'inclusionProof'>, derived: DerivedTree, cp: Checkpoint, m: number, mine: Hash): Promise<Verdict> {
  if (!source.inclusionProof || m >= cp.size) return 'unknown';
  const s = Math.min(m, cp.size - m);
  for (const j of new Set([m, m + 1, m + s - 1])) {
    if (j >= m + s) continue;
    const path = (await source.inclusionProof({ index: j, treeSize: cp.size })).hashes.map((h) => fromHex(h, 'hash', 32));
    if (!bytesEqual(rootFromInclusionProof(j, cp.size, await derived.leaf(j), path), cp.root)) continue;
    const committed = path[pathLength(j - m, s)];
    if (committed !== undefined) return bytesEqual(committed, mine) ? 'unchanged' : 'changed';
  }
  return 'unknown';
}

/** The length of the RFC 9162 §2.1.3.1 inclusion path of leaf i in a tree of s leaves. */
function pathLength(i: number, s: number): number {
  let n = 0;
  while (s > 1) {
    let k = 1;
    while (k * 2 < s) k *= 2;
    if (i < k) s = k;
    else {
      i -= k;
      s -= k;
    }
    n++;
  }
  return n;
}

/** The size in (lo, hi) nearest to `mid` not yet found inconclusive. */
function nearestUnprobed(mid: number, lo: number, hi: number, unknown: Set<number>): number | undefined {
  for (let d = 0; mid - d > lo || mid + d < hi; d++) {
    for (const m of [mid + d, mid - d]) if (m > lo && m < hi && !unknown.has(m)) return m;
  }
  return undefined;
}
