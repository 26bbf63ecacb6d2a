import { EvidentError, bytesEqual, toHex } from '../core/index.js';
import {
  linksOf, lookupMap, mapHashOf, mapKey, subjectsOf, updateMap, type MapNode, type MapUpdate, type PrevLinks, type Subject,
} from '../ledger/index.js';
import type { LogHead, MapLeafRow, Store, StoredEntry } from '../store/index.js';

/** The map as of a head: the tree of the first `size` entries, and the leaves to write if it was just rebuilt. */
export interface MapState {
  size: number;
  root: MapNode | null;
  /** Leaves recomputed from the log (a log from before the map existed): the next append writes them. */
  rebuilt: MapLeafRow[];
}

const PAGE = 1000;

/**
 * The subject map of each org's log, kept in memory (docs/log.md, "The subject map"). What is read from the
 * database is never taken on trust: leaves moved by another process are re-read, each must name an entry
 * that is about its subject, and the tree they make must have the map root committed with the head; else
 * the log refuses to go on (TAMPERED). A log from before the map is rebuilt from its entries.
 */
export class LogMaps {
  private readonly cache = new Map<number, { size: number; root: MapNode | null }>();

  constructor(private readonly store: Store) {}

  /** Remembers the map this process committed with a head. */
  remember(orgId: number, size: number, root: MapNode | null): void {
    this.cache.set(orgId, { size, root });
  }

  /**
   * The verified map as of `head`. `reads` reads the leaves moved at or after an index, and entries, in the
   * same view of the database as `head` (the append transaction, or a read after which the head is re-read).
   */
  async at(orgId: number, head: LogHead, reads: MapReads): Promise<MapState> {
    const cached = this.cache.get(orgId);
    if (head.mapRoot === null) {
      if (head.size === 0) return { size: 0, root: null, rebuilt: [] };
      return this.rebuild(orgId, head);
    }
    if (cached && cached.size === head.size && bytesEqual(mapHashOf(cached.root), head.mapRoot)) return { ...cached, rebuilt: [] };
    const base = cached && cached.size <= head.size ? cached : { size: 0, root: null };
    const moved = (await reads.leaves(base.size)).filter((l) => l.index < head.size);
    await checkLeaves(reads, moved);
    const root = updateMap(base.root, moved.map((l) => ({ key: l.key, index: l.index })));
    if (!bytesEqual(mapHashOf(root), head.mapRoot)) {
      throw new EvidentError('TAMPERED', `the subject map's rows do not make the map root committed at log size ${head.size} (${toHex(head.mapRoot)}): they were edited`);
    }
    this.cache.set(orgId, { size: head.size, root });
    return { size: head.size, root, rebuilt: [] };
  }

  /** The map recomputed from every entry below head.size (the only source of truth). */
  private async rebuild(orgId: number, head: LogHead): Promise<MapState> {
    const { root, leaves } = await mapFromLog((start, end) => this.store.log.entries(orgId, start, end), head.size);
    return { size: head.size, root, rebuilt: leaves };
  }
}

export interface MapReads {
  leaves(from: number): Promise<MapLeafRow[]>;
  entriesAt(indexes: readonly number[]): Promise<StoredEntry[]>;
}

/** Each leaf's key is its subject's, and its entry is about that subject. */
async function checkLeaves(reads: MapReads, leaves: readonly MapLeafRow[]): Promise<void> {
  for (let i = 0; i < leaves.length; i += PAGE) {
    const chunk = leaves.slice(i, i + PAGE);
    const entries = new Map((await reads.entriesAt(chunk.map((l) => l.index))).map((e) => [e.index, e]));
    for (const leaf of chunk) {
      const entry = entries.get(leaf.index);
      const about = entry ? subjectsOf(...typeAndFields(entry)).some((s) => s.key === leaf.subject) : false;
      if (!bytesEqual(mapKey(leaf.subject), leaf.key) || !about) {
        throw new EvidentError('TAMPERED', `the subject map row for ${leaf.subject} names entry ${leaf.index}, which is not about it: the row was edited`);
      }
    }
  }
}

function typeAndFields(e: StoredEntry): [unknown, Record<string, unknown>] {
  try {
    const f = JSON.parse(e.entry) as Record<string, unknown>;
    return f !== null && typeof f === 'object' ? [f.type, f] : [undefined, {}];
  } catch {
    return [undefined, {}];
  }
}

/**
 * The map of the first `size` entries, computed from their texts, and each entry's prev links checked
 * against it as it goes (an entry that states links must state the true ones). Used to build the map of
 * an old log and to check a stored map against the log (`checkMap`).
 */
export async function mapFromLog(
  read: (start: number, end: number) => Promise<StoredEntry[]>, size: number,
): Promise<{ root: MapNode | null; leaves: MapLeafRow[]; linked: number }> {
  const latest = new Map<string, MapLeafRow>();
  let root: MapNode | null = null;
  let linked = 0;
  for (let start = 0; start < size; start += PAGE) {
    const page = await read(start, Math.min(size, start + PAGE));
    const updates: MapUpdate[] = [];
    for (const e of page) {
      const [type, f] = typeAndFields(e);
      let links;
      try {
        links = linksOf(f, e.index);
      } catch (err) {
        throw new EvidentError('TAMPERED', `log entry ${e.index}: ${(err as Error).message}`);
      }
      for (const s of subjectsOf(type, f)) {
        const before = latest.get(s.key)?.index ?? null;
        const stated = links?.find((l) => l.subject.key === s.key);
        if (stated && stated.prev !== before) {
          throw new EvidentError('TAMPERED', `log entry ${e.index} links ${s.key} to entry ${stated.prev ?? 'none'}, but the previous entry about it is ${before ?? 'none'}`);
        }
        const leaf = { key: mapKey(s.key), subject: s.key, index: e.index };
        latest.set(s.key, leaf);
        updates.push(leaf);
      }
      if (links) linked++;
    }
    root = updateMap(root, updates);
  }
  return { root, leaves: [...latest.values()], linked };
}

/** A subject an appended entry is about, with its map key (hashed before the lock). */
export interface KeyedSubject extends Subject {
  hash: Uint8Array;
}

// Map keys of recent subjects: a trail, flow or environment is the subject of many entries in a row, and
// its key is a SHA-256 each time. Bounded: cleared when full (the keys are derived, never trusted state).
const recentKeys = new Map<string, Uint8Array>();
const RECENT_KEYS = 4096;

export function keyedSubjects(type: string, record: Record<string, unknown>): KeyedSubject[] {
  return subjectsOf(type, record).map((s) => {
    let hash = recentKeys.get(s.key);
    if (!hash) {
      if (recentKeys.size >= RECENT_KEYS) recentKeys.clear();
      recentKeys.set(s.key, (hash = mapKey(s.key)));
    }
    return { ...s, hash };
  });
}

/**
 * Links the entries of one batch as they are sequenced: each entry's prev links come from the verified map
 * and the batch's earlier entries; `finish` gives the map after the batch and the leaves to write.
 */
export class BatchLinker {
  private readonly moved = new Map<string, MapLeafRow>();

  constructor(private readonly state: MapState) {
    for (const l of state.rebuilt) this.moved.set(l.subject, l);
  }

  /** The prev links of the entry at `index` about `subjects`, recorded as the latest about each. */
  link(index: number, subjects: readonly KeyedSubject[]): PrevLinks | undefined {
    if (subjects.length === 0) return undefined;
    const prev: PrevLinks = {};
    for (const s of subjects) {
      const before = this.moved.get(s.key)?.index ?? lookupMap(this.state.root, s.hash) ?? null;
      prev[s.kind] = before;
      this.moved.set(s.key, { key: s.hash, subject: s.key, index });
    }
    return prev;
  }

  finish(): { root: MapNode | null; leaves: MapLeafRow[] } {
    const leaves = [...this.moved.values()];
    const rebuilt = new Set(this.state.rebuilt);
    const fresh = rebuilt.size > 0 ? leaves.filter((l) => !rebuilt.has(l)) : leaves;
    // A rebuilt map's root already holds the rebuilt leaves; only this batch's moves are applied to it.
    return { root: updateMap(this.state.root, fresh), leaves };
  }
}
