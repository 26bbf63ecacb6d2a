import { EvidentError } from '../core/index.js';
import {
  HASH_SIZE, MAX_BUNDLED_ENTRY_BYTES, TILE_WIDTH, encodeEntryBundle, parseTilePath, tileHashIndexes, tilePath, tileWidthAt, type TileRef,
} from '../ledger/index.js';
import type { OrgRecord, Store } from '../store/index.js';
import type { LogService } from './log-service.js';

/** A tile's bytes and whether it is full (a full tile never changes: it may be cached forever). */
export interface TileBytes {
  tile: TileRef;
  bytes: Uint8Array;
  full: boolean;
}

/**
 * The org's log as C2SP tlog-tiles (docs/log.md, "Tiles"): hash tiles and entry bundles, read from the
 * stored hashes and entries. Nothing here is trusted by a reader: a tiles client checks every tile against
 * the signed checkpoint it fetched first (golang.org/x/mod/sumdb/tlog TileHashReader does exactly that).
 */
export class LogTiles {
  constructor(private readonly store: Store, private readonly log: LogService) {}

  /** `rest` is the path after `tile/`, e.g. `0/x001/234` or `entries/005.p/17`. */
  async read(org: OrgRecord, rest: string): Promise<TileBytes> {
    const tile = parseTilePath(rest);
    const size = await this.log.size(org);
    const available = tileWidthAt(size, tile.kind, tile.level, tile.index);
    if (available < tile.width) {
      throw new EvidentError('NOT_FOUND', `${tilePath(tile)} does not exist in a tree of ${size} entries${available > 0 ? ` (that tile has ${available} so far: ${tilePath({ ...tile, width: available })})` : ''}`);
    }
    const bytes = tile.kind === 'hashes' ? await this.hashTile(org, tile) : await this.entryBundle(org, tile);
    return { tile, bytes, full: tile.width === TILE_WIDTH };
  }

  private async hashTile(org: OrgRecord, tile: TileRef): Promise<Uint8Array> {
    const indexes = tileHashIndexes(tile);
    const stored = await this.store.log.readHashes(org.id, indexes);
    const out = new Uint8Array(indexes.length * HASH_SIZE);
    indexes.forEach((index, i) => {
      const hash = stored.get(index);
      if (!hash) throw new EvidentError('TAMPERED', `stored hash ${index} is missing from the log of ${org.name}`);
      out.set(hash, i * HASH_SIZE);
    });
    return out;
  }

  private async entryBundle(org: OrgRecord, tile: TileRef): Promise<Uint8Array> {
    const start = tile.index * TILE_WIDTH;
    const bundle = await this.store.log.entryBundle(org.id, start, start + tile.width);
    if (bundle.count !== tile.width) throw new EvidentError('TAMPERED', `entries ${start}–${start + tile.width - 1} of ${org.name}'s log are incomplete`);
    if (bundle.longest <= MAX_BUNDLED_ENTRY_BYTES) return bundle.bytes;
    // An entry too long to bundle: the rows again, so the answer names it (encodeEntryBundle refuses it).
    const rows = await this.store.log.entryBytes(org.id, start, start + tile.width);
    if (rows.length !== tile.width) throw new EvidentError('TAMPERED', `entries ${start}–${start + tile.width - 1} of ${org.name}'s log are incomplete`);
    try {
      return encodeEntryBundle(rows.map((bytes, i) => ({ index: start + i, bytes })));
    } catch (err) {
      // An entry too long for the bundle's uint16 frame: the client is told where to read it instead.
      throw new EvidentError('PAYLOAD_TOO_LARGE', (err as Error).message, { cause: err });
    }
  }
}
