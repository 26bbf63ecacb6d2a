import { subjectKey, subjectsOf } from '../../ledger/index.js';
import type { TrailCompliance } from '../../formats/index.js';
import type { ArtifactRecord, AttestationRecord, OrgRecord, Store, TrailRecord } from '../../store/index.js';
import type { AppendedEntry, LogService } from '../log-service.js';
import type { ParsePool } from '../parse-pool.js';
import { trailContentClaims } from './fact-claims.js';
import { projectionCheck } from './projection-check.js';
import { prepareTemplates } from './templates.js';
import { TrailTally } from './trail-tally.js';

/** A trail's compliance and what else the pages show of all its records, as of `latest`. */
export interface TrailState {
  compliance: TrailCompliance;
  /** Every attestation type recorded in it. */
  types: ReadonlySet<string>;
  attestations: number;
  artifacts: number;
  /** The index of the latest entry about the trail that this state includes. */
  latest: number | null;
}

interface Kept {
  /** The latest entry about the trail (subject map) when the tally was made: it holds every entry about the trail up to it. */
  latest: number;
  /** The trail row's entry the tally was made with (its template). */
  trailEntry: number;
  tally: TrailTally;
}

/** Trails kept per process, least recently used dropped first. A tally is O(distinct names + artifacts): ~1–5 KB. */
const MAX_TRAILS = 8_192;

// Why a cache is allowed here (DESIGN.md §2.1, "Signed means verified"). A tally is made only from
// (a) projection rows of the trail, every compared field checked against its log entry, whose leaf hash is
// checked against the tree (ProjectionCheck), with rows above the latest entry the map names left out; or
// (b) the entries this process itself appended and committed (onCommit), whose `prev` link for the trail
// names the tally's latest entry, so no entry about the trail was committed between the two. It is kept as
// long as the subject map — verified against the map root committed with the signed head — names the same
// latest entry about the trail: the log is append-only, so what those entries say about the trail cannot change.
//
// What someone who can edit the database can make it show:
// - Edit, add or copy a row before this process reads it: the row no longer matches its entry (or names an
//   entry of another type or trail): TAMPERED, as before this cache.
// - Edit a row after it was read: nothing; the tally is not read from the rows again while nothing new is
//   about the trail (the edited row is caught at the next read, e.g. another server's or a fresh one's).
// - Delete a row before it is read: the compliance leaves that attestation out. This was already so
//   without the cache (a trail's rows are listed from the table); the map says which entry is the latest
//   about the trail, not how many there are. `evident verify` and evidence packages (prev links) show it.
// - Edit the map leaves or the head: the map no longer makes the root committed with the signed checkpoint
//   (LogMaps.at), so the read fails TAMPERED; a head rolled back to an older signed one makes the tally read
//   again from the rows, and shows at worst what the log said at that checkpoint.
// The key is only ever a reason to read again: an attacker who makes it change causes a fresh, checked read.
/** Each trail's compliance, kept while the subject map names the same latest entry about it, and moved on by this process's own appends. */
export class TrailStates {
  private readonly kept = new Map<string, Kept>();
  /** How many trails of each org are kept: an org with none parses nothing on commit. */
  private readonly perOrg = new Map<number, number>();
  readonly stats = { hits: 0, reads: 0, appended: 0, dropped: 0 };

  constructor(private readonly store: Store, private readonly log: LogService, private readonly parser: ParsePool) {
    log.onCommit((org, entries) => this.committed(org, entries));
  }

  /** The state of each trail (by trail id): kept ones as they are, the others read, checked and tallied in one batch. */
  async of(org: OrgRecord, trails: readonly { flow: string; trail: TrailRecord }[]): Promise<Map<number, TrailState>> {
    const out = new Map<number, TrailState>();
    if (trails.length === 0) return out;
    const found = new Map<number, { tally: TrailTally; latest: number | null }>();
    const keys = trails.map((t) => this.key(org.id, t.flow, t.trail.name));
    // Read before the rows: a row newer than it is left out, so the tally is exactly the log up to it.
    const latest = await this.log.latestAbout(org, trails.map((t) => subjectKey('trail', t.flow, t.trail.name)));
    const missing: { flow: string; trail: TrailRecord; key: string; latest: number | null }[] = [];
    trails.forEach((t, i) => {
      const l = latest?.[i] ?? null;
      const kept = this.kept.get(keys[i]!);
      if (kept && l !== null && kept.latest === l && kept.trailEntry === t.trail.entryIndex) {
        this.stats.hits++;
        // Most recently used last: the first key is the one dropped when full.
        this.kept.delete(keys[i]!);
        this.kept.set(keys[i]!, kept);
        found.set(t.trail.id, { tally: kept.tally, latest: l });
      } else {
        missing.push({ ...t, key: keys[i]!, latest: l });
      }
    });
    if (missing.length > 0) await this.read(org, missing, found);
    await prepareTemplates(this.parser, trails.map((t) => t.trail.template));
    for (const [id, { tally, latest: l }] of found) {
      out.set(id, { compliance: tally.compliance(), types: tally.types, attestations: tally.attestations, artifacts: tally.artifacts, latest: l });
    }
    return out;
  }

  private async read(org: OrgRecord, missing: readonly { flow: string; trail: TrailRecord; key: string; latest: number | null }[], found: Map<number, { tally: TrailTally; latest: number | null }>): Promise<void> {
    this.stats.reads += missing.length;
    const { artifacts, attestations } = await this.store.records.contentsOfTrails(missing.map((m) => m.trail.id));
    const upTo = new Map(missing.map((m) => [m.trail.id, m.latest ?? Number.MAX_SAFE_INTEGER]));
    const artifactsOf = groupBy(artifacts.filter((a) => a.entryIndex <= upTo.get(a.trailId)!), (a) => a.trailId);
    const attestationsOf = groupBy(attestations.filter((a) => a.entryIndex <= upTo.get(a.trailId)!), (a) => a.trailId);
    await projectionCheck(this.store).rows(org, missing.flatMap((m) =>
      trailContentClaims(m.flow, m.trail, artifactsOf.get(m.trail.id) ?? [], attestationsOf.get(m.trail.id) ?? [])));
    for (const m of missing) {
      const tally = new TrailTally(m.trail.template);
      // In recording order: the evaluator's "last of each name counts" is the last entry.
      const arts = (artifactsOf.get(m.trail.id) ?? []).sort((a, b) => a.entryIndex - b.entryIndex);
      const atts = (attestationsOf.get(m.trail.id) ?? []).sort((a, b) => a.entryIndex - b.entryIndex);
      for (const a of arts) tally.addArtifact(a);
      for (const a of atts) tally.addAttestation(a);
      found.set(m.trail.id, { tally, latest: m.latest });
      // Kept only when the map named a latest entry that the trail row is not newer than (else it is read again).
      if (m.latest !== null && m.trail.entryIndex <= m.latest) this.keep(org.id, m.key, { latest: m.latest, trailEntry: m.trail.entryIndex, tally });
    }
  }

  private keep(orgId: number, key: string, kept: Kept): void {
    if (!this.kept.has(key)) {
      if (this.kept.size >= MAX_TRAILS) this.drop(this.kept.keys().next().value!);
      this.perOrg.set(orgId, (this.perOrg.get(orgId) ?? 0) + 1);
    }
    this.kept.delete(key);
    this.kept.set(key, kept);
  }

  private drop(key: string): void {
    if (!this.kept.delete(key)) return;
    this.stats.dropped++;
    const orgId = Number(key.slice(0, key.indexOf('\u0000')));
    const n = (this.perOrg.get(orgId) ?? 1) - 1;
    if (n > 0) this.perOrg.set(orgId, n);
    else this.perOrg.delete(orgId);
  }

  private key(orgId: number, flow: string, trail: string): string {
    return `${orgId}\u0000${subjectKey('trail', flow, trail)}`;
  }

  /**
   * The entries this process committed (in index order): an attestation or artifact whose `prev` link for its
   * trail is the kept tally's latest entry moves the tally on by itself; any other entry about a kept trail
   * (trail.updated: a new template) drops it.
   */
  private committed(org: OrgRecord, entries: readonly AppendedEntry[]): void {
    if (!this.perOrg.has(org.id)) return;
    for (const e of entries) {
      // Canonical JSON: an entry about a trail has a "trail" member; most others are skipped unparsed.
      if (!e.entry.includes('"trail":')) continue;
      const body = JSON.parse(e.entry) as Record<string, unknown>;
      const subject = subjectsOf(body.type, body).find((s) => s.kind === 'trail');
      if (!subject) continue;
      const key = `${org.id}\u0000${subject.key}`;
      const kept = this.kept.get(key);
      if (!kept) continue;
      const prev = (body.prev as Record<string, unknown> | undefined)?.trail;
      const applied = prev === kept.latest && this.apply(kept.tally, body, e.index);
      if (!applied) {
        this.drop(key);
        continue;
      }
      kept.latest = e.index;
      this.stats.appended++;
    }
  }

  private apply(tally: TrailTally, body: Record<string, unknown>, index: number): boolean {
    const str = (v: unknown): v is string => typeof v === 'string';
    const strOrNull = (v: unknown): v is string | null => v === null || v === undefined || typeof v === 'string';
    if (body.type === 'attestation.reported' && str(body.attestation) && str(body.attestation_type) && typeof body.compliant === 'boolean'
      && strOrNull(body.artifact_fingerprint) && strOrNull(body.artifact_name)) {
      tally.addAttestation({
        entryIndex: index, name: body.attestation, type: body.attestation_type, compliant: body.compliant,
        artifactFingerprint: body.artifact_fingerprint ?? null, artifactName: body.artifact_name ?? null,
      });
      return true;
    }
    if (body.type === 'artifact.reported' && str(body.artifact) && str(body.fingerprint)) {
      tally.addArtifact({ entryIndex: index, name: body.artifact, fingerprint: body.fingerprint });
      return true;
    }
    return false;
  }
}

function groupBy<T extends ArtifactRecord | AttestationRecord>(items: readonly T[], key: (item: T) => number): Map<number, T[]> {
  const out = new Map<number, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}
