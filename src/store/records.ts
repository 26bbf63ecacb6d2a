import { sql, type Insertable, type Kysely, type Selectable, type Transaction } from 'kysely';
import { EvidentError } from '../core/index.js';
import { canonicalJson } from '../formats/index.js';
import type { AttestationTypesTable, AttestationsTable, Database } from './schema.js';
import type { ArtifactRecord, AttestationRecord, AttestationTypeRecord, FlowRecord, Page, RecordReader, RecordWriter, TrailRecord } from './types.js';
import { decodeCursor, encodeCursor, translateDbError } from './cursor.js';
import { SqlEnvironmentWriter } from './environments-sql.js';
import { SqlPolicyWriter } from './policies-sql.js';
import * as bulk from './records-bulk.js';
import { deploymentWitnesses, lastDeployments, recordArtifactStarts } from './flow-deployments.js';
import { flowTagEntries, insertFlowTagEntry } from './flow-tag-entries.js';
import { insertTagEntry, tagEntries, type TagKind } from './tag-entries.js';
import { insertTypeArchive, typeArchives } from './type-archives.js';
import { json, parse, toArtifact, toAttestation, toFlow, toTrail } from './record-rows.js';

// The row mappers moved to record-rows.ts; still exported here for the readers that import them from this file.
export { toArtifact, toAttestation, toFlow, toTrail };

type Db = Kysely<Database> | Transaction<Database>;

function page<T extends { id: number }>(rows: T[], limit: number): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeCursor([String(last.id), '']) : null };
}

function afterId(cursor: string | null): number {
  return cursor === null ? 0 : Number(decodeCursor(cursor)[0]) || 0;
}

async function guard<T>(work: () => Promise<T>, conflict: string): Promise<T> {
  try {
    return await work();
  } catch (err) {
    const e = translateDbError(err);
    if (e instanceof EvidentError && e.code === 'CONFLICT') throw new EvidentError('CONFLICT', conflict, { cause: err });
    throw e;
  }
}

function toType(r: Selectable<AttestationTypesTable>): AttestationTypeRecord {
  return {
    id: r.id, orgId: r.org_id, name: r.name, version: r.version, description: r.description, schema: parse(r.schema),
    rules: parse(r.rules) as string[], createdAt: r.created_at, entryIndex: Number(r.entry_index),
  };
}

/** Most attestation rows deferred to one multi-row INSERT (bound parameters stay under PostgreSQL's 65,535). */
const DEFERRED_CHUNK = 1000;

export class SqlRecordWriter implements RecordWriter {
  readonly environments: SqlEnvironmentWriter;
  readonly policies: SqlPolicyWriter;
  /** Attestation rows made but not yet written (`defer` only): nothing in a write transaction reads attestations before flush(). */
  private deferred: Insertable<AttestationsTable>[] = [];
  /** Attestation ids taken from the table's sequence, not yet used (ids keep growing in log order: the org's log lock is held). */
  private ids: number[] = [];
  private reserve = 8;

  /**
   * `defer`: attestation rows are written by flush(), in one INSERT per batch rather than a round trip
   * per row (PostgreSQL, where a round trip costs more than the row); their ids are taken from the
   * sequence up front, a few at a time, so the record returned is the one written.
   */
  constructor(private readonly tx: Db, private readonly defer = false, expected = 8) {
    // The first run of ids covers the batch when each entry is one attestation (the common case), in one round trip.
    this.reserve = Math.max(8, Math.min(256, expected));
    this.environments = new SqlEnvironmentWriter(tx);
    this.policies = new SqlPolicyWriter(tx);
  }

  /** Writes the deferred attestation rows. */
  async flush(): Promise<void> {
    while (this.deferred.length > 0) {
      const rows = this.deferred.splice(0, DEFERRED_CHUNK);
      await this.tx.insertInto('attestations').values(rows).execute();
    }
  }

  /** Ids taken from the attestation sequence by the caller, under the org's log lock (used before any taken here). */
  reserved(ids: readonly number[]): void {
    this.ids = [...ids, ...this.ids].sort((a, b) => a - b);
  }

  /** Hands over the deferred rows for the caller to write (PostgreSQL: with the batch's entries, in one statement). */
  take(): Insertable<AttestationsTable>[] {
    const rows = this.deferred;
    this.deferred = [];
    return rows;
  }

  /** Forgets the deferred rows (their entry's projection failed and is being undone). */
  discard(): void {
    this.deferred = [];
  }

  /** The next attestation id from the sequence; ids are reserved in growing runs (8, 16, … 256), so a batch costs a few round trips. */
  private async nextAttestationId(): Promise<number> {
    if (this.ids.length === 0) {
      const n = this.reserve;
      this.reserve = Math.min(256, this.reserve * 2);
      const r = await sql<{ id: string | number }>`SELECT nextval(pg_get_serial_sequence('attestations', 'id')) AS id FROM generate_series(1, ${n})`.execute(this.tx);
      this.ids = r.rows.map((x) => Number(x.id)).sort((a, b) => a - b);
    }
    return this.ids.shift()!;
  }

  async flow(orgId: number, name: string) {
    const r = await this.tx.selectFrom('flows').selectAll().where('org_id', '=', orgId).where('name', '=', name).executeTakeFirst();
    return r && toFlow(r);
  }

  async trail(flowId: number, name: string) {
    const r = await this.tx.selectFrom('trails').selectAll().where('flow_id', '=', flowId).where('name', '=', name).executeTakeFirst();
    return r && toTrail(r);
  }

  async insertFlow(f: Omit<FlowRecord, 'id' | 'tags'> & { tags?: Record<string, string> }) {
    const r = await guard(
      () => this.tx.insertInto('flows').values({
        org_id: f.orgId, name: f.name, description: f.description, template: f.template, created_at: f.createdAt,
        archived_at: f.archivedAt, entry_index: f.entryIndex, tags: f.tags && Object.keys(f.tags).length > 0 ? canonicalJson(f.tags) : null,
      }).returningAll().executeTakeFirstOrThrow(),
      `flow ${JSON.stringify(f.name)} already exists`,
    );
    return toFlow(r);
  }

  async archiveFlow(flowId: number, at: string, entryIndex: number) {
    await this.tx.updateTable('flows').set({ archived_at: at, entry_index: entryIndex }).where('id', '=', flowId).execute();
  }

  async setFlowTags(flowId: number, tags: Record<string, string>, entryIndex: number) {
    const flow = await this.tx.selectFrom('flows').select('org_id').where('id', '=', flowId).executeTakeFirstOrThrow();
    await insertFlowTagEntry(this.tx, flow.org_id, flowId, entryIndex);
    await this.tx.updateTable('flows').set({ tags: Object.keys(tags).length === 0 ? null : canonicalJson(tags), entry_index: entryIndex }).where('id', '=', flowId).execute();
  }

  async insertTagEntry(orgId: number, kind: TagKind, subject: string, entryIndex: number) {
    await insertTagEntry(this.tx, orgId, kind, subject, entryIndex);
  }

  async insertTypeArchive(orgId: number, name: string, entryIndex: number) {
    await insertTypeArchive(this.tx, orgId, name, entryIndex);
  }

  async insertTrail(t: Omit<TrailRecord, 'id'>) {
    const r = await guard(
      () => this.tx.insertInto('trails').values({
        org_id: t.orgId, flow_id: t.flowId, name: t.name, description: t.description, git_commit: t.gitCommit,
        commit_url: t.commitUrl, origin_url: t.originUrl, user_data: json(t.userData), template: t.template,
        created_at: t.createdAt, entry_index: t.entryIndex,
      }).returningAll().executeTakeFirstOrThrow(),
      `trail ${JSON.stringify(t.name)} already exists in this flow`,
    );
    return toTrail(r);
  }

  async updateFlow(flowId: number, c: Pick<FlowRecord, 'description' | 'template'>, entryIndex: number) {
    const r = await this.tx.updateTable('flows').set({ description: c.description, template: c.template, entry_index: entryIndex })
      .where('id', '=', flowId).returningAll().executeTakeFirstOrThrow();
    return toFlow(r);
  }

  async updateTrail(trailId: number, c: Pick<TrailRecord, 'description' | 'gitCommit' | 'commitUrl' | 'originUrl' | 'userData' | 'template'>, entryIndex: number) {
    const r = await this.tx.updateTable('trails').set({
      description: c.description, git_commit: c.gitCommit, commit_url: c.commitUrl, origin_url: c.originUrl, user_data: json(c.userData),
      template: c.template, entry_index: entryIndex,
    }).where('id', '=', trailId).returningAll().executeTakeFirstOrThrow();
    return toTrail(r);
  }

  async insertArtifact(a: Omit<ArtifactRecord, 'id'>) {
    const r = await this.tx.insertInto('artifacts').values({
      org_id: a.orgId, flow_id: a.flowId, trail_id: a.trailId, fingerprint: a.fingerprint, name: a.name,
      display_name: a.displayName, git_commit: a.gitCommit, commit_url: a.commitUrl, build_url: a.buildUrl,
      annotations: json(a.annotations), commit_time: a.commitTime, created_at: a.createdAt, entry_index: a.entryIndex,
    }).returningAll().executeTakeFirstOrThrow();
    await recordArtifactStarts(this.tx, a.orgId, a.flowId, a.fingerprint);
    return toArtifact(r);
  }

  async insertAttestationType(t: Omit<AttestationTypeRecord, 'id' | 'version'>) {
    const last = await this.tx.selectFrom('attestation_types').select((eb) => eb.fn.max('version').as('v'))
      .where('org_id', '=', t.orgId).where('name', '=', t.name).executeTakeFirst();
    const r = await this.tx.insertInto('attestation_types').values({
      org_id: t.orgId, name: t.name, version: Number(last?.v ?? 0) + 1, description: t.description, schema: canonicalJson(t.schema),
      rules: canonicalJson(t.rules), created_at: t.createdAt, entry_index: t.entryIndex,
    }).returningAll().executeTakeFirstOrThrow();
    return toType(r);
  }

  async insertAttestation(a: Omit<AttestationRecord, 'id'>) {
    const values = {
      org_id: a.orgId, flow_id: a.flowId, trail_id: a.trailId, name: a.name, type: a.type,
      artifact_fingerprint: a.artifactFingerprint, artifact_name: a.artifactName, git_commit: a.gitCommit,
      compliant: a.compliant ? 1 : 0, summary: json(a.summary), description: a.description, user_data: json(a.userData),
      annotations: json(a.annotations), evidence: a.evidence.length === 0 ? null : json(a.evidence), created_at: a.createdAt, entry_index: a.entryIndex,
    };
    if (this.defer) {
      const row = { id: await this.nextAttestationId(), ...values };
      this.deferred.push(row);
      return toAttestation(row);
    }
    return toAttestation(await this.tx.insertInto('attestations').values(values).returningAll().executeTakeFirstOrThrow());
  }
}

export class SqlRecordReader implements RecordReader {
  constructor(private readonly db: Kysely<Database>) {}

  flowTagEntries(flowIds: readonly number[]) {
    return flowTagEntries(this.db, flowIds);
  }

  tagEntries(orgId: number, kind: TagKind, subjects?: readonly string[]) {
    return tagEntries(this.db, orgId, kind, subjects);
  }

  typeArchives(orgId: number) {
    return typeArchives(this.db, orgId);
  }

  flowsByName(orgId: number, names: readonly string[]) {
    return bulk.flowsByName(this.db, orgId, names);
  }

  trailNames(trailIds: readonly number[]) {
    return bulk.trailNames(this.db, trailIds);
  }

  latestTrails(flowIds: readonly number[]) {
    return bulk.latestTrails(this.db, flowIds);
  }

  contentsOfTrails(trailIds: readonly number[]) {
    return bulk.contentsOfTrails(this.db, trailIds);
  }

  lastDeployments(orgId: number, flowIds: readonly number[]) {
    return lastDeployments(this.db, orgId, flowIds);
  }

  deploymentWitnesses(orgId: number, deployments: readonly { flowId: number; envId: number; snapshot: number }[]) {
    return deploymentWitnesses(this.db, orgId, deployments);
  }

  placesOf(orgId: number, fingerprints: readonly string[]) {
    return bulk.placesOf(this.db, orgId, fingerprints);
  }

  flow(orgId: number, name: string) {
    return new SqlRecordWriter(this.db).flow(orgId, name);
  }

  async attestationType(orgId: number, name: string, version?: number) {
    let q = this.db.selectFrom('attestation_types').selectAll().where('org_id', '=', orgId).where('name', '=', name);
    if (version !== undefined) q = q.where('version', '=', version);
    const r = await q.orderBy('version', 'desc').limit(1).executeTakeFirst();
    return r && toType(r);
  }

  async attestationTypes(orgId: number) {
    const rows = await this.db.selectFrom('attestation_types').selectAll().where('org_id', '=', orgId).orderBy('name').orderBy('version').execute();
    return rows.map(toType);
  }

  async flowById(id: number) {
    const r = await this.db.selectFrom('flows').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toFlow(r);
  }

  async flows(orgId: number, cursor: string | null, limit: number, includeArchived: boolean) {
    let q = this.db.selectFrom('flows').selectAll().where('org_id', '=', orgId).where('id', '>', afterId(cursor));
    if (!includeArchived) q = q.where('archived_at', 'is', null);
    return page((await q.orderBy('id').limit(limit + 1).execute()).map(toFlow), limit);
  }

  trail(flowId: number, name: string) {
    return new SqlRecordWriter(this.db).trail(flowId, name);
  }

  /** The flow, and its trail when it exists, in one query (the hot path of every attestation). */
  async flowAndTrail(orgId: number, flowName: string, trailName: string) {
    const row = await this.db
      .selectFrom('flows')
      .leftJoin('trails', (join) => join.onRef('trails.flow_id', '=', 'flows.id').on('trails.name', '=', trailName))
      .selectAll('flows')
      .select([
        'trails.id as t_id', 'trails.name as t_name', 'trails.description as t_description', 'trails.git_commit as t_git_commit',
        'trails.commit_url as t_commit_url', 'trails.origin_url as t_origin_url', 'trails.user_data as t_user_data',
        'trails.template as t_template', 'trails.created_at as t_created_at', 'trails.entry_index as t_entry_index',
      ])
      .where('flows.org_id', '=', orgId)
      .where('flows.name', '=', flowName)
      .executeTakeFirst();
    if (!row) return { flow: undefined, trail: undefined };
    const flow = toFlow(row);
    const trail = row.t_id === null ? undefined : toTrail({
      id: row.t_id, org_id: orgId, flow_id: flow.id, name: row.t_name!, description: row.t_description!, git_commit: row.t_git_commit,
      commit_url: row.t_commit_url, origin_url: row.t_origin_url, user_data: row.t_user_data, template: row.t_template,
      created_at: row.t_created_at!, entry_index: row.t_entry_index!,
    });
    return { flow, trail };
  }

  async trailById(id: number) {
    const r = await this.db.selectFrom('trails').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toTrail(r);
  }

  async trails(flowId: number, cursor: string | null, limit: number) {
    const rows = await this.db.selectFrom('trails').selectAll().where('flow_id', '=', flowId).where('id', '>', afterId(cursor)).orderBy('id').limit(limit + 1).execute();
    return page(rows.map(toTrail), limit);
  }

  async latestReports(orgId: number, fingerprints: readonly string[]) {
    const out = new Map<string, { artifact: ArtifactRecord; flow: string }>();
    const unique = [...new Set(fingerprints)];
    for (let i = 0; i < unique.length; i += 1000) {
      const rows = await this.db.selectFrom('artifacts').innerJoin('flows', 'flows.id', 'artifacts.flow_id')
        .selectAll('artifacts').select('flows.name as flow_name')
        .where('artifacts.org_id', '=', orgId).where('artifacts.fingerprint', 'in', unique.slice(i, i + 1000))
        .orderBy('artifacts.id').execute();
      // Ascending ids: the last row seen for a fingerprint is its latest report.
      for (const r of rows) out.set(r.fingerprint, { artifact: toArtifact(r), flow: r.flow_name });
    }
    return out;
  }

  async reportsBetween(orgId: number, from: number, to: number) {
    // By artifacts_entry (0026): O(reports in the range).
    const rows = await this.db.selectFrom('artifacts').innerJoin('flows', 'flows.id', 'artifacts.flow_id')
      .select(['artifacts.entry_index', 'artifacts.fingerprint', 'artifacts.git_commit', 'artifacts.commit_time', 'flows.name as flow_name'])
      .where('artifacts.org_id', '=', orgId).where('artifacts.entry_index', '>=', from).where('artifacts.entry_index', '<', to)
      .orderBy('artifacts.entry_index').orderBy('artifacts.id').execute();
    return rows.map((r) => ({ entryIndex: Number(r.entry_index), fingerprint: r.fingerprint, flow: r.flow_name, gitCommit: r.git_commit, commitTime: r.commit_time ?? null }));
  }

  async artifactsByFingerprint(orgId: number, fingerprint: string) {
    const rows = await this.db.selectFrom('artifacts').selectAll().where('org_id', '=', orgId).where('fingerprint', '=', fingerprint).orderBy('id').execute();
    return rows.map(toArtifact);
  }

  async fingerprintsWithPrefix(orgId: number, prefix: string, limit: number) {
    // Range scan on the (org_id, fingerprint) index: prefix <= fp < prefix + 'g' ('g' sorts after every hex digit).
    const rows = await this.db.selectFrom('artifacts').select('fingerprint').distinct()
      .where('org_id', '=', orgId).where('fingerprint', '>=', prefix).where('fingerprint', '<', `${prefix}g`)
      .orderBy('fingerprint').limit(limit).execute();
    return rows.map((r) => r.fingerprint);
  }

  /** By full commit or by a commit prefix (`runner:16d9990`, as in Kosli). */
  async artifactsByCommit(orgId: number, flowId: number, gitCommit: string) {
    const rows = await this.db.selectFrom('artifacts').selectAll().where('org_id', '=', orgId).where('flow_id', '=', flowId)
      .where('git_commit', '>=', gitCommit).where('git_commit', '<', `${gitCommit}g`).orderBy('id').execute();
    return rows.map(toArtifact);
  }

  async artifacts(orgId: number, filter: { flowId?: number; trailId?: number }, cursor: string | null, limit: number) {
    // `+org_id` keeps both planners off the (org_id, …) indexes, which they chose to read every artifact of the
    // org and sort it for one page: the org-wide page walks the primary key from the cursor, a flow's page
    // artifacts_flow_id (0020), a trail's artifacts_trail (issue #21; test/store/query-plans.test.ts).
    let q = this.db.selectFrom('artifacts').selectAll().where(sql<number>`+org_id`, '=', orgId).where('id', '>', afterId(cursor));
    if (filter.flowId !== undefined) q = q.where('flow_id', '=', filter.flowId);
    if (filter.trailId !== undefined) q = q.where('trail_id', '=', filter.trailId);
    return page((await q.orderBy('id').limit(limit + 1).execute()).map(toArtifact), limit);
  }

  /** Artifacts whose fingerprint or git commit starts with `prefix`, newest first. */
  async searchArtifacts(orgId: number, prefix: string, limit: number) {
    const rows = await this.db.selectFrom('artifacts').selectAll().where('org_id', '=', orgId)
      .where((eb) => eb.or([
        eb.and([eb('fingerprint', '>=', prefix), eb('fingerprint', '<', `${prefix}g`)]),
        eb.and([eb('git_commit', '>=', prefix), eb('git_commit', '<', `${prefix}g`)]),
      ]))
      .orderBy('id', 'desc').limit(limit).execute();
    return rows.map(toArtifact);
  }

  async attestationsOfTrail(trailId: number) {
    const rows = await this.db.selectFrom('attestations').selectAll().where('trail_id', '=', trailId).orderBy('id').execute();
    return rows.map(toAttestation);
  }

  async attestationsOfTrailAfter(trailId: number, afterId: number, limit: number) {
    const rows = await this.db.selectFrom('attestations').selectAll().where('trail_id', '=', trailId).where('id', '>', afterId).orderBy('id').limit(limit).execute();
    return rows.map(toAttestation);
  }

  /** Which of `fingerprints` have an attestation of `type` bound to them by fingerprint, in any trail of the org. */
  async fingerprintsAttestedAs(orgId: number, fingerprints: readonly string[], type: string) {
    const out = new Set<string>();
    const unique = [...new Set(fingerprints)];
    for (let i = 0; i < unique.length; i += 1000) {
      const rows = await this.db.selectFrom('attestations').select('artifact_fingerprint').distinct()
        .where('org_id', '=', orgId).where('type', '=', type).where('artifact_fingerprint', 'in', unique.slice(i, i + 1000)).execute();
      for (const r of rows) if (r.artifact_fingerprint !== null) out.add(r.artifact_fingerprint);
    }
    return out;
  }

  async attestedAs(orgId: number, fingerprints: readonly string[], type: string) {
    const out: { fingerprint: string; entryIndex: number }[] = [];
    const unique = [...new Set(fingerprints)];
    for (let i = 0; i < unique.length; i += 1000) {
      const rows = await this.db.selectFrom('attestations').select(['artifact_fingerprint', 'entry_index'])
        .where('org_id', '=', orgId).where('type', '=', type).where('artifact_fingerprint', 'in', unique.slice(i, i + 1000)).execute();
      for (const r of rows) if (r.artifact_fingerprint !== null) out.push({ fingerprint: r.artifact_fingerprint, entryIndex: Number(r.entry_index) });
    }
    return out;
  }

  async attestationsAboutFingerprint(orgId: number, fingerprint: string, excludeTrailId: number, limit: number) {
    const trails = await this.db.selectFrom('attestations').select('trail_id').distinct()
      .where('org_id', '=', orgId).where('artifact_fingerprint', '=', fingerprint).where('trail_id', '!=', excludeTrailId)
      .orderBy('trail_id').limit(limit).execute();
    if (trails.length === 0) return [];
    const rows = await this.db.selectFrom('attestations').selectAll()
      .where('trail_id', 'in', trails.map((t) => t.trail_id))
      .where((eb) => eb.or([eb('artifact_fingerprint', '=', fingerprint), eb.and([eb('artifact_fingerprint', 'is', null), eb('artifact_name', 'is', null)])]))
      .orderBy('id').execute();
    return rows.map(toAttestation);
  }

  async attestationsOfArtifact(a: ArtifactRecord) {
    const rows = await this.db.selectFrom('attestations').selectAll()
      .where('trail_id', '=', a.trailId)
      .where((eb) => eb.or([eb('artifact_fingerprint', '=', a.fingerprint), eb('artifact_name', '=', a.name)]))
      .orderBy('id').execute();
    return rows.map(toAttestation);
  }
}
