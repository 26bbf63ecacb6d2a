import { EvidentError, bytesEqual, toHex } from '../core/index.js';
import {
  MAP_EMPTY, linksOf, mapHashOf, mapKey, subjectsOf, updateMap, type MapNode, type MapProof, type MapUpdate, type PrevLinks, type Subject,
} from '../ledger/index.js';
import type { CanonicalMember } from '../formats/index.js';
import type { LogHead, MapLeafRow, Store, StoredEntry } from '../store/index.js';
import { mapEngine, type MapEngine } from './map-thread.js';
import type { TreeUpdates } from './map-trees.js';
import { LOAD_PAGE, flatKeys, readTable, type PageReader } from './map-load.js';

/**
 * The map as of a head: the latest entry index of each subject in the first `size` entries (checked against
 * the map root committed with the head), and the leaves the table does not hold yet.
 */
export interface MapState {
  size: number;
  /** The map root of that tree (as committed with the head, or recomputed for a log from before the map). */
  root: Uint8Array;
  /** Subject key text → latest entry index: what the writer's prev links are read from. */
  latest: Map<string, number>;
  /**
   * Subject → leaf, for the leaves that `log_map_leaves` lags behind: moved since the last write of leaves,
   * or recomputed from the entries after it. Written all at once at the next flush.
   */
  unwritten: Map<string, MapLeafRow>;
  /** The lowest entry index among `unwritten` when it became non-empty (null: empty). */
  unwrittenFrom: number | null;
  /**
   * Subjects whose latest index came from a row of `log_map_leaves` whose entry has not been read yet: the
   * tree of the rows made the committed root, but that the entry is about the subject is checked when the
   * subject is first linked to or proved (LogMaps.checkUsed), not for every subject when the map is loaded.
   */
  unchecked: Set<string>;
}

type Verified = Pick<MapState, 'size' | 'root' | 'latest'>;

const PAGE = 1000;
/** Subjects a fresh load sets in its maps between turns of the event loop. */
const FILL_SLICE = 50_000;

/** When the writer writes the leaves it has moved (LogMaps.shouldFlush). */
export interface MapFlushPolicy {
  /** Write once this many subjects are unwritten. */
  rows: number;
  /** Or once the oldest unwritten leaf is this many entries behind the head. */
  entries: number;
}

// ~13 batches of 250 entries in the bench's worst case (a new artifact and a trail per entry): the leaves
// table's random-key index is then dirtied once per ~4,000 rows instead of once per batch (performance.md).
// A process that starts, or finds that another one appended, reads at most about this many entries again.
export const DEFAULT_MAP_FLUSH: MapFlushPolicy = { rows: 4096, entries: 16384 };

/**
 * The subject map of each org's log, kept in memory (docs/log.md, "The subject map"): the subjects' latest
 * indexes here, for the writer's links, and the trees in the map thread (map-thread.ts), which hashes each
 * batch's update while the writer inserts its rows. `log_map_leaves` is written every few thousand moved
 * subjects, not every batch: it always holds, for every subject whose latest entry is at or below its
 * highest `entry_index` L, that entry, and the subjects moved after L are found from entries L+1 onwards.
 * What is read from the database is never taken on trust: leaves moved by another process are re-read, each
 * must name an entry that is about its subject, and the tree they make with the subjects of the later
 * entries must have the map root committed with the head; else the log refuses to go on (TAMPERED). A log
 * from before the map is rebuilt from its entries.
 */
export class LogMaps {
  private readonly cache = new Map<number, MapState>();

  constructor(
    private readonly store: Store,
    readonly engine: MapEngine = mapEngine(),
    private readonly flush: MapFlushPolicy = DEFAULT_MAP_FLUSH,
    private readonly loadPage = LOAD_PAGE,
  ) {}

  /** Whether the batch that moves `moved` subjects, up to log size `next`, also writes the unwritten leaves. */
  shouldFlush(state: MapState, moved: number, next: number): boolean {
    if (state.unwritten.size + moved >= this.flush.rows) return true;
    return state.unwrittenFrom !== null && next - state.unwrittenFrom >= this.flush.entries;
  }

  /**
   * Remembers the map this process committed with a head: the state it started from with `moved` (keyed,
   * from `update`) applied; `flushed` says the batch wrote every unwritten leaf.
   */
  remember(orgId: number, size: number, root: Uint8Array, state: MapState, moved: readonly MapLeafRow[], flushed: boolean): void {
    const unwritten = flushed ? new Map<string, MapLeafRow>() : state.unwritten;
    let from = flushed ? null : state.unwrittenFrom;
    const checking = state.unchecked.size > 0;
    // One pass over the batch's leaves (~2 per entry in the worst case the bench measures, issue #17).
    for (const l of moved) {
      state.latest.set(l.subject, l.index);
      if (!flushed) {
        unwritten.set(l.subject, l);
        if (from === null || l.index < from) from = l.index;
      }
      // Moved by entries this process wrote: their latest entries are those entries.
      if (checking) state.unchecked.delete(l.subject);
    }
    this.cache.set(orgId, { size, root, latest: state.latest, unwritten, unwrittenFrom: from, unchecked: state.unchecked });
  }

  /**
   * The map this process holds as of exactly `head` (made by its own commits, or verified by `at`), without
   * reading anything: null when it holds another size (another process appended, or a commit is settling).
   */
  held(orgId: number, head: LogHead): MapState | null {
    const cached = this.cache.get(orgId);
    return cached && head.mapRoot !== null && cached.size === head.size && bytesEqual(cached.root, head.mapRoot) ? cached : null;
  }

  /** Forgets an org's map (its next use reads and checks the leaves again). */
  forget(orgId: number): void {
    this.cache.delete(orgId);
    this.engine.drop(orgId);
  }

  /**
   * The verified map as of `head`. `reads` reads the leaves moved at or after an index, and entries, in the
   * same view of the database as `head` (the append transaction, or a read after which the head is re-read).
   */
  async at(orgId: number, head: LogHead, reads: MapReads): Promise<MapState> {
    const cached = this.cache.get(orgId);
    if (head.mapRoot === null) {
      if (head.size === 0) return { size: 0, root: MAP_EMPTY, latest: new Map(), unwritten: new Map(), unwrittenFrom: null, unchecked: new Set() };
      return this.rebuild(orgId, head);
    }
    if (cached && cached.size === head.size && bytesEqual(cached.root, head.mapRoot)) return cached;
    this.cache.delete(orgId);
    const known = cached && cached.size <= head.size ? cached : undefined;
    const base = known ?? { size: 0, root: MAP_EMPTY, latest: new Map<string, number>(), unwritten: new Map<string, MapLeafRow>(), unchecked: new Set<string>() };
    // The table holds every leaf up to its highest index; the subjects moved after it are in the entries.
    const last = await reads.last();
    const tableEnd = last === null ? 0 : last + 1;
    // A state this process verified at base.size already knows every subject moved before it: of the entries
    // past the table, only those from base.size on are new to it. Without this, a server that shares the
    // database with another (which made the last commit) read every entry since the table's last write,
    // up to DEFAULT_MAP_FLUSH.entries of them, before each of its batches.
    const from = Math.min(Math.max(tableEnd, base.size), head.size);
    // Loading the whole table (a process that starts): one entry read per row would cost O(subjects) before
    // the first append (15 s at 530,000 subjects, performance.md). The keys are derived from the subject
    // texts in the map thread (the table has none), and the root check below binds each text to its index;
    // that each row's entry is about its subject is checked when the subject is first used.
    // A fresh load reads the table a page at a time (issue #21, tenth round): the map thread derives each page's
    // keys while the next is read, and other requests are served between pages.
    const { written, keys } = known || !reads.page
      ? { written: (await reads.leaves(base.size)).filter((l) => l.index < head.size), keys: null }
      : await readTable(this.engine, reads.page, head.size, this.loadPage);
    // Updated in place (a copy would cost O(subjects) at every catch-up): only verified subjects leave it, and
    // the state it belonged to is no longer cached.
    const unchecked = base.unchecked;
    if (known) {
      // A few rows another process wrote since: checked now, each against its entry.
      await checkLeaves(reads, written);
      for (const l of written) unchecked.delete(l.subject);
    }
    const later = await leavesOfEntries(reads, from, head.size);
    if (known) for (const subject of later.keys()) unchecked.delete(subject);
    supersede(later, written, base, tableEnd);
    // Later entries' leaves last: a subject in both ends at its later entry.
    const moved = [...written, ...later.values()];
    const applying = this.applyFrom(orgId, base, head.size, moved, keys && flatKeys(await Promise.all(keys), [...later.values()]));
    // Awaited below; handled now too, as the fill yields to the event loop before that (a failure meanwhile is no unhandled rejection).
    applying.catch(() => undefined);
    if (!known) {
      // A state of this call alone (dropped if the root check fails): filled while the map thread builds the tree,
      // a slice at a time so that other requests are served in between (~0.8 s at 400,000 subjects).
      for (let i = 0; i < moved.length; i += FILL_SLICE) {
        if (i > 0) await new Promise((resolve) => setImmediate(resolve));
        const end = Math.min(moved.length, i + FILL_SLICE);
        for (let j = i; j < end; j++) {
          const l = moved[j]!;
          if (j < written.length) unchecked.add(l.subject);
          base.latest.set(l.subject, l.index);
        }
      }
      for (const subject of later.keys()) unchecked.delete(subject);
    }
    const { root } = await applying;
    if (!bytesEqual(root, head.mapRoot)) {
      throw new EvidentError('TAMPERED', `the subject map's rows do not make the map root committed at log size ${head.size} (${toHex(head.mapRoot)}): they were edited`);
    }
    if (known) for (const l of moved) base.latest.set(l.subject, l.index);
    // Unwritten: every subject whose latest entry is past the table. Those moved before base.size are the
    // known state's own unwritten leaves (still past the table unless another process wrote them since).
    const unwritten = new Map<string, MapLeafRow>();
    for (const l of base.unwritten.values()) if (l.index >= tableEnd && !later.has(l.subject)) unwritten.set(l.subject, l);
    for (const [subject, l] of later) unwritten.set(subject, l);
    let unwrittenFrom: number | null = null;
    for (const l of unwritten.values()) if (unwrittenFrom === null || l.index < unwrittenFrom) unwrittenFrom = l.index;
    const state: MapState = { size: head.size, root, latest: base.latest, unwritten, unwrittenFrom, unchecked };
    this.cache.set(orgId, state);
    return state;
  }

  /**
   * Checks, before they are linked to or proved, that the latest entries of these subjects that came from
   * unchecked rows are about them (TAMPERED otherwise): one read of those entries.
   */
  async checkUsed(state: MapState, subjects: Iterable<string>, entriesAt: MapReads['entriesAt']): Promise<void> {
    if (state.unchecked.size === 0) return;
    const rows: MapLeafRow[] = [];
    for (const subject of new Set(subjects)) {
      const index = state.unchecked.has(subject) ? state.latest.get(subject) : undefined;
      if (index !== undefined) rows.push({ subject, index, key: NO_KEY });
    }
    if (rows.length === 0) return;
    await checkLeaves({ entriesAt }, rows);
    for (const l of rows) state.unchecked.delete(l.subject);
  }

  /**
   * The map after a batch: the state's tree with the batch's moved leaves (from BatchLinker), hashed in the
   * map thread. `leaves` is what the batch writes: nothing, or (flush) every unwritten leaf and the batch's.
   */
  async update(orgId: number, state: MapState, next: number, moved: readonly MapLeafRow[], flush: boolean): Promise<{ root: Uint8Array; leaves: MapLeafRow[]; moved: MapLeafRow[] }> {
    const { root } = await this.applyFrom(orgId, state, next, moved);
    // The batch's leaves are its own (BatchLinker.moved makes them for this attempt alone); the table keeps
    // no keys, so they go back as they came.
    const mine = moved as MapLeafRow[];
    if (!flush) return { root, leaves: [], moved: mine };
    if (state.unwritten.size === 0) return { root, leaves: mine, moved: mine };
    const moving = new Set(mine.map((l) => l.subject));
    const leaves: MapLeafRow[] = [];
    for (const l of state.unwritten.values()) if (!moving.has(l.subject)) leaves.push(l);
    for (const l of mine) leaves.push(l);
    return { root, leaves, moved: mine };
  }

  /** The proof of a subject's latest entry in the verified map `state`. */
  async prove(orgId: number, state: MapState, subject: string): Promise<MapProof> {
    await this.checkUsed(state, [subject], (ix) => this.store.log.entriesAt(orgId, ix));
    try {
      return await this.engine.prove(orgId, state.size, mapKey(subject));
    } catch (err) {
      if (!(err instanceof EvidentError && err.code === 'CONFLICT')) throw err;
      await this.reload(orgId, state);
      return this.engine.prove(orgId, state.size, mapKey(subject));
    }
  }

  /** Applies `moved` to the tree of `base` (reloaded from its verified subjects if the map thread lost it). */
  private async applyFrom(orgId: number, base: Verified, next: number, moved: readonly MapLeafRow[], flat?: Uint8Array | null) {
    // Keys of rows read from the database were checked (checkLeaves); a table loaded whole and the batch's new
    // leaves have none: the map thread derives them from the subject texts (`flat`: derived already, page by page).
    const keys = !flat && moved.every((l) => l.key.length === 32) ? moved.map((l) => l.key) : undefined;
    const updates: TreeUpdates = { subjects: moved.map((l) => l.subject), indexes: moved.map((l) => l.index), ...(keys ? { keys } : {}), ...(flat ? { flat } : {}) };
    try {
      return await this.engine.apply(orgId, base.size, next, updates);
    } catch (err) {
      if (!(err instanceof EvidentError && err.code === 'CONFLICT')) throw err;
      await this.reload(orgId, base);
      return this.engine.apply(orgId, base.size, next, updates);
    }
  }

  /** Builds the tree of a verified state again in the map thread (after the thread was restarted). */
  private async reload(orgId: number, state: Verified): Promise<void> {
    const made = await this.engine.apply(orgId, 0, state.size, { subjects: [...state.latest.keys()], indexes: [...state.latest.values()] });
    // The subjects may have moved on since (a later commit updates the cached subjects in place): then the
    // caller reads the head again.
    if (!bytesEqual(made.root, state.root)) throw new EvidentError('CONFLICT', 'the subject map moved on while it was read');
  }

  /** The map recomputed from every entry below head.size (the only source of truth). */
  private async rebuild(orgId: number, head: LogHead): Promise<MapState> {
    const { root, leaves } = await mapFromLog((start, end) => this.store.log.entries(orgId, start, end), head.size);
    const made = await this.engine.apply(orgId, 0, head.size, { subjects: leaves.map((l) => l.subject), indexes: leaves.map((l) => l.index), keys: leaves.map((l) => l.key) });
    if (!bytesEqual(made.root, mapHashOf(root))) throw new EvidentError('INTERNAL', 'the subject map thread computed another root');
    const unwritten = new Map(leaves.map((l) => [l.subject, l]));
    return { size: head.size, root: made.root, latest: new Map(leaves.map((l) => [l.subject, l.index])), unwritten, unwrittenFrom: leaves.length > 0 ? 0 : null, unchecked: new Set() };
  }
}

export interface MapReads {
  /** The table's leaves moved at `from` or later, in log order (keys empty). */
  leaves(from: number): Promise<MapLeafRow[]>;
  /** The whole table a page at a time, in (entry index, subject) order: `limit` rows after `after` (keys empty). */
  page?: PageReader;
  /** The highest entry index in the leaves table (null: no leaf written). */
  last(): Promise<number | null>;
  entriesAt(indexes: readonly number[]): Promise<StoredEntry[]>;
}

/**
 * Sets, on each leaf of the entries past the table, the row of the table it supersedes: its subject's row
 * among those just read (`written`, in log order: the last is the standing one), or its latest index before
 * `tableEnd` in the known state (every subject whose latest entry is below the table's end has its row
 * there), or what its unwritten leaf superseded. A leaf without one leaves the old row behind, outweighed.
 */
function supersede(later: Map<string, MapLeafRow>, written: readonly MapLeafRow[], base: Pick<MapState, 'latest' | 'unwritten'>, tableEnd: number): void {
  const rows = new Map<string, number>();
  for (const l of written) if (later.has(l.subject)) rows.set(l.subject, l.index);
  for (const [subject, leaf] of later) {
    const known = base.latest.get(subject);
    const w = rows.get(subject) ?? (known !== undefined && known < tableEnd ? known : base.unwritten.get(subject)?.written);
    if (w !== undefined && w < leaf.index) leaf.written = w;
  }
}

/** Each leaf's entry is about its subject. */
async function checkLeaves(reads: Pick<MapReads, 'entriesAt'>, leaves: readonly MapLeafRow[]): Promise<void> {
  for (let i = 0; i < leaves.length; i += PAGE) {
    const chunk = leaves.slice(i, i + PAGE);
    const entries = new Map((await reads.entriesAt(chunk.map((l) => l.index))).map((e) => [e.index, e]));
    for (const leaf of chunk) {
      const entry = entries.get(leaf.index);
      const about = entry ? subjectsOf(...typeAndFields(entry)).some((s) => s.key === leaf.subject) : false;
      if (!about) {
        throw new EvidentError('TAMPERED', `the subject map row for ${leaf.subject} names entry ${leaf.index}, which is not about it: the row was edited`);
      }
    }
  }
}

/** The leaves the entries [start, end) move, each subject at its latest entry, in the order first moved. */
async function leavesOfEntries(reads: MapReads, start: number, end: number): Promise<Map<string, MapLeafRow>> {
  const out = new Map<string, MapLeafRow>();
  for (let i = start; i < end; i += PAGE) {
    const want = Array.from({ length: Math.min(PAGE, end - i) }, (_, k) => i + k);
    const page = (await reads.entriesAt(want)).sort((x, y) => x.index - y.index);
    if (page.length !== want.length) throw new EvidentError('TAMPERED', `log entries ${i}–${i + want.length - 1} are not all stored below the head: rows were deleted`);
    for (const e of page) {
      for (const s of subjectsOf(...typeAndFields(e))) {
        const had = out.get(s.key);
        out.set(s.key, { key: had?.key ?? mapKey(s.key), subject: s.key, index: e.index });
      }
    }
  }
  return out;
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

/**
 * Links the entries of one batch as they are sequenced: each entry's prev links come from the verified map
 * and the batch's earlier entries; `moved` is the leaves the batch moves (keys filled in by LogMaps.update).
 */
export class BatchLinker {
  private readonly last = new Map<string, MapLeafRow>();

  constructor(private readonly state: MapState) {}

  /** The prev links of the entry at `index` about `subjects`, recorded as the latest about each. */
  link(index: number, subjects: readonly Subject[]): PrevLinks | undefined {
    if (subjects.length === 0) return undefined;
    const prev: PrevLinks = {};
    for (const s of subjects) {
      const had = this.last.get(s.key);
      if (had) {
        // A subject moved again in the same batch (a trail, a flow): its one leaf follows it.
        prev[s.kind] = had.index;
        had.index = index;
      } else {
        const before = this.state.latest.get(s.key);
        prev[s.kind] = before ?? null;
        // The row this leaf will supersede in the table: the one its unwritten leaf superseded, or, if it has
        // none, its latest entry (a subject not moved since the last write of leaves has its row there).
        const pending = this.state.unwritten.get(s.key);
        const written = pending ? pending.written : before;
        const leaf: MapLeafRow = { key: NO_KEY, subject: s.key, index };
        if (written !== undefined) leaf.written = written;
        this.last.set(s.key, leaf);
      }
    }
    return prev;
  }

  get moved(): MapLeafRow[] {
    return [...this.last.values()];
  }
}

const NO_KEY = new Uint8Array(0);

/**
 * An entry's `prev` member as RFC 8785 writes it (`"prev":{"artifact":12,"trail":null}`): the kinds are ASCII
 * words, sorted here (§3.2.3), and each link is an entry index or null; an integer's ECMAScript text is its
 * canonical form (§3.2.2.3). Written directly: the writer makes one per entry (issue #17), and the generic
 * serialiser's checks cost more than the entry's own merge.
 */
export function prevMember(prev: PrevLinks): CanonicalMember {
  let out = '"prev":{';
  let first = true;
  for (const kind of (Object.keys(prev) as (keyof PrevLinks)[]).sort()) {
    const link = prev[kind];
    if (link !== null && !(Number.isSafeInteger(link) && link! >= 0)) throw new EvidentError('INTERNAL', `prev link ${kind} is not an entry index: ${String(link)}`);
    out += `${first ? '' : ','}"${kind}":${link === null ? 'null' : String(link)}`;
    first = false;
  }
  return { key: 'prev', member: `${out}}` };
}
