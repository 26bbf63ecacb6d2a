// What this browser saw of each log (localStorage), as `evident verify log` keeps ~/.evident/checkpoints/: on
// a later visit the log must be proven to have only grown since (RFC 9162 §2.1.4 consistency proof, checked
// here with WebCrypto). Each checkpoint alone verifies even when an operator rolls the log back or shows this
// browser a forked one; only the memory of an earlier one catches it. No DOM here.
import { fromHex, toHex } from './verify/bytes.js';
import { verifyConsistency } from './verify/merkle.js';
import { parseCheckpointText, parseVerifierKey, verifyNote } from './verify/note.js';

const STORAGE_KEY = 'evident.seen-checkpoints.v1';

/** What the browser keeps per log origin: the signed note as served, and when it was seen. */
export interface Seen {
  note: string;
  verifierKey: string;
  size: number;
  at: string;
}

export type RememberedCheck =
  | { kind: 'first'; size: number }
  | { kind: 'same'; previous: Seen }
  | { kind: 'consistent'; previous: Seen; size: number }
  | { kind: 'unverified' }
  | { kind: 'rollback' | 'fork' | 'key-changed' | 'corrupt'; previous: Seen; reason: string };

/** The storage the memory lives in (localStorage in the page; a map in tests). */
export interface SeenStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** The part of the API this check needs. */
export interface ProofSource {
  consistencyProof(from: number, to: number): Promise<{ hashes: string[] }>;
}

export interface Current {
  note: string;
  verifierKey: string;
  verified: boolean;
  origin: string;
  size: number;
  root: Uint8Array;
}

function readAll(storage: SeenStorage): Record<string, Seen> {
  try {
    const parsed = JSON.parse(storage.getItem(STORAGE_KEY) ?? '{}') as unknown;
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, Seen>) : {};
  } catch {
    return {};
  }
}

function remember(storage: SeenStorage, origin: string, seen: Seen): void {
  const all = readAll(storage);
  all[origin] = seen;
  storage.setItem(STORAGE_KEY, JSON.stringify(all));
}

/** Forgets what this browser saw of `origin` (after a key rotation its operator announced, say). */
export function forgetSeen(storage: SeenStorage, origin: string): void {
  const all = readAll(storage);
  delete all[origin];
  storage.setItem(STORAGE_KEY, JSON.stringify(all));
}

/**
 * Compares the verified current checkpoint with the one this browser saw last, and remembers the current one
 * only when it extends it (or is the first). A rollback, a fork or a changed key is reported and never saved.
 */
export async function checkRemembered(api: ProofSource, cp: Current, storage: SeenStorage, now = new Date()): Promise<RememberedCheck> {
  if (!cp.verified) return { kind: 'unverified' };
  const seen: Seen = { note: cp.note, verifierKey: cp.verifierKey, size: cp.size, at: now.toISOString() };
  const previous = readAll(storage)[cp.origin];
  if (!previous || typeof previous.note !== 'string') {
    remember(storage, cp.origin, seen);
    return { kind: 'first', size: cp.size };
  }
  if (previous.verifierKey !== cp.verifierKey) return { kind: 'key-changed', previous, reason: `the log's key was ${previous.verifierKey}` };
  // The remembered note is checked again: storage is not a place to trust either.
  let old: { size: number; root: Uint8Array };
  try {
    const opened = await verifyNote(previous.note, await parseVerifierKey(previous.verifierKey));
    if (!opened.verified) throw new Error(opened.reason ?? 'its signature does not verify');
    old = parseCheckpointText(opened.text);
  } catch (err) {
    return { kind: 'corrupt', previous, reason: `the checkpoint remembered here does not verify: ${(err as Error).message}` };
  }
  if (cp.size < old.size) return { kind: 'rollback', previous, reason: `this browser saw ${old.size} entries; the log now has ${cp.size}` };
  if (cp.size === old.size) {
    if (toHex(cp.root) !== toHex(old.root)) return { kind: 'fork', previous, reason: `two different roots signed for ${cp.size} entries` };
    remember(storage, cp.origin, { ...seen, at: previous.at });
    return { kind: 'same', previous };
  }
  let proven = false;
  try {
    const proof = await api.consistencyProof(old.size, cp.size);
    proven = await verifyConsistency(old.size, cp.size, proof.hashes.map(fromHex), old.root, cp.root);
  } catch {
    proven = false;
  }
  if (!proven) return { kind: 'fork', previous, reason: `no valid consistency proof from ${old.size} to ${cp.size} entries` };
  remember(storage, cp.origin, seen);
  return { kind: 'consistent', previous, size: cp.size };
}

/** One line for the page: whether the log only grew since this browser last saw it. */
export function rememberedLine(r: RememberedCheck): { ok: boolean; text: string } {
  const when = (s: Seen) => new Date(s.at).toLocaleString();
  switch (r.kind) {
    case 'first':
      return { ok: true, text: `First visit of this browser to this log: its checkpoint (${r.size} entries) is remembered, and later visits check that the log only grew.` };
    case 'same':
      return { ok: true, text: `Same tree as this browser saw on ${when(r.previous)} (${r.previous.size} entries).` };
    case 'consistent':
      return { ok: true, text: `The log only grew since this browser saw it on ${when(r.previous)}: ${r.previous.size} → ${r.size} entries, proven here (RFC 9162 consistency proof).` };
    case 'unverified':
      return { ok: false, text: 'Not compared with what this browser saw before: the checkpoint’s signature did not verify.' };
    case 'rollback':
      return { ok: false, text: `ROLLBACK: ${r.reason} (seen ${when(r.previous)}). Keep both checkpoints: together they prove it.` };
    case 'fork':
      return { ok: false, text: `FORK: ${r.reason} since ${when(r.previous)}. Keep both checkpoints: together they prove it.` };
    case 'key-changed':
      return { ok: false, text: `The log’s key changed since this browser saw it on ${when(r.previous)} (${r.reason}). Compare the new key with the one its operator published before trusting it.` };
    case 'corrupt':
      return { ok: false, text: `${r.reason}.` };
  }
}
