import { EvidentError, bytesEqual, toHex } from '../../core/index.js';
import { canonicalJson } from '../../formats/index.js';
import { checkLeaves, leafCheckPlan, leafHashOfText, type Hash, type KnownNodes, type TreeNode } from '../../ledger/index.js';
import type { FlowRecord, OrgRecord, Store } from '../../store/index.js';
import { mergeTags } from './flow-tags.js';

// Decisions are functions of log entries (DESIGN.md §2.1). Projection rows (flows, trails, artifacts,
// attestations, policies, attachments, exemptions, snapshots...) are a cache of the log that whoever holds the
// database can edit, so every row a decision uses is checked against the entry it names (`entry_index`) before
// it is used:
//   1. the entry's text hashes (RFC 9162 §2.1.1 leaf hash) to a leaf of the tree whose root is the head the
//      server signs: the leaf hashes of the entries a decision reads, with the stored hashes of the subtrees
//      beside them, fold up to that root (ledger/leaf-check.ts; k entries of n read about k·log2(n/k) stored
//      hashes), so an edit of an entry's text, of its stored hashes, or of any hash between them and the root
//      is refused here, not only by `verify log --full` or a client holding a checkpoint. Perfect subtrees
//      bound this way are remembered (they never change in an append-only tree), so a later entry under one
//      is checked against it alone. What is left is a rewrite of the head itself: a fork, which witnesses'
//      cosignatures and every client's consistency check refuse (docs/log.md, "Witnesses").
//   2. the entry has the expected type, and each field the decision reads is equal (as canonical JSON) in the
//      row and in the entry.
// Any difference is a TAMPERED error naming the table, the entry index and the field: the decision fails
// loudly and is never silently changed. Verified entries are remembered by (org, index): an entry never
// changes once verified, and the rows are re-read and re-compared at every load.

/** One projection row as a decision is about to use it: the fields it reads, named as in the log entry. */
export interface RowClaim {
  table: string;
  entryIndex: number;
  /** Entry types the row may come from (a prefix ending in `.` matches any type starting with it). */
  types: readonly string[];
  fields: Record<string, unknown>;
}

export interface VerifiedEntry {
  index: number;
  /** Hex SHA-256(0x00 ‖ text). */
  leafHash: string;
  text: string;
  body: Record<string, unknown>;
}

/** Entries remembered per process, and their total text size (bounds memory; a forgotten entry is simply read and verified again). */
const MAX_ENTRIES = 200_000;
const MAX_BYTES = 64 * 1024 * 1024;
/** Perfect subtree hashes remembered per process (~150 bytes each); only those of 2^MIN_KEPT_LEVEL leaves or more. */
const MAX_NODES = 131_072;
const MIN_KEPT_LEVEL = 4;

export class ProjectionCheck {
  private readonly verified = new Map<string, VerifiedEntry>();
  private readonly facts = new Set<string>();
  private bytes = 0;
  /** Perfect subtree hashes of each org's tree bound to a signed root, by org and then n·64 + level (all dropped past MAX_NODES). */
  private readonly nodes = new Map<number, Map<number, Hash>>();
  private nodeCount = 0;
  readonly stats = { entriesVerified: 0, rowsChecked: 0, hashesRead: 0 };

  constructor(private readonly store: Store) {}

  clear(): void {
    this.verified.clear();
    this.bytes = 0;
    this.facts.clear();
  }

  /**
   * Facts derived from verified entries only (e.g. "flow F's fingerprint began running in E#N at T", shown-runs.ts),
   * by a key naming everything shown: entries never change, so a fact checked once stays true, and a row edited
   * to show anything else makes another key, which is checked. Forgotten with the entries (bounded like them).
   */
  knows(fact: string): boolean {
    return this.facts.has(fact);
  }

  learn(fact: string): void {
    if (this.facts.size >= MAX_ENTRIES) this.facts.clear();
    this.facts.add(fact);
  }

  /** Forgets the subtree hashes bound so far too (tests: a fresh process). */
  forgetTree(): void {
    this.nodes.clear();
    this.nodeCount = 0;
  }

  /** The entries at these indexes, each checked to be a leaf of the tree whose root the server signs; a missing one is TAMPERED. */
  async entries(org: OrgRecord, indexes: Iterable<number>): Promise<Map<number, VerifiedEntry>> {
    const out = new Map<number, VerifiedEntry>();
    const missing: number[] = [];
    for (const i of new Set(indexes)) {
      const known = this.verified.get(`${org.id}:${i}`);
      if (known) out.set(i, known);
      else missing.push(i);
    }
    if (missing.length === 0) return out;
    // The head first: the stored hashes to read depend on its size, and every entry a row named is below it
    // (an append commits its entries and the head together).
    await this.verifyAt(org, await this.store.log.head(org.id), missing, out);
    return out;
  }

  /**
   * The head's size and the entries from `start` up to it, at most `max` of them (`end` is past the last one),
   * each checked against the head's root as `entries` does: what a cache that follows the log reads to learn
   * what changed (compliance-facts.ts). They are not remembered: a follower reads every entry once, and would
   * fill the memo with entries no decision asked for (the subtrees bound on the way are remembered).
   */
  async since(org: OrgRecord, start: number, max: number, read?: { size: number; root: Hash }): Promise<{ size: number; end: number; entries: VerifiedEntry[] }> {
    // `read`: the head the caller has just read (it is read here otherwise).
    const head = read ?? (await this.store.log.head(org.id));
    const end = Math.max(start, Math.min(head.size, start + max));
    const out = new Map<number, VerifiedEntry>();
    const missing: number[] = [];
    for (let i = start; i < end; i++) {
      const known = this.verified.get(`${org.id}:${i}`);
      if (known) out.set(i, known);
      else missing.push(i);
    }
    if (missing.length > 0) await this.verifyAt(org, head, missing, out, false);
    return { size: head.size, end, entries: [...out.values()].sort((a, b) => a.index - b.index) };
  }

  /** Reads `missing` (not verified yet), checks them against `head`'s root and adds them to `out`; remembers them if `keep`. */
  private async verifyAt(org: OrgRecord, head: { size: number; root: Hash }, missing: readonly number[], out: Map<number, VerifiedEntry>, keep = true): Promise<void> {
    for (const i of missing) {
      if (!Number.isSafeInteger(i) || i < 0 || i >= head.size) throw tampered(`log entry ${i} is not in the signed tree of ${head.size} entries`, { entry_index: i });
    }
    const known = this.frozenNodes(org.id);
    const plan = leafCheckPlan(head.size, missing, known);
    this.stats.hashesRead += plan.length;
    const [rows, stored] = await Promise.all([
      this.store.log.entriesAt(org.id, missing), plan.length > 0 ? this.store.log.readHashes(org.id, plan) : new Map<number, Hash>(),
    ]);
    const byIndex = new Map(rows.map((r) => [r.index, r]));
    const leaves = new Map<number, Hash>();
    for (const i of missing) {
      const row = byIndex.get(i);
      if (!row) throw tampered(`log entry ${i} is missing`, { entry_index: i });
      const leaf = leafHashOfText(row.entry);
      if (!bytesEqual(leaf, row.leafHash)) throw tampered(`log entry ${i} does not hash to its stored leaf hash (run evident verify log --full)`, { entry_index: i });
      leaves.set(i, leaf);
    }
    try {
      this.remember(org.id, checkLeaves(head.size, head.root, leaves, stored, known, MIN_KEPT_LEVEL).checked);
    } catch (err) {
      if (!(err instanceof EvidentError)) throw err;
      // Name the entry, not the group it was checked with: each again alone (only on this path).
      const alone = leaves.size > 1 ? await this.firstFailing(org, head, leaves) : err;
      throw tampered(`${(alone ?? err).message} (run evident verify log --full)`, (alone ?? err).details as Record<string, unknown>);
    }
    for (const i of missing) {
      const row = byIndex.get(i)!;
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(row.entry) as Record<string, unknown>;
      } catch {
        throw tampered(`log entry ${i} is not JSON`, { entry_index: i });
      }
      const entry = { index: i, leafHash: toHex(leaves.get(i)!), text: row.entry, body };
      this.stats.entriesVerified++;
      out.set(i, entry);
      if (!keep) continue;
      if (this.verified.size >= MAX_ENTRIES || this.bytes > MAX_BYTES) this.clear();
      this.bytes += row.entry.length;
      this.verified.set(`${org.id}:${i}`, entry);
    }
  }

  /**
   * The org's bound subtrees as they are now, for one plan and its check: the check must meet the subtrees the
   * plan met, but other checks remember (or drop, past MAX_NODES) subtrees while this one waits for its reads,
   * and a subtree newly known could make the check want a stored hash its plan did not read. Each answer is
   * kept at its first lookup (the plan's); the check's walk asks the same questions.
   */
  private frozenNodes(orgId: number): KnownNodes {
    const nodes = this.nodes.get(orgId);
    const answers = new Map<number, Hash | undefined>();
    return (level, n) => {
      // A number key (n < 2^47 for any log this process can hold): a string per lookup cost more than the hashing.
      const key = n * 64 + level;
      if (answers.has(key)) return answers.get(key);
      const hash = nodes?.get(key);
      answers.set(key, hash);
      return hash;
    };
  }

  /** The error of the first of `leaves` (at most 64 tried) that fails its check alone, if one does. */
  private async firstFailing(org: OrgRecord, head: { size: number; root: Hash }, leaves: ReadonlyMap<number, Hash>): Promise<EvidentError | undefined> {
    for (const [index, leaf] of [...leaves].slice(0, 64)) {
      const known = this.frozenNodes(org.id);
      const plan = leafCheckPlan(head.size, [index], known);
      try {
        checkLeaves(head.size, head.root, new Map([[index, leaf]]), await this.store.log.readHashes(org.id, plan), known);
      } catch (err) {
        if (err instanceof EvidentError) return err;
        throw err;
      }
    }
    return undefined;
  }

  private remember(orgId: number, checked: readonly (TreeNode & { hash: Hash })[]): void {
    let nodes = this.nodes.get(orgId);
    if (!nodes) this.nodes.set(orgId, (nodes = new Map()));
    for (const node of checked) {
      const key = node.n * 64 + node.level;
      if (nodes.has(key)) continue;
      // Past the bound everything is dropped at once (as the entries are): bound subtrees are only a shortcut.
      if (this.nodeCount >= MAX_NODES) {
        this.forgetTree();
        this.nodes.set(orgId, (nodes = new Map()));
      }
      nodes.set(key, node.hash);
      this.nodeCount++;
    }
  }

  /** Checks every claim against its entry (one batched read); throws TAMPERED naming the first mismatch. */
  async rows(org: OrgRecord, claims: readonly RowClaim[]): Promise<Map<number, VerifiedEntry>> {
    const entries = await this.entries(org, claims.map((c) => c.entryIndex));
    for (const c of claims) {
      this.stats.rowsChecked++;
      const entry = entries.get(c.entryIndex)!;
      const type = String(entry.body.type);
      if (entry.body.org !== org.name || !c.types.some((t) => (t.endsWith('.') ? type.startsWith(t) : type === t))) {
        throw tampered(`a ${c.table} row names log entry ${c.entryIndex}, which is a ${type} entry, not its record`, { table: c.table, entry_index: c.entryIndex });
      }
      for (const [field, value] of Object.entries(c.fields)) {
        const logged = entry.body[field] ?? null;
        if (canonicalJson(value ?? null) !== canonicalJson(logged)) {
          throw tampered(
            `the ${c.table} row of log entry ${c.entryIndex} was edited: its ${field} is ${short(value)}, the entry says ${short(logged)}`,
            { table: c.table, entry_index: c.entryIndex, field },
          );
        }
      }
    }
    return entries;
  }
}

/**
 * Checks each flow's tags (flows.tags, which policy conditions read) against the replay of its `flow.tagged`
 * entries; returns those entries' indexes by flow id (what a VSA carries so that the tags can be replayed).
 */
export async function checkFlowTags(check: ProjectionCheck, store: Store, org: OrgRecord, flows: readonly FlowRecord[]): Promise<Map<number, number[]>> {
  if (flows.length === 0) return new Map();
  const tagged = await store.records.flowTagEntries(flows.map((f) => f.id));
  const claims: RowClaim[] = [];
  for (const f of flows) for (const i of tagged.get(f.id) ?? []) claims.push({ table: 'flow_tag_entries', entryIndex: i, types: ['flow.tagged'], fields: { flow: f.name } });
  const entries = await check.rows(org, claims);
  for (const f of flows) {
    let tags: Record<string, string> = {};
    for (const i of tagged.get(f.id) ?? []) {
      const body = entries.get(i)!.body;
      tags = mergeTags(tags, { set: (body.set ?? {}) as Record<string, string>, unset: (body.unset ?? []) as string[] });
    }
    if (canonicalJson(tags) !== canonicalJson(f.tags)) {
      throw tampered(`the flows row of log entry ${f.entryIndex} was edited: its tags are ${short(f.tags)}, its flow.tagged entries say ${short(tags)}`, {
        table: 'flows', entry_index: f.entryIndex, field: 'tags',
      });
    }
  }
  return tagged;
}

function short(value: unknown): string {
  const text = canonicalJson(value ?? null);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function tampered(message: string, details: Record<string, unknown>): EvidentError {
  return new EvidentError('TAMPERED', `decision refused: ${message}`, { details });
}

const checks = new WeakMap<Store, ProjectionCheck>();

/** The checker of a store: one per store, so every service of a process shares its verified entries. */
export function projectionCheck(store: Store): ProjectionCheck {
  let check = checks.get(store);
  if (!check) checks.set(store, (check = new ProjectionCheck(store)));
  return check;
}
