import { hash } from 'node:crypto';
import { EvidentError, bytesEqual } from '../core/index.js';
import {
  HASH_SIZE, MAX_BUNDLED_ENTRY_BYTES, TILE_WIDTH, encodeEntryBundle, leafHash, parseTilePath, tilePath, tileWidthAt, type TileRef,
} from '../ledger/index.js';
import type { LogHead, OrgRecord, Store } from '../store/index.js';
import type { LogService } from './log-service.js';

/** A tile's bytes and whether it is full (a full tile never changes: it may be cached forever). */
export interface TileBytes {
  tile: TileRef;
  bytes: Uint8Array;
  full: boolean;
}

/**
 * The org's log as C2SP tlog-tiles (docs/log.md, "Tiles"): hash tiles and entry bundles. A tiles client checks
 * every tile against the signed checkpoint it fetched first (golang.org/x/mod/sumdb/tlog TileHashReader does
 * exactly that), but a full tile is served `immutable`, and a cache in front of the server would keep an
 * edited row forever: so the server checks each tile against the root of the head it signs before serving it
 * (log-verified-tiles.ts): hash tiles lead to the signed root, and each entry of a bundle hashes (RFC 9162
 * §2.1.1) to the checked level-0 hash at its index. Anything else is TAMPERED, and nothing is served.
 */
export class LogTiles {
  /**
   * SHA-256 of each full entry bundle checked entry by entry (bounded, least recently used dropped): the same
   * bytes read again are the checked ones (one digest of ~25 KB instead of 256 leaf hashes).
   */
  private readonly bundles = new Map<string, Uint8Array>();

  constructor(private readonly store: Store, private readonly log: LogService, private readonly maxBundles = 65_536) {}

  /** `rest` is the path after `tile/`, e.g. `0/x001/234` or `entries/005.p/17`. */
  async read(org: OrgRecord, rest: string): Promise<TileBytes> {
    const tile = parseTilePath(rest);
    // The head the checkpoint signs (LogService.checkpoint reads the same).
    const head = await this.store.log.head(org.id);
    const available = tileWidthAt(head.size, tile.kind, tile.level, tile.index);
    if (available < tile.width) {
      throw new EvidentError('NOT_FOUND', `${tilePath(tile)} does not exist in a tree of ${head.size} entries${available > 0 ? ` (that tile has ${available} so far: ${tilePath({ ...tile, width: available })})` : ''}`);
    }
    // A bundle's check needs the level-0 hash tile under it only when its bytes are not the ones checked before.
    const hashes = () => this.log.verified.tile(org.id, head, tile.kind === 'hashes' ? tile.level : 0, tile.index, tile.width, this.log.hashReader(org));
    const bytes = tile.kind === 'hashes' ? await hashes() : await this.entryBundle(org, head, tile, hashes);
    return { tile, bytes, full: tile.width === TILE_WIDTH };
  }

  /**
   * The bundle's bytes, each entry checked against `leaves` (the checked level-0 hashes under it) unless the
   * bytes are a full bundle's checked before: those entries hashed to the leaves of a tree this server signed,
   * and every head it signs after extends that tree (RFC 9162 §2.1.4), so the same bytes are the same leaves.
   * Not asking for the hash tile then matters past 1M entries: the checked hash tiles kept (log-proofs.ts,
   * 4,096) no longer cover every level-0 tile, and each pass of `verify log --full` over 5M entries read and
   * hashed every one of them again.
   */
  private async entryBundle(org: OrgRecord, head: LogHead, tile: TileRef, leaves: () => Promise<Uint8Array>): Promise<Uint8Array> {
    const start = tile.index * TILE_WIDTH;
    const bundle = await this.store.log.entryBundle(org.id, start, start + tile.width);
    if (bundle.count !== tile.width) throw new EvidentError('TAMPERED', `entries ${start}–${start + tile.width - 1} of ${org.name}'s log are incomplete`);
    if (bundle.longest <= MAX_BUNDLED_ENTRY_BYTES) {
      const full = tile.width === TILE_WIDTH;
      const key = `${org.id}/${tile.index}`;
      const digest = full ? new Uint8Array(hash('sha256', bundle.bytes, 'buffer')) : undefined;
      const known = full ? this.bundles.get(key) : undefined;
      if (!known || !bytesEqual(known, digest!)) {
        checkBundle(bundle.bytes, start, await leaves(), head.size);
        if (digest) this.keepBundle(key, digest);
      }
      return bundle.bytes;
    }
    // An entry too long to bundle: the rows again, so the answer names it (encodeEntryBundle refuses it).
    const rows = await this.store.log.entryBytes(org.id, start, start + tile.width);
    checkEntries(rows, start, await leaves(), head.size);
    try {
      return encodeEntryBundle(rows.map((bytes, i) => ({ index: start + i, bytes })));
    } catch (err) {
      // An entry too long for the bundle's uint16 frame: the client is told where to read it instead.
      throw new EvidentError('PAYLOAD_TOO_LARGE', (err as Error).message, { cause: err });
    }
  }

  private keepBundle(key: string, digest: Uint8Array): void {
    this.bundles.delete(key);
    if (this.bundles.size >= this.maxBundles) this.bundles.delete(this.bundles.keys().next().value!);
    if (this.maxBundles > 0) this.bundles.set(key, digest);
  }
}

/**
 * Each framed entry of a bundle must hash (RFC 9162 §2.1.1) to the checked level-0 hash at its index. The leaf
 * hash input 0x00 ‖ entry is the bundle's own bytes with the frame's low length byte set to 0 for the moment
 * of hashing: no copy of the entry, no object per entry (the check is most of what a cold bundle costs).
 */
function checkBundle(bytes: Uint8Array, start: number, leaves: Uint8Array, size: number): void {
  const count = leaves.length / HASH_SIZE;
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 2 > bytes.length) break;
    const length = (bytes[at]! << 8) | bytes[at + 1]!;
    if (at + 2 + length > bytes.length) break;
    const low = bytes[at + 1]!;
    bytes[at + 1] = 0x00;
    const leaf = hash('sha256', bytes.subarray(at + 1, at + 2 + length), 'buffer');
    bytes[at + 1] = low;
    if (!bytesEqual(leaf, leaves.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE))) {
      throw new EvidentError('TAMPERED', `log entry ${start + i} does not hash to the leaf of the signed tree of size ${size}`);
    }
    at += 2 + length;
    if (i === count - 1 && at === bytes.length) return;
  }
  throw new EvidentError('TAMPERED', `entries ${start}–${start + count - 1} of the log are not ${count} framed entries`);
}

/** Each entry must hash (RFC 9162 §2.1.1 leaf hash) to the checked level-0 hash at its index. */
function checkEntries(entries: readonly Uint8Array[], start: number, leaves: Uint8Array, size: number): void {
  if (entries.length * HASH_SIZE !== leaves.length) {
    throw new EvidentError('TAMPERED', `entries ${start}–${start + leaves.length / HASH_SIZE - 1} of the log are incomplete`);
  }
  entries.forEach((entry, i) => {
    if (!bytesEqual(leafHash(entry), leaves.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE))) {
      throw new EvidentError('TAMPERED', `log entry ${start + i} does not hash to the leaf of the signed tree of size ${size}`);
    }
  });
}
