import { subjectKey } from '../../ledger/index.js';
import type { ArtifactCompliance, ComplianceState } from '../../formats/index.js';
import type { ArtifactRecord, AttestationRecord, FlowRecord, OrgRecord, TrailRecord } from '../../store/index.js';
import type { LogService } from '../log-service.js';

/**
 * What `get artifact` shows of one artifact row that rests on records: every row of it checked against its
 * log entry when it was read. It depends only on entries about the fingerprint (its reports, attestations,
 * expectations, allowances), about its flows and trails (templates, tags, trail-level attestations) and the
 * trails of its related attestations: the subjects `subjectsOf` names.
 */
export interface ArtifactRecords {
  artifact: ArtifactRecord;
  flow: FlowRecord;
  trail: TrailRecord;
  attestations: AttestationRecord[];
  related: { flow: string; trail: string; attestation: AttestationRecord }[];
  state: ComplianceState;
  compliance: ArtifactCompliance;
}

interface Cached<V> {
  /** The log size the records were read at or after: no entry about `subjects` below it is missing from them. */
  size: number;
  subjects: string[];
  records: ArtifactRecords[];
  /** The log size `views` (records plus where it runs) were made at or after. */
  viewsSize: number;
  views: V[];
}

/** Fingerprints remembered per process, oldest dropped first (a forgotten one is read and checked again): a bench view and its answer are an estimated 10–20 KB (not measured), so this stays near ProjectionCheck's 64 MB. */
const MAX_FINGERPRINTS = 4_096;

// Why a cache is allowed here (DESIGN.md §2.1): the log is append-only, so rows verified against their
// entries stay the truth about their subjects until a later entry is about one of those subjects, which the
// subject map this process holds says without reading anything. Rows edited behind the server after they
// were verified are not read again while nothing new is about them; whatever is read again is checked again.
// Where the artifact runs is not kept across appends: a snapshot is about its environment, not about the
// artifacts in it, so any new entry makes it read again (the records part is kept).
/** Each fingerprint's `get artifact` views, kept while the subject map says nothing new is about them. */
export class ArtifactViewCache<V> {
  private readonly byKey = new Map<string, Cached<V>>();
  private readonly building = new Map<string, Promise<V[]>>();
  readonly stats = { hits: 0, recordsReads: 0, placesReads: 0 };

  constructor(
    private readonly log: LogService,
    /** The fingerprint's records, every row checked against the log ([] if none). */
    private readonly read: (org: OrgRecord, fingerprint: string) => Promise<ArtifactRecords[]>,
    /** One view: the records with where the artifact runs, read now. */
    private readonly place: (org: OrgRecord, records: ArtifactRecords) => Promise<V>,
  ) {}

  async views(org: OrgRecord, fingerprint: string): Promise<V[]> {
    const key = `${org.id}:${fingerprint}`;
    // Readers of a fingerprint being read wait for that read, then check it like any kept view (so a reader
    // never gets a view older than an append it saw finish): 32 clients asking for one new fingerprint at
    // once make one read, not 32.
    const building = this.building.get(key);
    if (building) await building.catch(() => undefined);
    const cached = this.byKey.get(key);
    let size: number | undefined;
    if (cached) {
      const now = await this.log.movedSince(org, cached.size, cached.subjects);
      if (now.moved === false) {
        cached.size = Math.max(cached.size, now.size);
        if (now.size === cached.viewsSize) {
          this.stats.hits++;
          return cached.views;
        }
        this.stats.placesReads++;
        const views = await Promise.all(cached.records.map((r) => this.place(org, r)));
        if (now.size > cached.viewsSize) Object.assign(cached, { views, viewsSize: now.size });
        return views;
      }
      if (this.byKey.get(key) === cached) this.byKey.delete(key);
      size = now.size;
    }
    // Another reader started reading it meanwhile: wait for that read and check it.
    if (this.building.has(key)) return this.views(org, fingerprint);
    const built = this.build(org, fingerprint, key, size);
    this.building.set(key, built);
    try {
      return await built;
    } finally {
      if (this.building.get(key) === built) this.building.delete(key);
    }
  }

  private async build(org: OrgRecord, fingerprint: string, key: string, known: number | undefined): Promise<V[]> {
    // The size is read before the rows: rows newer than it only make the next check more cautious.
    const size = known ?? await this.log.size(org);
    this.stats.recordsReads++;
    const records = await this.read(org, fingerprint);
    const views = await Promise.all(records.map((r) => this.place(org, r)));
    if (records.length > 0) {
      if (this.byKey.size >= MAX_FINGERPRINTS) this.byKey.delete(this.byKey.keys().next().value!);
      this.byKey.set(key, { size, subjects: subjectsOf(fingerprint, records), records, viewsSize: size, views });
    }
    return views;
  }
}

/** The subject keys whose entries can change what `records` say (docs/log.md, "Subjects and prev links"). */
function subjectsOf(fingerprint: string, records: readonly ArtifactRecords[]): string[] {
  const out = new Set([subjectKey('artifact', fingerprint)]);
  for (const r of records) {
    out.add(subjectKey('flow', r.flow.name)).add(subjectKey('trail', r.flow.name, r.trail.name));
    for (const x of r.related) out.add(subjectKey('flow', x.flow)).add(subjectKey('trail', x.flow, x.trail));
  }
  return [...out];
}
