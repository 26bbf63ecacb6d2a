import { EvidentError, bytesEqual, fromHex, toHex } from '../core/index.js';
import { canonicalMembers, mergeCanonicalMembers, type CanonicalMembers } from '../formats/index.js';
import {
  appendLeaves, checkLeaves, leafCheckPlan, consistencyProof, consistencyProofPlan, formatCheckpoint, rootFromFrontier, treeRoot, treeRootPlan, verifyConsistency, frontierIndexes, leafHashOfText, mapExtension, renamedSigner, signNote, subjectsOf, type Hash, type NoteSigner, type PrevLinks,
  type MapProofJson, type Subject, mapProofToJson,
} from '../ledger/index.js';
import { DeferredRowsRefused, type AppendContext, type LogHead, type OrgRecord, type RecordWriter, type Store } from '../store/index.js';
import { BatchLinker, LogMaps, prevMember, type MapFlushPolicy, type MapState } from './log-map.js';
import { systemClock, type Clock } from './clock.js';
import { VerifiedProofs, type ReadHashes } from './log-proofs.js';
import { VerifiedTiles } from './log-verified-tiles.js';

export interface AppendedEntry {
  index: number;
  leafHash: string;
  entry: string;
}

export interface InclusionProofResult {
  index: number;
  treeSize: number;
  leafHash: string;
  hashes: string[];
}

export interface ConsistencyProofResult {
  from: number;
  to: number;
  hashes: string[];
}

export interface LogServiceOptions {
  clock?: Clock;
  /** Most entries one transaction may carry; larger queues are committed in several. */
  maxBatch?: number;
  /** Most entries one `entries` call returns. */
  maxRange?: number;
  /** When the subject map's leaves are written (services/log-map.ts); tests write them every batch. */
  mapFlush?: MapFlushPolicy;
  /** Rows of the subject map's table a fresh load reads at a time (default 20,000; tests make it small). */
  mapLoadPage?: number;
  /** Most full hash tiles kept for inclusion proofs (log-proofs.ts; 16 KB each; default 4,096: all of a 1M-entry log). */
  proofTiles?: number;
}

/**
 * Writes the projection rows of one entry (the flow, trail, artifact... it records) inside the
 * transaction that logs it, so the record and its log entry exist together or not at all.
 */
export type Projector<T> = (records: RecordWriter, entry: { index: number; time: string }) => Promise<T>;

interface Pending {
  type: string;
  /** The record's members, serialised once when the caller hands them in. */
  members: CanonicalMembers;
  /** What the entry is about: each gets a prev link (docs/log.md, "Subjects and prev links"). */
  subjects: Subject[];
  project?: Projector<unknown>;
  resolve: (entry: AppendedEntry & { value: unknown }) => void;
  reject: (err: unknown) => void;
}

const RESERVED = ['v', 'type', 'org', 'time', 'prev'];
const TYPE = /^[a-z][a-z0-9_.-]{0,63}$/;

/**
 * The per-organisation logs (DESIGN.md §2). Appends are group-committed: callers that arrive while a
 * transaction is in flight share the next one, and each is acknowledged only after its transaction commits.
 */
export class LogService {
  private readonly queues = new Map<number, { org: OrgRecord; pending: Pending[]; running: boolean }>();
  private readonly clock: Clock;
  private readonly maxBatch: number;
  readonly maxRange: number;
  private readonly frontiers = new Map<number, CachedFrontier>();
  private readonly lastCheckpoint = new Map<number, { size: number; root: string; note: string }>();
  private readonly orgSigners = new Map<string, NoteSigner>();
  /** The subject map of each org's log (services/log-map.ts). */
  readonly maps: LogMaps;
  /** Drains in progress: settled() waits for them (a graceful shutdown acknowledges what it accepted). */
  private readonly draining = new Set<Promise<void>>();
  private readonly commitListeners: ((org: OrgRecord, entries: readonly AppendedEntry[]) => void)[] = [];
  /** Subject maps being loaded by preloadMaps: an append to the org waits for its load (never rejects). */
  private readonly preloads = new Map<number, Promise<void>>();
  private readonly preloadRuns = new Set<Promise<void>>();
  /** Hash tiles and hashes that inclusion proofs checked against a signed root (log-proofs.ts). */
  readonly proofs: VerifiedProofs;
  /** Hash tiles and stored hashes checked against the signed root before they are served (log-verified-tiles.ts). */
  readonly verified: VerifiedTiles;

  constructor(private readonly store: Store, private readonly signer: NoteSigner, options: LogServiceOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.maxBatch = options.maxBatch ?? 1000;
    this.maxRange = options.maxRange ?? 1000;
    this.maps = new LogMaps(store, undefined, options.mapFlush, options.mapLoadPage);
    this.proofs = new VerifiedProofs(options.proofTiles);
    this.verified = new VerifiedTiles(this.proofs);
  }

  /** Reads the org's stored hashes (for VerifiedProofs and VerifiedTiles, which check them). */
  hashReader(org: OrgRecord): ReadHashes {
    return (indexes, ranges) => this.store.log.readHashes(org.id, indexes, ranges);
  }

  /**
   * Called after each commit that grew an org's log, with the entries it added (e.g. to submit the new
   * checkpoint to witnesses, or tell the web UI's live pages); must not throw.
   */
  onCommit(listener: (org: OrgRecord, entries: readonly AppendedEntry[]) => void): void {
    this.commitListeners.push(listener);
  }

  /** C2SP tlog-checkpoint origin: the log key's name and the org, so each org's log is its own. */
  origin(org: { name: string }): string {
    return `${this.signer.name}/${org.name}`;
  }

  /**
   * The key that signs the org's checkpoints: the log key named after the origin (C2SP tlog-checkpoint:
   * the key name SHOULD match the origin line), so a witness or verifier can map origin to key by name.
   */
  signerFor(org: { name: string }): NoteSigner {
    let signer = this.orgSigners.get(org.name);
    if (!signer) {
      signer = renamedSigner(this.signer, this.origin(org));
      this.orgSigners.set(org.name, signer);
    }
    return signer;
  }

  /** The C2SP verifier key of the org's log (`<origin>+<key id>+<public key>`), as `evident log key` prints it. */
  verifierKeyFor(org: { name: string }): string {
    return this.signerFor(org).verifierKey;
  }

  /**
   * Appends one entry `{v, type, org, time, ...record}` as RFC 8785 canonical JSON, and with it the rows
   * `project` writes. If `project` fails, neither its rows nor the entry are written, and the error is
   * this caller's alone: the other entries of the batch go on.
   */
  append<T = undefined>(org: OrgRecord, type: string, record: Record<string, unknown>, project?: Projector<T>): Promise<AppendedEntry & { value: T }> {
    if (!TYPE.test(type)) throw new EvidentError('INVALID_ARGUMENT', `invalid entry type ${JSON.stringify(type)}`);
    const clash = Object.keys(record).filter((k) => RESERVED.includes(k));
    if (clash.length > 0) throw new EvidentError('INVALID_ARGUMENT', `entry fields ${clash.join(', ')} are reserved`);
    // Serialised once, here: this also rejects what cannot be canonicalised before it can spoil a shared batch.
    const members = canonicalMembers(record);
    const subjects = subjectsOf(type, record);
    return new Promise((resolve, reject) => {
      let queue = this.queues.get(org.id);
      if (!queue) {
        queue = { org, pending: [], running: false };
        this.queues.set(org.id, queue);
      }
      queue.pending.push({ type, members, subjects, project, resolve: resolve as Pending['resolve'], reject });
      if (!queue.running) {
        queue.running = true;
        // Wait one turn of the event loop so that callers arriving together share the first transaction too.
        const drained: Promise<void> = new Promise<void>((done) => setImmediate(() => void this.drain(org.id).finally(done)))
          .finally(() => this.draining.delete(drained));
        this.draining.add(drained);
      }
    });
  }

  /**
   * Resolves once every append accepted so far is committed or rejected (the group commit is flushed):
   * the server's shutdown waits for it before it closes the database.
   */
  async settled(): Promise<void> {
    // A preload run reads the database: it ends before the server closes it.
    while (this.draining.size > 0 || this.preloadRuns.size > 0) await Promise.allSettled([...this.draining, ...this.preloadRuns]);
  }

  /**
   * Loads and verifies the subject map of each org whose log holds at least `minEntries` entries, one org
   * after another, as the first append would (LogMaps.at: O(subjects), seconds for a log with hundreds of
   * thousands of subjects, docs/performance.md): a server calls it when it starts, so that its first append
   * does not wait for the whole load. An append to an org being loaded waits for that load, not for a second
   * one. A failure (rows edited: TAMPERED) goes to `warn`, and the first append meets it again.
   */
  preloadMaps(minEntries: number, warn: (org: OrgRecord, err: unknown) => void): Promise<void> {
    const run: Promise<void> = this.preloadEach(minEntries, warn).finally(() => this.preloadRuns.delete(run));
    this.preloadRuns.add(run);
    return run;
  }

  private async preloadEach(minEntries: number, warn: (org: OrgRecord, err: unknown) => void): Promise<void> {
    for (const org of await this.store.orgs.list()) {
      const head = await this.store.log.head(org.id);
      if (head.size < minEntries || head.mapRoot === null || this.maps.held(org.id, head)) continue;
      const load = this.verifiedMap(org, async () => undefined).then(() => undefined, (err: unknown) => warn(org, err));
      this.preloads.set(org.id, load);
      await load;
      this.preloads.delete(org.id);
    }
  }

  /**
   * Commits the org's queue batch after batch. On PostgreSQL the next batch does not wait for the COMMIT
   * of the one before: once that batch's rows are written (only its COMMIT is left, which cannot make it be
   * written again), the next one takes a connection and queues for the org's lock, so its BEGIN overlaps the
   * COMMIT; it then waits for the batch before to be settled before it builds on the head it finds. Waiting
   * any earlier could deadlock: a batch written again entry by entry needs the lock the next one holds.
   */
  private async drain(orgId: number): Promise<void> {
    const queue = this.queues.get(orgId);
    if (!queue) return;
    let previous: Promise<void> = Promise.resolve();
    while (queue.pending.length > 0) {
      const batch = queue.pending.splice(0, this.maxBatch);
      let written!: () => void;
      const ready = new Promise<void>((resolve) => (written = resolve));
      const settled = this.settle(queue.org, batch, previous, written);
      previous = settled;
      await Promise.race([ready, settled]);
      if (queue.pending.length === 0) await settled;
    }
    // Every batch is settled here (the loop ends only after awaiting the last one). No await may come
    // between the empty queue above and this line: an append arriving then would be left in the queue.
    queue.running = false;
  }

  /** Commits one batch and answers its callers; never rejects. `prior`: the batch before, settled first. */
  private async settle(org: OrgRecord, batch: Pending[], prior: Promise<void>, written: () => void): Promise<void> {
    try {
      const committed = await this.commit(org, batch, prior, written);
      for (const { pending, entry } of committed) pending.resolve(entry);
      const entries = committed.map((c) => c.entry);
      for (const listener of this.commitListeners) listener(org, entries);
    } catch (err) {
      batch.forEach((p) => p.reject(err));
    }
  }

  /**
   * Records are serialised before the transaction; the entry's `time` is taken under the org's log lock
   * (so it does not go backwards as the index grows when several servers write, as it did by up to 101 ms
   * when it was taken before waiting for the lock: reliability report F14; servers' clocks must still
   * agree), then only the envelope is merged in and the leaf hashed there. Projections run in the transaction without savepoints; if one
   * fails, the batch is rolled back and written again with a savepoint per entry, so that only the failing
   * caller fails.
   */
  private async commit(org: OrgRecord, batch: Pending[], prior: Promise<void>, written: () => void): Promise<{ pending: Pending; entry: AppendedEntry & { value: unknown } }[]> {
    let kept: Kept[];
    try {
      kept = await this.write(org, batch, false, prior, written);
    } catch (err) {
      // DeferredRowsRefused: a projection's deferred row was refused when the store wrote the batch (PostgreSQL).
      if (!(err instanceof ProjectionFailed) && !(err instanceof DeferredRowsRefused)) throw err;
      kept = await this.write(org, batch, true, prior, written);
    }
    return kept.map((k) => ({ pending: k.pending, entry: { index: k.index, leafHash: toHex(k.leaf), entry: k.entry, value: k.value } }));
  }

  /**
   * The entry text: the record with the envelope `{v, type, org, time}` merged in, and `prev` (the links to
   * the previous entries about its subjects) when it is about any.
   */
  private entryText(org: OrgRecord, pending: Pending, time: string, prev: PrevLinks | undefined, envelopes: Map<string, CanonicalMembers>): string {
    let envelope = envelopes.get(pending.type);
    if (!envelope) envelopes.set(pending.type, (envelope = canonicalMembers({ v: 1, type: pending.type, org: org.name, time })));
    // Only `prev` differs per entry: it alone is serialised here, and merged with the record and the envelope.
    return mergeCanonicalMembers(pending.members, envelope, prev ? prevMember(prev) : undefined);
  }

  private async write(org: OrgRecord, batch: Pending[], isolate: boolean, prior: Promise<void>, written: () => void): Promise<Kept[]> {
    let kept: Kept[] = [];
    let tree: CachedFrontier | undefined;
    let map: { size: number; state: MapState; flush: boolean; after: ReturnType<LogMaps['update']> } | undefined;
    const fallback = this.clock.now().toISOString();
    await this.preloads.get(org.id);
    await this.store.log.append(
      org.id,
      async (head, ctx) => {
        // The batch before may still be acknowledging its COMMIT: its frontier and map are remembered then.
        await prior;
        kept = [];
        const time = this.clock.now().toISOString();
        const envelopes = new Map<string, CanonicalMembers>();
        const frontier = await this.frontierOf(org.id, head, ctx);
        map = undefined;
        const state = await this.maps.at(org.id, head, {
          leaves: (from) => ctx.readMapLeaves(from), last: () => ctx.lastMapLeafIndex(), entriesAt: (ix) => ctx.entriesAt(ix),
        });
        // Latest entries loaded from unchecked rows are read before anything links to them.
        await this.maps.checkUsed(state, batch.flatMap((p) => p.subjects.map((s) => s.key)), (ix) => ctx.entriesAt(ix));
        const linker = new BatchLinker(state);
        // Without isolation every entry of the batch is kept (a failing projection fails the whole attempt, which
        // is written again isolated), so each entry's index and links are known before any projection runs: the
        // map thread starts hashing the batch's update now and works while the projections, the entry texts,
        // the leaf hashes and the inserts run here, instead of from the inserts on (issue #17: the writer
        // waited ~3 µs an entry for the root). Isolated, an entry that fails takes no index: linked as it goes.
        const early = isolate ? undefined : this.startMapUpdate(org.id, state, linker, batch, head.size);
        for (const pending of batch) {
          const index = head.size + kept.length;
          let value: unknown;
          const project = pending.project;
          if (project && isolate) {
            const result = await ctx.attempt((records) => project(records, { index, time }));
            if (!result.ok) {
              pending.reject(result.error);
              continue;
            }
            value = result.value;
          } else if (project) {
            try {
              value = await project(ctx.records, { index, time });
            } catch (error) {
              throw new ProjectionFailed(error);
            }
          }
          const links = early ? early.links[kept.length] : linker.link(index, pending.subjects);
          const entry = this.entryText(org, pending, time, links, envelopes);
          kept.push({ pending, entry, leaf: leafHashOfText(entry), index, value });
        }
        if (!isolate) {
          // Rows a projection deferred (PostgreSQL's attestations) go in now; if one fails, so did its projection.
          try {
            await ctx.settle();
          } catch (error) {
            throw new ProjectionFailed(error);
          }
        }
        const next = appendLeaves(head.size, frontier, kept.map((k) => k.leaf));
        tree = { size: next.size, root: next.root, frontier: next.frontier };
        // The map thread hashes the batch's tree update while the store inserts the entries and hashes; the
        // store awaits it before it writes the leaves (every few thousand moves: LogMaps) and the head
        // (which commits to the map root).
        if (early && early.size !== next.size) throw new EvidentError('INTERNAL', `the batch's map update was for log size ${early.size}, not ${next.size}`);
        map = early ? { size: next.size, state, flush: early.flush, after: early.after } : this.startMapUpdate(org.id, state, linker, [], next.size);
        const after = map.after;
        return { entries: kept.map((k) => ({ index: k.index, leafHash: k.leaf, entry: k.entry })), hashes: next.stored, root: next.root, time, map: after, pollMap: () => this.maps.engine.poll() };
      },
      fallback,
      { expected: batch.length, attestations: batch.filter((p) => p.type === 'attestation.reported' && p.project).length, written },
    );
    if (tree) this.frontiers.set(org.id, tree);
    if (map) {
      const { root, moved } = await map.after;
      this.maps.remember(org.id, map.size, root, map.state, moved, map.flush);
    }
    return kept;
  }

  /**
   * Links `batch` (entries from index `from` on; none when the linker already linked them) and hands the map
   * thread the batch's moves. The promise is awaited by the store before it writes the head, and not at all if
   * the attempt fails before (the next attempt updates from the same state: MapForest keeps the base).
   */
  private startMapUpdate(orgId: number, state: MapState, linker: BatchLinker, batch: readonly Pending[], from: number) {
    const links = batch.map((p, i) => linker.link(from + i, p.subjects));
    const moved = linker.moved;
    const size = from + batch.length;
    const flush = this.maps.shouldFlush(state, moved.length, size);
    const after = this.maps.update(orgId, state, size, moved, flush);
    after.catch(() => undefined); // the store awaits it, unless the transaction failed before
    return { size, state, flush, after, links };
  }

  /** The frontier of the committed tree: from memory when this process made the last commit, else read. */
  private async frontierOf(orgId: number, head: { size: number; root: Uint8Array }, ctx: AppendContext): Promise<Hash[]> {
    const cached = this.frontiers.get(orgId);
    if (cached && cached.size === head.size && bytesEqual(cached.root, head.root)) return cached.frontier;
    const indexes = frontierIndexes(head.size);
    const stored = await ctx.readHashes(indexes);
    const frontier = indexes.map((i) => requireHash(stored, i));
    // The next head is signed over this frontier: it must fold into the committed root (RFC 9162 §2.1.1), or
    // an edited row would make the server sign a tree that is not an extension of the one it signed before.
    if (!bytesEqual(rootFromFrontier(frontier), head.root)) throw new EvidentError('TAMPERED', `the stored frontier of the log does not fold into the root of its head (size ${head.size})`);
    return frontier;
  }

  /** The signed note for the org's current tree head (C2SP tlog-checkpoint). */
  async checkpoint(org: OrgRecord): Promise<string> {
    return this.noteFor(org, await this.store.log.head(org.id));
  }

  /**
   * The signed checkpoint of a head: the map root committed with it goes in an extension line (C2SP
   * tlog-checkpoint allows extension lines after the root; Go's tlog.ParseTree ignores them).
   */
  noteFor(org: OrgRecord, head: LogHead): string {
    const root = toHex(head.root) + (head.mapRoot ? toHex(head.mapRoot) : '');
    const cached = this.lastCheckpoint.get(org.id);
    if (cached && cached.size === head.size && cached.root === root) return cached.note;
    const extensions = head.mapRoot ? [mapExtension(head.mapRoot)] : [];
    const note = signNote(formatCheckpoint({ origin: this.origin(org), size: head.size, root: head.root, extensions }), [this.signerFor(org)]);
    this.lastCheckpoint.set(org.id, { size: head.size, root, note });
    return note;
  }

  /**
   * Proof of the latest entry about a subject (or its absence) in the subject map of the current head, with
   * the signed checkpoint of that same head, whose map line the proof leads to.
   */
  async mapProof(org: OrgRecord, subject: string): Promise<{ checkpoint: string; size: number; proof: MapProofJson }> {
    return this.verifiedMap(org, async (head, state) => (
      { checkpoint: this.noteFor(org, head), size: head.size, proof: mapProofToJson(await this.maps.prove(org.id, state, subject)) }
    ));
  }

  /** The verified map of the current head (read outside a transaction), and what `use` makes of it. */
  private async verifiedMap<T>(org: OrgRecord, use: (head: LogHead, state: MapState) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const head = await this.store.log.head(org.id);
      if (head.mapRoot === null) throw new EvidentError('NOT_FOUND', 'this log has no subject map yet: it is built at its next append');
      try {
        const state = await this.maps.at(org.id, head, {
          leaves: (from) => this.store.log.mapLeaves(org.id, from), last: () => this.store.log.lastMapLeafIndex(org.id),
          // Pages are separate reads: a commit of another server between two of them can delete a row not read
          // yet (its subject moved past this head), and the root check then fails. The retry reads the table in
          // one statement, one view of the database, as before pages.
          page: attempt === 0 ? (after, limit) => this.store.log.mapLeaves(org.id, 0, { after, limit }) : undefined,
          entriesAt: (ix) => this.store.log.entriesAt(org.id, ix),
        });
        return await use(head, state);
      } catch (err) {
        // Leaves read after the head may have moved on with a later append: read both again.
        const now = await this.store.log.head(org.id);
        if (attempt >= 4 || now.size === head.size) throw err;
      }
    }
  }

  /**
   * The head's size, and whether an entry at index `since` or later is about one of `subjects` (subject key
   * texts), from the subject map this process holds at that head: `moved` is null when it holds none (another
   * process appended, or a commit is settling), and the caller must read its rows again. A cached view of
   * rows verified as of `since` stays true while nothing about its subjects was appended after it.
   */
  async movedSince(org: OrgRecord, since: number, subjects: readonly string[]): Promise<{ size: number; moved: boolean | null }> {
    const head = await this.store.log.head(org.id);
    if (head.size === since) return { size: head.size, moved: false };
    const state = head.size > since ? this.maps.held(org.id, head) : null;
    if (!state) return { size: head.size, moved: null };
    return { size: head.size, moved: subjects.some((s) => (state.latest.get(s) ?? -1) >= since) };
  }

  /**
   * The index of the latest entry about each of `subjects` (subject key texts; null: none) as of the current
   * head, from the subject map verified against the map root committed with that head: the one this process
   * holds when it is at the head (no read but the head), else loaded and checked as a map proof would be.
   * Null for a log without a map yet (built at its next append).
   */
  async latestAbout(org: OrgRecord, subjects: readonly string[]): Promise<(number | null)[] | null> {
    const head = await this.store.log.head(org.id);
    if (head.size === 0) return subjects.map(() => null);
    // A latest index that came from a row not checked yet is checked first (LogMaps.checkUsed), as for a
    // link or a proof: the root check binds the rows to the head's map root, which is a row too.
    const latest = async (state: MapState) => {
      await this.maps.checkUsed(state, subjects, (ix) => this.store.log.entriesAt(org.id, ix));
      return subjects.map((s) => state.latest.get(s) ?? null);
    };
    const held = this.maps.held(org.id, head);
    if (held) return latest(held);
    if (head.mapRoot === null) return null;
    return this.verifiedMap(org, async (_head, state) => latest(state));
  }

  async size(org: OrgRecord): Promise<number> {
    return (await this.store.log.head(org.id)).size;
  }

  /**
   * Entries start <= index < end (default: the tree size), at most maxRange of them; `end` is the end used.
   * Each is shown only after it was checked to be a leaf of the signed tree (ledger/leaf-check.ts: a range of
   * entries reads the ~2·log2(n) stored hashes beside it), as the tiles route checks its entry bundles.
   */
  async entries(org: OrgRecord, start: number, end?: number): Promise<{ end: number; items: { index: number; leafHash: string; entry: string }[] }> {
    const head = await this.store.log.head(org.id);
    const last = end ?? head.size;
    checkRange('start', start, 0, head.size);
    checkRange('end', last, start, head.size);
    const stop = Math.min(last, start + this.maxRange);
    const indexes = Array.from({ length: stop - start }, (_, i) => start + i);
    const plan = leafCheckPlan(head.size, indexes);
    const [rows, stored] = await Promise.all([
      this.store.log.entries(org.id, start, stop), plan.length > 0 ? this.store.log.readHashes(org.id, plan) : new Map<number, Hash>(),
    ]);
    if (rows.length !== indexes.length || rows.some((r, i) => r.index !== start + i)) {
      throw new EvidentError('TAMPERED', `entries ${start}–${stop - 1} of ${org.name}'s log are incomplete`);
    }
    const leaves = new Map(rows.map((r) => [r.index, leafHashOfText(r.entry)]));
    for (const r of rows) {
      if (!bytesEqual(leaves.get(r.index)!, r.leafHash)) throw new EvidentError('TAMPERED', `log entry ${r.index} does not hash to its stored leaf hash`, { details: { entry_index: r.index } });
    }
    if (rows.length > 0) checkLeaves(head.size, head.root, leaves, stored);
    return { end: last, items: rows.map((r) => ({ index: r.index, leafHash: toHex(leaves.get(r.index)!), entry: r.entry })) };
  }

  /**
   * RFC 9162 inclusion proof of entry `index` in the tree of `treeSize` entries (default: the head's), checked
   * against the root of the head this server signs before it is returned (TAMPERED if the stored hashes do
   * not lead there); full hash tiles it was built from are kept for the next proofs (log-proofs.ts).
   */
  async inclusionProof(org: OrgRecord, index: number, treeSize?: number): Promise<InclusionProofResult> {
    const head = await this.store.log.head(org.id);
    if (head.size === 0) throw new EvidentError('NOT_FOUND', 'the log is empty: there is nothing to prove yet');
    const n = treeSize ?? head.size;
    checkRange('tree_size', n, 1, head.size);
    checkRange('index', index, 0, n - 1);
    const { leaf, proof } = await this.proofs.inclusion(org.id, index, n, head, this.hashReader(org));
    return { index, treeSize: n, leafHash: toHex(leaf), hashes: proof.map(toHex) };
  }

  async inclusionProofByLeaf(org: OrgRecord, leafHashHex: string, treeSize?: number): Promise<InclusionProofResult> {
    const index = await this.store.log.indexOfLeaf(org.id, fromHex(leafHashHex, 'leaf_hash', 32));
    if (index === undefined || (treeSize !== undefined && index >= treeSize)) {
      throw new EvidentError('NOT_FOUND', `no entry with leaf hash ${leafHashHex} in this log${treeSize === undefined ? '' : ` at size ${treeSize}`}`);
    }
    return this.inclusionProof(org, index, treeSize);
  }

  /**
   * RFC 9162 §2.1.4 proof that the tree of size `from` is a prefix of the tree of size `to` (default: now),
   * verified (§2.1.4.2) before it is returned against the root of the head this server signs, or for `to` below
   * the head against the root of `to` bound to that signed root by the consistency of `to` with the head;
   * TAMPERED when the stored hashes do not lead there.
   */
  async consistencyProof(org: OrgRecord, from: number, toSize?: number): Promise<ConsistencyProofResult> {
    const head = await this.store.log.head(org.id);
    const to = toSize ?? head.size;
    checkRange('to', to, 0, head.size);
    checkRange('from', from, 0, to);
    const plan = consistencyProofPlan(from, to);
    if (plan.length === 0) return { from, to, hashes: [] }; // from 0 or from == to: RFC 9162 has no proof to give
    // The proof's own hashes, read singly (one statement, O(log n)), are bound by its check: RFC 9162 §2.1.4.2
    // rebuilds the root of `to` from every one of them, so a proof that leads to the signed root holds only the
    // tree's true nodes. No tile is read or hashed for it (reading the checked tiles under each hash cost a
    // cold process 4× more per proof at 1M entries: performance.md, tiles9). For `to` below the head, the root
    // of `to` is bound to the signed root first, by the consistency of `to` with the head.
    const below = to === head.size ? [] : [...treeRootPlan(to), ...consistencyProofPlan(to, head.size)];
    const stored = await this.store.log.readHashes(org.id, [...plan, ...treeRootPlan(from), ...below]);
    try {
      let root = head.root;
      if (to !== head.size) {
        root = treeRoot(to, stored);
        verifyConsistency(to, head.size, consistencyProof(to, head.size, stored), root, head.root);
      }
      const proof = consistencyProof(from, to, stored);
      verifyConsistency(from, to, proof, treeRoot(from, stored), root);
      return { from, to, hashes: proof.map(toHex) };
    } catch (err) {
      throw new EvidentError('TAMPERED', `the stored hashes of the consistency proof from ${from} to ${to} do not lead to the signed root`, { cause: err });
    }
  }
}

interface Kept {
  pending: Pending;
  entry: string;
  leaf: Hash;
  index: number;
  value: unknown;
}

interface CachedFrontier {
  size: number;
  root: Hash;
  frontier: Hash[];
}

/** A projection failed in a batch without savepoints: the batch is written again, isolating each entry. */
class ProjectionFailed extends Error {
  constructor(readonly error: unknown) {
    super('projection failed');
  }
}

function requireHash(stored: ReadonlyMap<number, Hash>, index: number): Hash {
  const hash = stored.get(index);
  if (!hash) throw new EvidentError('TAMPERED', `stored hash ${index} is missing from the log`);
  return hash;
}

function checkRange(name: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new EvidentError('INVALID_ARGUMENT', `${name} must be an integer from ${min} to ${max}, not ${value}`, {
      details: [{ path: name, message: `out of range ${min}..${max}` }],
    });
  }
}
