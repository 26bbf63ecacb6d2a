// The subject map proof (docs/log.md, "The subject map") checked in the browser, with WebCrypto's SHA-256:
// the same rules as src/ledger/map-hash.ts (which runs on Node's crypto and cannot be bundled here), so a
// browser can tell which entry is the newest about a subject at a checkpoint without trusting the server.
import { concat, equalBytes, fromBase64, fromHex, sha256, toBase64 } from './bytes.js';

const HASH_SIZE = 32;
const MAP_DEPTH = 256;
const MAP_EXTENSION = 'evident-map/v1';
const LEAF = 0x02;
const NODE = 0x03;

export interface MapProofJson {
  key: string;
  siblings: string[];
  leaf: { key: string; index: number } | null;
}

/** The map key of a subject key text (`["trail","<flow>","<trail>"]`): SHA-256 of its UTF-8 bytes. */
export function mapKey(subject: string): Promise<Uint8Array> {
  return sha256(new TextEncoder().encode(subject));
}

/** The map root a checkpoint's extension line `evident-map/v1 <base64>` commits to; undefined without one. */
export function mapRootOf(extensions: readonly string[]): Uint8Array | undefined {
  const lines = extensions.filter((e) => e.startsWith(`${MAP_EXTENSION} `) || e === MAP_EXTENSION);
  if (lines.length === 0) return undefined;
  if (lines.length > 1) throw new Error('map proof: the checkpoint has two map lines');
  const b64 = lines[0]!.slice(MAP_EXTENSION.length + 1);
  const root = fromBase64(b64);
  if (root.length !== HASH_SIZE || toBase64(root) !== b64) throw new Error('map proof: the map line is not canonical base64 of 32 bytes');
  return root;
}

const keyBit = (key: Uint8Array, depth: number) => (key[depth >> 3]! >> (7 - (depth & 7))) & 1;

function hash32(hex: string, what: string): Uint8Array {
  const h = fromHex(hex);
  if (h.length !== HASH_SIZE) throw new Error(`map proof: ${what} is not 32 bytes`);
  return h;
}

/**
 * Checks a proof for `subject` against a trusted map root: the newest entry index about it, or null when the
 * map proves it absent. Throws on any other outcome (a proof for another key, one that misses the root).
 */
export async function verifyMapProof(root: Uint8Array, subject: string, proof: MapProofJson): Promise<number | null> {
  const key = hash32(proof.key, 'the key');
  if (!equalBytes(key, await mapKey(subject))) throw new Error(`map proof: it is for another key than ${subject}`);
  if (!Array.isArray(proof.siblings) || proof.siblings.length > MAP_DEPTH) throw new Error(`map proof: more than ${MAP_DEPTH} sibling hashes`);
  const siblings = proof.siblings.map((s, i) => hash32(s, `sibling ${i}`));
  let h: Uint8Array = new Uint8Array(HASH_SIZE);
  let leafKey: Uint8Array | null = null;
  if (proof.leaf !== null) {
    leafKey = hash32(proof.leaf.key, 'the leaf key');
    const index = proof.leaf.index;
    if (!Number.isSafeInteger(index) || index < 0) throw new Error('map proof: the leaf index is not a non-negative integer');
    for (let d = 0; d < siblings.length; d++) if (keyBit(leafKey, d) !== keyBit(key, d)) throw new Error('map proof: the leaf is not on the path of the key');
    const be = new Uint8Array(8);
    const view = new DataView(be.buffer);
    view.setUint32(0, Math.floor(index / 2 ** 32));
    view.setUint32(4, index >>> 0);
    h = await sha256(concat(new Uint8Array([LEAF]), leafKey, be));
  }
  for (let d = siblings.length - 1; d >= 0; d--) {
    const s = siblings[d]!;
    h = await sha256(keyBit(key, d) === 0 ? concat(new Uint8Array([NODE]), h, s) : concat(new Uint8Array([NODE]), s, h));
  }
  if (!equalBytes(h, root)) throw new Error('map proof: it does not lead to the map root');
  return proof.leaf !== null && leafKey !== null && equalBytes(leafKey, key) ? proof.leaf.index : null;
}
