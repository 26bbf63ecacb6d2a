import { checkCount, invalid } from './hash.js';
import { storedHashIndex } from './stored.js';

// C2SP tlog-tiles: the log read as immutable files. A tile at level L, index N holds the hashes of tree level
// 8L (TILE_HEIGHT) at positions N·256 … N·256+W-1; a full tile has W = 256 and never changes, a partial tile
// (path suffix `.p/W`) has fewer. Entry bundles hold the entries themselves, 256 to a full bundle. All of a
// tile's hashes are stored hashes (each is a complete subtree), as in golang.org/x/mod/sumdb/tlog tile.go.

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 2 ** TILE_HEIGHT;
/** An entry bundle frames each entry with a big-endian uint16 length (C2SP tlog-tiles, "Log Entries"). */
export const MAX_BUNDLED_ENTRY_BYTES = 0xffff;

export interface TileRef {
  /** 'hashes': a Merkle tree tile; 'entries': an entry bundle. */
  kind: 'hashes' | 'entries';
  /** Tile level (0 for entry bundles). */
  level: number;
  index: number;
  /** 1..256; 256 is a full tile. */
  width: number;
}

/** The path of a tile below the log's prefix: `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`. */
export function tilePath(tile: TileRef): string {
  const head = tile.kind === 'entries' ? 'tile/entries' : `tile/${tile.level}`;
  return `${head}/${encodeTileIndex(tile.index)}${tile.width === TILE_WIDTH ? '' : `.p/${tile.width}`}`;
}

/** N as path elements of three digits, all but the last prefixed with `x` (1234067 → x001/x234/067). */
export function encodeTileIndex(index: number): string {
  checkCount(index, 'tile index');
  const groups: string[] = [];
  let n = index;
  do {
    groups.unshift(String(n % 1000).padStart(3, '0'));
    n = Math.floor(n / 1000);
  } while (n > 0);
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

const LEVEL = /^(0|[1-9][0-9]?)$/;
const WIDTH = /^([1-9][0-9]{0,2})$/;

/**
 * Parses the part of a tile path after `tile/`. Strict: one spelling per tile (no leading zeros in L or W,
 * three digits per index element), so a cache never holds two copies of one tile under two names.
 */
export function parseTilePath(rest: string): TileRef {
  const parts = rest.split('/');
  const bad = (why: string) => invalid(`tile path ${JSON.stringify(`tile/${rest}`.slice(0, 120))}: ${why}`);
  const head = parts.shift();
  let kind: TileRef['kind'];
  let level = 0;
  if (head === 'entries') kind = 'entries';
  else if (head !== undefined && LEVEL.test(head) && Number(head) <= 63) {
    kind = 'hashes';
    level = Number(head);
  } else throw bad('the level must be a number 0–63 or "entries"');
  let width = TILE_WIDTH;
  if (parts.length >= 2 && parts[parts.length - 2]!.endsWith('.p')) {
    const w = parts.pop()!;
    if (!WIDTH.test(w) || Number(w) >= TILE_WIDTH) throw bad('a partial width must be 1–255');
    width = Number(w);
    parts[parts.length - 1] = parts[parts.length - 1]!.slice(0, -2);
  }
  if (parts.length === 0 || parts.length > 6) throw bad('the index must have 1 to 6 elements');
  let index = 0;
  parts.forEach((p, i) => {
    const last = i === parts.length - 1;
    const digits = last ? p : p.startsWith('x') ? p.slice(1) : null;
    if (digits === null || !/^[0-9]{3}$/.test(digits)) throw bad('each index element is three digits, all but the last prefixed with x');
    index = index * 1000 + Number(digits);
  });
  if (parts.length > 1 && parts[0] === 'x000') throw bad('the index has a leading zero element');
  if (!Number.isSafeInteger(index)) throw bad('the index is too large');
  return { kind, level, index, width };
}

/** How many hashes (or entries) of this tile exist in a tree of `size` leaves: 0 to 256. */
export function tileWidthAt(size: number, kind: TileRef['kind'], level: number, index: number): number {
  checkCount(size, 'size');
  const nodes = kind === 'entries' ? size : Math.floor(size / 2 ** (TILE_HEIGHT * level));
  return Math.max(0, Math.min(TILE_WIDTH, nodes - index * TILE_WIDTH));
}

/** The stored-hash indexes of a hash tile's W hashes, in tile order. */
export function tileHashIndexes(tile: TileRef): number[] {
  const start = tile.index * TILE_WIDTH;
  return Array.from({ length: tile.width }, (_, i) => storedHashIndex(TILE_HEIGHT * tile.level, start + i));
}

/** Frames entries as a C2SP entry bundle; refuses an entry longer than its uint16 length prefix can say. */
export function encodeEntryBundle(entries: readonly { index: number; bytes: Uint8Array }[]): Uint8Array {
  let total = 0;
  for (const e of entries) {
    if (e.bytes.length > MAX_BUNDLED_ENTRY_BYTES) {
      throw invalid(`entry ${e.index} is ${e.bytes.length} bytes: an entry bundle holds entries up to ${MAX_BUNDLED_ENTRY_BYTES} bytes (read it from log/entries instead)`);
    }
    total += 2 + e.bytes.length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const e of entries) {
    out[at] = e.bytes.length >> 8;
    out[at + 1] = e.bytes.length & 0xff;
    out.set(e.bytes, at + 2);
    at += 2 + e.bytes.length;
  }
  return out;
}

/** Splits an entry bundle into its entries; throws on a truncated or overlong frame. */
export function decodeEntryBundle(bundle: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < bundle.length) {
    if (at + 2 > bundle.length) throw invalid(`entry bundle: a length prefix is cut at byte ${at}`);
    const length = (bundle[at]! << 8) | bundle[at + 1]!;
    if (at + 2 + length > bundle.length) throw invalid(`entry bundle: entry ${out.length} is cut (needs ${length} bytes at ${at + 2})`);
    out.push(bundle.subarray(at + 2, at + 2 + length));
    at += 2 + length;
  }
  return out;
}
