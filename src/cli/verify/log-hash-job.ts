import { createHash, hash } from 'node:crypto';
import { canonicalJson } from '../../formats/index.js';
import { linksOf, mapKey, subjectsOf } from '../../ledger/index.js';
import { scanCanonicalEntry } from './canonical-scan.js';

// The CPU half of `verify log --full` (log-stream.ts): entry bundles in, hashes out. Pure and synchronous,
// so it runs the same in a worker thread (log-hash-worker.ts) or, without one, in the calling thread.

/** 256 entries to a full entry bundle (C2SP tlog-tiles), i.e. one complete subtree of height 8. */
const BUNDLE = 256;

/** A run of consecutive bundles: each a raw entry bundle, or entries read one by one (too long to bundle). */
export interface HashJob {
  /** The index of the first entry of the first bundle. */
  start: number;
  org: string;
  bundles: (Uint8Array | Uint8Array[])[];
  /** How many entries each bundle must hold (256, or fewer for the last one of the tree). */
  widths: number[];
}

export interface HashResult {
  /**
   * Per bundle, in order: a full bundle's subtree hash (32 bytes, RFC 9162 §2.1.1 MTH of its 256 leaves);
   * a shorter (the last, partial) bundle's leaf hashes, 32 bytes each.
   */
  hashes: Uint8Array;
  /** The entries hashed (the sum of the bundles' widths, up to the first problem). */
  count: number;
  /** The first entry that is not a well-formed entry of this org's log, if any (hashing stops there). */
  problem: { index: number; message: string } | null;
  /** For the subject map (docs/log.md, "The subject map"): each subject each entry is about, in index order. */
  moves: SubjectMoves;
}

/**
 * Subject moves, packed for the trip from a hashing thread (one string and three typed arrays instead of an
 * object per move). Move i: entry `indexes[i]` is about the subject with map key `keys[32i, 32i + 32)`
 * (SHA-256 of its key text, the i-th line of `subjects`), and states `prevs[i]` as its link for it: an
 * entry index, NO_PREV (null: the first entry about it) or UNSTATED (the entry predates links).
 */
export interface SubjectMoves {
  count: number;
  indexes: Float64Array;
  prevs: Float64Array;
  keys: Uint8Array;
  subjects: string;
}

export const NO_PREV = -1;
export const UNSTATED = -2;

class MoveList {
  private indexes: number[] = [];
  private prevs: number[] = [];
  private subjects: string[] = [];

  push(index: number, subject: string, prev: number | null | undefined): void {
    this.indexes.push(index);
    this.prevs.push(prev === undefined ? UNSTATED : prev === null ? NO_PREV : prev);
    this.subjects.push(subject);
  }

  packed(): SubjectMoves {
    const count = this.indexes.length;
    const keys = new Uint8Array(32 * count);
    this.subjects.forEach((s, i) => keys.set(mapKey(s), 32 * i));
    return { count, indexes: Float64Array.from(this.indexes), prevs: Float64Array.from(this.prevs), keys, subjects: this.subjects.join('\n') };
  }
}

const LEAF_PREFIX = new Uint8Array([0]);
/** 0x01 ‖ left ‖ right (RFC 9162 §2.1.1), reused: hashing is synchronous. */
const nodeInput = new Uint8Array(65);
nodeInput[0] = 1;
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Hashes every entry of the job's bundles. A bundle's uint16 length prefix is overwritten with the 0x00
 * leaf prefix once read, so each leaf is one SHA-256 call over bytes already in place (the bundle is ours:
 * it was transferred here, or is discarded after).
 */
export function runHashJob(job: HashJob): HashResult {
  const out = new Uint8Array(job.bundles.length * BUNDLE * 32);
  let at = 0;
  let index = job.start;
  const leaves = new Uint8Array(BUNDLE * 32);
  const moves = new MoveList();
  for (const [b, bundle] of job.bundles.entries()) {
    const expected = job.widths[b]!;
    let width = 0;
    const leaf = (bytes: Uint8Array, prefixed: boolean): string | undefined => {
      if (width === expected) return `is beyond the ${expected} entries its entry bundle must hold`;
      const from = prefixed ? 1 : 0;
      // The one-pass scan first; anything it cannot vouch for is decoded and parsed in full.
      const fields = scanCanonicalEntry(bytes, from, bytes.length);
      const parsed = fields ? entryFields(fields, job.org) : fullParse(bytes.subarray(from), job.org);
      if (typeof parsed === 'string') return parsed;
      const problem = subjectMoves(parsed, index + width, moves);
      if (problem) return problem;
      const digest = prefixed ? hash('sha256', bytes, 'buffer') : createHash('sha256').update(LEAF_PREFIX).update(bytes).digest();
      leaves.set(digest, width * 32);
      width++;
      return undefined;
    };
    let problem: string | undefined;
    if (Array.isArray(bundle)) {
      for (const entry of bundle) if ((problem = leaf(entry, false))) break;
    } else {
      for (let p = 0; p < bundle.length && !problem; ) {
        if (p + 2 > bundle.length) {
          problem = 'is cut: the entry bundle ends inside a length prefix';
          break;
        }
        const length = (bundle[p]! << 8) | bundle[p + 1]!;
        if (p + 2 + length > bundle.length) {
          problem = `is cut: the entry bundle ends inside it (it needs ${length} bytes)`;
          break;
        }
        bundle[p + 1] = 0; // the leaf prefix, in place of the length's low byte (read above)
        problem = leaf(bundle.subarray(p + 1, p + 2 + length), true);
        p += 2 + length;
      }
    }
    if (!problem && width < expected) problem = `is missing: its entry bundle holds ${width} entries, not ${expected}`;
    if (problem) return { hashes: out.subarray(0, at), count: index + width - job.start, problem: { index: index + width, message: `entry ${index + width} ${problem}` }, moves: moves.packed() };
    if (width === BUNDLE) {
      out.set(subtreeRoot(leaves, BUNDLE), at);
      at += 32;
    } else {
      out.set(leaves.subarray(0, width * 32), at);
      at += width * 32;
    }
    index += width;
  }
  return { hashes: out.subarray(0, at), count: index - job.start, problem: null, moves: moves.packed() };
}

/** The entry's subjects and stated links, added to `moves`; or why its links are malformed. */
function subjectMoves(entry: Record<string, unknown>, index: number, moves: MoveList): string | undefined {
  const subjects = subjectsOf(entry.type, entry);
  if (subjects.length === 0 && !('prev' in entry)) return undefined;
  let links;
  try {
    links = linksOf(entry, index, subjects);
  } catch (err) {
    return (err as Error).message;
  }
  for (const s of subjects) moves.push(index, s.key, links?.find((l) => l.subject.key === s.key)?.prev);
  return undefined;
}

/** MTH of `n` (a power of two) leaf hashes packed in `leaves`; reduces in place. */
export function subtreeRoot(leaves: Uint8Array, n: number): Uint8Array {
  const level = leaves.slice(0, n * 32);
  for (let width = n; width > 1; width /= 2) {
    for (let i = 0; i < width / 2; i++) {
      // One-shot hash of 0x01 ‖ left ‖ right assembled in place: a Hash object per node cost as much as
      // hashing a ~1 KB leaf (255 nodes per bundle).
      nodeInput.set(level.subarray(64 * i, 64 * i + 64), 1);
      level.set(hash('sha256', nodeInput, 'buffer'), 32 * i);
    }
  }
  return level.subarray(0, 32);
}

/**
 * Why `text` is not an entry of `org`'s log, or undefined. Each entry is RFC 8785 canonical JSON: checked
 * quickly when JSON.stringify writes the parsed value back byte for byte with every object's keys already in
 * sorted order (RFC 8785 §3.2.2 serialises strings and numbers as JSON.stringify does), and otherwise by
 * canonicalising it (escapes, -0, lone surrogates and integer-like keys take that way).
 */
export function entryProblem(text: string, org: string): string | undefined {
  const parsed = parseEntry(text, org);
  return typeof parsed === 'string' ? parsed : undefined;
}

function fullParse(body: Uint8Array, org: string): Record<string, unknown> | string {
  let text: string;
  try {
    text = decoder.decode(body);
  } catch {
    return 'is not UTF-8 text';
  }
  return parseEntry(text, org);
}

/** The entry's parsed object, or why `text` is not an entry of `org`'s log. */
function parseEntry(text: string, org: string): Record<string, unknown> | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'is not JSON';
  }
  if (!(text.indexOf('\\u') === -1 && JSON.stringify(value) === text && keysSorted(value)) && !canonical(value, text)) return 'is not RFC 8785 canonical JSON';
  return entryFields(value as Record<string, unknown>, org);
}

/** The entry (or its fields the verifier reads), or why it is not an entry of `org`'s log. */
function entryFields(value: Record<string, unknown>, org: string): Record<string, unknown> | string {
  const e = value as { org?: unknown; v?: unknown; type?: unknown };
  if (e.org !== org) return `belongs to org ${JSON.stringify(e.org)}, not ${JSON.stringify(org)}`;
  if (e.v !== 1 || typeof e.type !== 'string') return 'lacks the fields v and type';
  return value as Record<string, unknown>;
}

function canonical(value: unknown, text: string): boolean {
  try {
    return canonicalJson(value) === text;
  } catch {
    return false;
  }
}

/** Every object's own keys are in strictly increasing UTF-16 order (RFC 8785 §3.2.3), as parsed. */
function keysSorted(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (!keysSorted(item)) return false;
    return true;
  }
  let previous: string | undefined;
  for (const key of Object.keys(value)) {
    if (previous !== undefined && !(previous < key)) return false;
    if (!keysSorted((value as Record<string, unknown>)[key])) return false;
    previous = key;
  }
  return true;
}
