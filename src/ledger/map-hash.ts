import { hash } from 'node:crypto';
import { EvidentError, bytesEqual, fromBase64, fromHex, toBase64 } from '../core/index.js';
import { HASH_SIZE, type Hash } from './hash.js';

// The subject map (docs/log.md, "The subject map"): a compressed sparse Merkle tree over 256-bit keys
// whose leaves say "the latest log entry about subject K is entry I". Its hashes are domain-separated from
// the log's RFC 9162 hashes (0x00 leaf, 0x01 node) by their own prefixes 0x02 and 0x03.

/** The hash of an empty subtree at any height, and the root of the empty map: 32 zero bytes. */
export const MAP_EMPTY: Hash = new Uint8Array(HASH_SIZE);
/** Keys are 256 bits; a proof has at most this many sibling hashes. */
export const MAP_DEPTH = 256;
/** The checkpoint extension line that carries the map root: `evident-map/v1 <base64 root>`. */
export const MAP_EXTENSION = 'evident-map/v1';

const LEAF = 0x02;
const NODE = 0x03;

// The map's hashes go through node:crypto's one-shot `hash` with a 'binary' (latin1) digest: a
// 32-character string, one character per byte, which is the in-memory tree's form (map-tree.ts). That skips the Buffer a digest
// would otherwise be (its own backing store for the garbage collector to free) and the Hash object
// createHash makes: ~0.37 µs a 65-byte node on this machine, against ~1.4 µs for the plain-JavaScript
// SHA-256 this replaced and ~2.5 µs for createHash (docs/performance.md, issue #17). crypto.hash is in
// every Node.js release package.json's engines allows (20.12+, 21.7+).
const SHA256 = 'sha256';

/** The map key of a subject key text (e.g. `["artifact","<fp>"]`): SHA-256 of its UTF-8 bytes. */
export function mapKey(subject: string): Hash {
  // A string input is hashed as its UTF-8 bytes (a lone surrogate as U+FFFD, as TextEncoder does).
  return binaryToHash(hash(SHA256, subject, 'binary'));
}

// The inputs are assembled in two buffers reused by every call: hashing is synchronous, and a batch update
// hashes about ten nodes per entry (performance.md), so an allocation per hash is measurable.
const leafInput = new Uint8Array(1 + HASH_SIZE + 8);
const leafView = new DataView(leafInput.buffer);
leafInput[0] = LEAF;
const nodeInput = new Uint8Array(1 + 2 * HASH_SIZE);
nodeInput[0] = NODE;

/** Fills leafInput with 0x02 || key || uint64 big-endian index. */
function leafBytes(key: Hash, index: number): void {
  if (!Number.isSafeInteger(index) || index < 0) throw new EvidentError('INVALID_ARGUMENT', `map index must be a non-negative integer, not ${index}`);
  leafInput.set(key, 1);
  leafView.setUint32(1 + HASH_SIZE, Math.floor(index / 2 ** 32));
  leafView.setUint32(1 + HASH_SIZE + 4, index >>> 0);
}

/** SHA-256(0x02 || key || uint64 big-endian index): a subtree holding the single leaf (key → index). */
export function mapLeafHash(key: Hash, index: number): Hash {
  leafBytes(key, index);
  return binaryToHash(hash(SHA256, leafInput, 'binary'));
}

/** SHA-256(0x03 || left || right): a subtree holding two or more leaves. */
export function mapNodeHash(left: Hash, right: Hash): Hash {
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + HASH_SIZE);
  return binaryToHash(hash(SHA256, nodeInput, 'binary'));
}

/** A binary-string hash (a 'binary', i.e. latin1, digest: one character per byte) as bytes. */
export function binaryToHash(h: string): Hash {
  const out = new Uint8Array(HASH_SIZE);
  for (let i = 0; i < HASH_SIZE; i++) out[i] = h.charCodeAt(i);
  return out;
}

/** mapLeafHash as a binary string (the in-memory tree's form, map-tree.ts). */
export function mapLeafHashBinary(key: Hash, index: number): string {
  leafBytes(key, index);
  return hash(SHA256, leafInput, 'binary');
}

/** mapNodeHash of binary-string hashes (null: an empty subtree, 32 zero bytes), as a binary string. */
export function mapNodeHashBinary(left: string | null, right: string | null): string {
  if (left === null) nodeInput.fill(0, 1, 1 + HASH_SIZE);
  else for (let i = 0; i < HASH_SIZE; i++) nodeInput[1 + i] = left.charCodeAt(i);
  if (right === null) nodeInput.fill(0, 1 + HASH_SIZE);
  else for (let i = 0; i < HASH_SIZE; i++) nodeInput[1 + HASH_SIZE + i] = right.charCodeAt(i);
  return hash(SHA256, nodeInput, 'binary');
}

/**
 * mapLeafHash of the key at `keys[keyAt, keyAt + 32)`, written to `out[outAt, outAt + 32)`: the flat tree's form
 * (map-flat.ts), where keys and hashes live in pooled arrays and a view per call would be an object per hash.
 */
export function mapLeafHashInto(keys: Uint8Array, keyAt: number, index: number, out: Uint8Array, outAt: number): void {
  if (!Number.isSafeInteger(index) || index < 0) throw new EvidentError('INVALID_ARGUMENT', `map index must be a non-negative integer, not ${index}`);
  for (let i = 0; i < HASH_SIZE; i++) leafInput[1 + i] = keys[keyAt + i]!;
  leafView.setUint32(1 + HASH_SIZE, Math.floor(index / 2 ** 32));
  leafView.setUint32(1 + HASH_SIZE + 4, index >>> 0);
  copyBinary(hash(SHA256, leafInput, 'binary'), out, outAt);
}

/**
 * mapNodeHash of the hashes at `hashes[left, left + 32)` and `hashes[right, right + 32)` (an offset of -1: an
 * empty subtree), written to `hashes[outAt, outAt + 32)` (map-flat.ts).
 */
export function mapNodeHashInto(hashes: Uint8Array, left: number, right: number, outAt: number): void {
  if (left < 0) nodeInput.fill(0, 1, 1 + HASH_SIZE);
  else for (let i = 0; i < HASH_SIZE; i++) nodeInput[1 + i] = hashes[left + i]!;
  if (right < 0) nodeInput.fill(0, 1 + HASH_SIZE);
  else for (let i = 0; i < HASH_SIZE; i++) nodeInput[1 + HASH_SIZE + i] = hashes[right + i]!;
  copyBinary(hash(SHA256, nodeInput, 'binary'), hashes, outAt);
}

function copyBinary(h: string, out: Uint8Array, at: number): void {
  for (let i = 0; i < HASH_SIZE; i++) out[at + i] = h.charCodeAt(i);
}

/** Bit `depth` of a key, most significant bit of byte 0 first: 0 goes left, 1 right. */
export function keyBit(key: Hash, depth: number): number {
  return (key[depth >> 3]! >> (7 - (depth & 7))) & 1;
}

/**
 * A proof about one key: the sibling hashes from the root down (one per level walked), and what the walk
 * ends at: the only leaf of that subtree (the key itself: presence; another key: absence), or an empty
 * subtree (absence).
 */
export interface MapProof {
  key: Hash;
  siblings: Hash[];
  leaf: { key: Hash; index: number } | null;
}

function failed(message: string): EvidentError {
  return new EvidentError('VERIFICATION_FAILED', `map proof: ${message}`);
}

/**
 * Checks a proof against a trusted map root and returns what it proves: the latest entry index of the key,
 * or null when the key is absent. Throws VERIFICATION_FAILED on any other outcome.
 */
export function verifyMapProof(root: Hash, proof: MapProof): number | null {
  const { key, siblings, leaf } = proof;
  if (!(key instanceof Uint8Array) || key.length !== HASH_SIZE) throw failed('the key is not 32 bytes');
  if (!Array.isArray(siblings) || siblings.length > MAP_DEPTH) throw failed(`more than ${MAP_DEPTH} sibling hashes`);
  let h: Hash = MAP_EMPTY;
  if (leaf !== null) {
    if (!(leaf.key instanceof Uint8Array) || leaf.key.length !== HASH_SIZE) throw failed('the leaf key is not 32 bytes');
    if (!Number.isSafeInteger(leaf.index) || leaf.index < 0) throw failed('the leaf index is not a non-negative integer');
    // The leaf stands for the whole subtree at this depth, so it must lie on the key's path.
    for (let d = 0; d < siblings.length; d++) {
      if (keyBit(leaf.key, d) !== keyBit(key, d)) throw failed('the leaf is not on the path of the key');
    }
    h = mapLeafHash(leaf.key, leaf.index);
  }
  for (let d = siblings.length - 1; d >= 0; d--) {
    const s = siblings[d]!;
    if (!(s instanceof Uint8Array) || s.length !== HASH_SIZE) throw failed(`sibling ${d} is not 32 bytes`);
    h = keyBit(key, d) === 0 ? mapNodeHash(h, s) : mapNodeHash(s, h);
  }
  if (!bytesEqual(h, root)) throw failed('it does not lead to the map root');
  return leaf !== null && bytesEqual(leaf.key, key) ? leaf.index : null;
}

/** The proof as JSON: hex hashes, as the API serves it and packages carry it. */
export interface MapProofJson {
  key: string;
  siblings: string[];
  leaf: { key: string; index: number } | null;
}

export function mapProofToJson(p: MapProof): MapProofJson {
  const hex = (h: Hash) => Buffer.from(h).toString('hex');
  return { key: hex(p.key), siblings: p.siblings.map(hex), leaf: p.leaf && { key: hex(p.leaf.key), index: p.leaf.index } };
}

/** Parses an untrusted JSON proof (shape only; verifyMapProof checks it). */
export function mapProofFromJson(j: MapProofJson): MapProof {
  if (j === null || typeof j !== 'object' || !Array.isArray(j.siblings)) throw failed('malformed proof');
  if (j.siblings.length > MAP_DEPTH) throw failed(`more than ${MAP_DEPTH} sibling hashes`);
  try {
    return {
      key: fromHex(j.key, 'key', HASH_SIZE),
      siblings: j.siblings.map((s, i) => fromHex(s, `siblings[${i}]`, HASH_SIZE)),
      leaf: j.leaf === null ? null : { key: fromHex(j.leaf.key, 'leaf.key', HASH_SIZE), index: j.leaf.index },
    };
  } catch (err) {
    throw failed((err as Error).message);
  }
}

/** The extension line for a map root. */
export function mapExtension(root: Hash): string {
  return `${MAP_EXTENSION} ${toBase64(root)}`;
}

/**
 * The map root a checkpoint's extension lines commit to; undefined for a checkpoint without one (logged
 * before the map existed). Two map lines, or a malformed one, are refused.
 */
export function mapRootOf(extensions: readonly string[]): Hash | undefined {
  const lines = extensions.filter((e) => e.startsWith(`${MAP_EXTENSION} `) || e === MAP_EXTENSION);
  if (lines.length === 0) return undefined;
  if (lines.length > 1) throw failed('the checkpoint has two map lines');
  const b64 = lines[0]!.slice(MAP_EXTENSION.length + 1);
  let root: Hash;
  try {
    root = fromBase64(b64, 'map root', HASH_SIZE);
  } catch {
    throw failed('the map line is not base64 of 32 bytes');
  }
  if (toBase64(root) !== b64) throw failed('the map line is not canonical base64');
  return root;
}
