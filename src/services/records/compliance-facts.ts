import type { FactSources, OrgRecord, Store } from '../../store/index.js';
import { factsFromSources, type ArtifactFacts } from './compliance-sources.js';
import { factSourceClaims } from './fact-claims.js';
import { checkFlowTags, projectionCheck, type ProjectionCheck, type VerifiedEntry } from './projection-check.js';
import { IN_THREAD_PARSER, prepareTemplates, templateOf } from './templates.js';
import type { ParsePool } from '../parse-pool.js';
import type { AppendedEntry } from '../log-service.js';

// What the records say about each running fingerprint, as the policy evaluator wants it (PolicyArtifactInput),
// cached per org and kept current incrementally from the log itself.
//
// Every change of a fact is a log entry, and every entry that can change one names its flow (and trail, or
// fingerprint): artifact.reported, attestation.reported, flow.tagged, a template change... So a cache that
// remembers up to which log index it is current (its watermark) catches up by reading only the entries
// appended since, dropping the facts of the fingerprints they name: by fingerprint, by flow+trail, or by flow
// for flow-wide entries. Entries that name no flow (snapshots, environments, policies) change no fact. The
// policy decisions of a fingerprint live on its facts, keyed by policy version id, so dropping the facts drops
// them: the cache key is (fingerprint, facts version, policy version). Decisions are recomputed only for what
// changed. The cache is per process; the watermark makes it correct with several servers on one database.

export type { ArtifactFacts } from './compliance-sources.js';

export interface OrgCache {
  watermark: number;
  facts: Map<string, ArtifactFacts>;
  /** Bumped at each catch-up that dropped facts. */
  generation: number;
  /** The generation at which each fingerprint's facts were last dropped: what a memo built earlier must redo. */
  dropped: Map<string, number>;
  /**
   * The generation at which entries last named each environment (by name) other than its snapshots: policy
   * attachments and exemptions. What was read of an environment's rules earlier holds while this stays put.
   */
  environments: Map<string, number>;
}

const newCache = (watermark: number): OrgCache => ({ watermark, facts: new Map(), generation: 0, dropped: new Map(), environments: new Map() });

/** Entries read per query when catching up. */
const PAGE = 1000;
/** Past this many new entries, dropping everything is cheaper than reading them. */
const MAX_CATCH_UP = 20_000;
/** Fingerprints kept per org before the cache starts over (bounds memory). */
const MAX_FACTS = 200_000;

export class ComplianceFacts {
  private readonly orgs = new Map<number, OrgCache>();
  /** Counters for the benchmark and the tests: how many facts were loaded and decisions computed. */
  readonly stats = { factsLoaded: 0, entriesRead: 0 };

  /** Every row the facts are made of is checked against its log entry when read (projection-check.ts). */
  readonly check: ProjectionCheck;

  constructor(private readonly store: Store, private readonly parser: ParsePool = IN_THREAD_PARSER) {
    this.check = projectionCheck(store);
  }

  cacheOf(org: OrgRecord): OrgCache | undefined {
    return this.orgs.get(org.id);
  }

  /** Forgets everything (the benchmark's "from scratch"). */
  clear(): void {
    // The verified entries (projection-check.ts) are kept: an entry never changes once verified, and every row
    // is still re-read and compared with it. `check.clear()` forgets them too (a new process).
    this.orgs.clear();
  }

  /** The facts of each fingerprint, current as of the log's head when called. */
  async of(org: OrgRecord, artifacts: readonly { name: string; fingerprint: string }[], caughtUp?: OrgCache): Promise<Map<string, ArtifactFacts>> {
    // A caller that has just caught up passes the cache, saving two queries.
    let cache = caughtUp && this.orgs.get(org.id) === caughtUp ? caughtUp : await this.current(org);
    const missing = artifacts.filter((a) => !cache.facts.has(a.fingerprint));
    if (missing.length > 0) {
      // Starting over gives the cache a new identity, which also retires every memo built on it.
      if (cache.facts.size + missing.length > MAX_FACTS) this.orgs.set(org.id, (cache = newCache(cache.watermark)));
      for (const f of await this.load(org, missing)) cache.facts.set(f.fingerprint, f);
    }
    return new Map(artifacts.map((a) => [a.fingerprint, cache.facts.get(a.fingerprint)!]));
  }

  /**
   * Remembers the entries this process commits (a few per org, in index order): a catch-up over entries that
   * are all this process's own takes them from here instead of reading them back. They need no check: this
   * process wrote them, and an edit of their rows since does not change what it holds.
   */
  follow(log: { onCommit(listener: (org: OrgRecord, entries: readonly AppendedEntry[]) => void): void }): void {
    log.onCommit((org, entries) => {
      // Only orgs with a cache: a catch-up starts from one.
      if (entries.length === 0 || !this.orgs.has(org.id)) return;
      const own = this.own.get(org.id);
      if (own && own.from + own.entries.length === entries[0]!.index && own.entries.length + entries.length <= PAGE) own.entries.push(...entries);
      // A gap (another server's entries) or too many: start again here; a catch-up before it reads the database.
      else if (entries.length <= PAGE) this.own.set(org.id, { from: entries[0]!.index, entries: [...entries] });
      else this.own.delete(org.id);
    });
  }

  /** This process's own committed entries, [from, from + entries.length), as `follow` kept them. */
  private readonly own = new Map<number, { from: number; entries: AppendedEntry[] }>();

  /** Brings the org's cache up to the log head, dropping the facts that the new entries may have changed. */
  async current(org: OrgRecord): Promise<OrgCache> {
    const known = this.orgs.get(org.id);
    // The entries since the watermark say which facts to drop, so they are checked against the signed root like
    // every entry a decision reads (projection-check.ts): an entry edited before this read could otherwise name
    // another fingerprint and keep the stale facts of the one it was about. Entries this process committed
    // itself are taken from memory. One statement (the head) when nothing changed or all that did is this
    // process's own; three when other servers appended.
    const head = await this.store.log.head(org.id);
    if (known && known.dropped.size <= MAX_FACTS && head.size - known.watermark <= MAX_CATCH_UP) {
      // A head below the watermark: a catch-up that read a later head finished first (what it read covers this).
      if (head.size <= known.watermark) return known;
      const own = this.own.get(org.id);
      if (own && own.from <= known.watermark && own.from + own.entries.length >= head.size) {
        const mine = own.entries.slice(known.watermark - own.from, head.size - own.from);
        this.stats.entriesRead += mine.length;
        const changed = newChanged();
        for (const e of mine) noteChange(changed, JSON.parse(e.entry) as Record<string, unknown>);
        invalidate(known, changed);
        known.watermark = head.size;
        // What is below the watermark is not needed again.
        own.entries.splice(0, head.size - own.from);
        own.from = head.size;
        return known;
      }
      const changed = newChanged();
      let page = await this.check.since(org, known.watermark, PAGE, head);
      this.note(changed, page.entries);
      // Up to the head read first: writers that keep appending do not keep this read going.
      while (page.end < head.size) {
        page = await this.check.since(org, page.end, PAGE);
        this.note(changed, page.entries);
      }
      // Only now: an error above leaves the watermark where it was, so nothing is skipped.
      invalidate(known, changed);
      known.watermark = Math.max(known.watermark, page.end);
      return known;
    }
    // None yet, or past MAX_CATCH_UP new entries (dropping everything is cheaper than reading them).
    const cache = newCache(head.size);
    this.orgs.set(org.id, cache);
    return cache;
  }

  private note(changed: Changed, entries: readonly VerifiedEntry[]): void {
    this.stats.entriesRead += entries.length;
    for (const e of entries) noteChange(changed, e.body);
  }

  /**
   * The facts of a fingerprint as reported into one flow (its latest report there), whatever other flows
   * reported it since: `assert artifact --flow F`. Not cached (the cache holds the latest report's facts).
   */
  async inFlow(org: OrgRecord, artifact: { name: string; fingerprint: string }, flowId: number): Promise<ArtifactFacts> {
    return (await this.load(org, [artifact], flowId))[0]!;
  }

  /**
   * What facts of these fingerprints are made of, read once for `asOf` (one round of queries, whatever the number
   * of entries they are then taken as of).
   */
  async sources(org: OrgRecord, fingerprints: readonly string[], flowId?: number): Promise<FactSources> {
    const sources = await this.store.policies.factSources(org.id, fingerprints, flowId);
    await this.verify(org, sources);
    return sources;
  }

  /**
   * The facts of each artifact as the records stood at log entry `asOf`: its latest report then, and only the
   * attestations and trail contents logged at or before it. From `sources` (see above) when given, else read.
   * Not cached: the cache holds current facts.
   */
  async asOf(org: OrgRecord, artifacts: readonly { name: string; fingerprint: string }[], asOf: number, sources?: FactSources): Promise<Map<string, ArtifactFacts>> {
    const from = sources ?? (await this.sources(org, artifacts.map((a) => a.fingerprint)));
    this.stats.factsLoaded += artifacts.length;
    await prepareTemplates(this.parser, from.trails.map((t) => t.template));
    return new Map(factsFromSources(from, artifacts, templateOf, asOf).map((f) => [f.fingerprint, f]));
  }

  /** Facts of many fingerprints in a few queries: latest reports (into `flowId` only, if given), their flows, trails and the trails' contents. */
  private async load(org: OrgRecord, artifacts: readonly { name: string; fingerprint: string }[], flowId?: number): Promise<ArtifactFacts[]> {
    const sources = await this.store.policies.factSources(org.id, artifacts.map((a) => a.fingerprint), flowId);
    // Facts are cached only once every row they are made of matched its entry: a cached fact rests on verified
    // entries, and a process that reads the same rows fresh either agrees or fails naming the edited row.
    await this.verify(org, sources);
    // Never reported in a flow, but bound to a provenance attestation (`evident attest provenance`): that is
    // provenance too, for artifacts.provenance (docs/provenance.md "Recording provenance").
    const unreported = artifacts.map((a) => a.fingerprint).filter((fp) => !sources.reports.has(fp));
    const attested = unreported.length > 0 ? (await this.provenanceAttested(org, unreported)).fingerprints : undefined;
    this.stats.factsLoaded += artifacts.length;
    await prepareTemplates(this.parser, sources.trails.map((t) => t.template));
    return factsFromSources(sources, artifacts, templateOf, undefined, attested);
  }

  /**
   * Of these (unreported) fingerprints, those bound to a provenance attestation, each row checked against its
   * entry; with the entries' indexes (a VSA's inputs).
   */
  async provenanceAttested(org: OrgRecord, fingerprints: readonly string[]): Promise<{ fingerprints: Set<string>; entries: number[] }> {
    const rows = await this.store.records.attestedAs(org.id, fingerprints, 'provenance');
    await this.check.rows(org, rows.map((r) => ({
      table: 'attestations', entryIndex: r.entryIndex, types: ['attestation.reported'], fields: { artifact_fingerprint: r.fingerprint, attestation_type: 'provenance' },
    })));
    return { fingerprints: new Set(rows.map((r) => r.fingerprint)), entries: rows.map((r) => r.entryIndex) };
  }

  /** Every row of `sources` checked against its log entry, and the flows' tags against their entries' replay. */
  private async verify(org: OrgRecord, sources: FactSources): Promise<void> {
    await Promise.all([this.check.rows(org, factSourceClaims(sources)), checkFlowTags(this.check, this.store, org, sources.flows)]);
  }
}

interface Changed {
  environments: Set<string>;
  fingerprints: Set<string>;
  flows: Set<string>;
  /** `flow\u0000trail` */
  trails: Set<string>;
}

const newChanged = (): Changed => ({ environments: new Set(), fingerprints: new Set(), flows: new Set(), trails: new Set() });

/** What a log entry may have changed: a fingerprint, a trail, or (an entry naming only a flow) a whole flow. */
function noteChange(changed: Changed, entry: Record<string, unknown>): void {
  const str = (k: string) => (typeof entry[k] === 'string' ? (entry[k] as string) : undefined);
  // A snapshot changes no rule of its environment; attachments and exemptions (and anything else naming it) may.
  const environment = str('environment');
  if (environment && entry.type !== 'snapshot.created') changed.environments.add(environment);
  for (const k of ['fingerprint', 'artifact_fingerprint']) {
    const fp = str(k);
    if (fp) changed.fingerprints.add(fp);
  }
  const flow = str('flow');
  if (!flow) return;
  const trail = str('trail');
  if (trail === undefined) changed.flows.add(flow);
  else changed.trails.add(`${flow}\u0000${trail}`);
}

/** Drops the facts of what changed: one pass over the cache, whatever the number of entries. */
function invalidate(cache: OrgCache, changed: Changed): void {
  if (changed.environments.size + changed.fingerprints.size + changed.flows.size + changed.trails.size === 0) return;
  cache.generation++;
  for (const env of changed.environments) cache.environments.set(env, cache.generation);
  for (const [fp, f] of cache.facts) {
    const hit = changed.fingerprints.has(fp) || (f.flow !== null && (changed.flows.has(f.flow) || changed.trails.has(`${f.flow}\u0000${f.trail}`)));
    if (hit) {
      cache.facts.delete(fp);
      cache.dropped.set(fp, cache.generation);
    }
  }
}
