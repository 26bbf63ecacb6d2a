import type { ColumnDefinitionBuilder, Kysely, Migration, Selectable, Transaction } from 'kysely';
import { addAppendOnlyTriggers } from './append-only.js';
import type { AllowancesTable, Database, Engine, PoliciesTable, PolicyAttachmentsTable } from './schema.js';
import { toArtifact, toAttestation, toFlow, toTrail } from './record-rows.js';
import type {
  AllowanceRecord, ArtifactRecord, AttestationRecord, FactSources, FlowRecord, PolicyAttachmentRecord, PolicyReader, PolicyRecord, PolicyWriter, TrailRecord,
} from './types.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Rows per `IN (...)` list: well under both engines' parameter limits. */
const CHUNK = 1000;

/**
 * Migration 0009: environment policies (immutable versions), their attachments to environments and
 * exemptions (`allow artifact`). All three are histories, so the database refuses UPDATE and DELETE:
 * detaching is a new row, not a deleted one.
 */
export function policiesMigration(engine: Engine): Migration {
  const big = engine === 'sqlite' ? 'integer' : 'bigint';
  const id = engine === 'sqlite' ? 'integer' : 'serial';
  const pk = (c: ColumnDefinitionBuilder) => (engine === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey());
  return {
    async up(db) {
      await db.schema.createTable('policies')
        .addColumn('id', id, pk)
        .addColumn('org_id', 'integer', (c) => c.notNull().references('orgs.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('definition', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('entry_index', big, (c) => c.notNull())
        .addUniqueConstraint('policies_version', ['org_id', 'name', 'version'])
        .execute();
      await db.schema.createTable('policy_attachments')
        .addColumn('id', id, pk)
        .addColumn('org_id', 'integer', (c) => c.notNull().references('orgs.id'))
        .addColumn('env_id', 'integer', (c) => c.notNull())
        .addColumn('policy_name', 'text', (c) => c.notNull())
        .addColumn('policy_version', 'integer')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('snapshot_idx', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('entry_index', big, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('policy_attachments_env').on('policy_attachments').columns(['env_id', 'id']).execute();
      await db.schema.createTable('allowances')
        .addColumn('id', id, pk)
        .addColumn('org_id', 'integer', (c) => c.notNull().references('orgs.id'))
        .addColumn('env_id', 'integer', (c) => c.notNull())
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('entry_index', big, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('allowances_env').on('allowances').columns(['env_id', 'fingerprint']).execute();
      await addAppendOnlyTriggers(db, engine, ['policies', 'policy_attachments', 'allowances']);
    },
  };
}

function toPolicy(r: Selectable<PoliciesTable>): PolicyRecord {
  return {
    id: r.id, orgId: r.org_id, name: r.name, version: r.version, description: r.description, definition: JSON.parse(r.definition) as unknown,
    source: r.source, digest: r.digest, createdAt: r.created_at, entryIndex: Number(r.entry_index),
  };
}

function toAttachment(r: Selectable<PolicyAttachmentsTable>): PolicyAttachmentRecord {
  return {
    envId: r.env_id, policyName: r.policy_name, policyVersion: r.policy_version, action: r.action as 'attach' | 'detach', snapshotIndex: r.snapshot_idx,
    createdAt: r.created_at, entryIndex: Number(r.entry_index),
  };
}

function toAllowance(r: Selectable<AllowancesTable>): AllowanceRecord {
  return { envId: r.env_id, fingerprint: r.fingerprint, reason: r.reason, createdBy: r.created_by, createdAt: r.created_at, entryIndex: Number(r.entry_index) };
}

async function latestVersion(db: Db, orgId: number, name: string): Promise<PolicyRecord | undefined> {
  const r = await db.selectFrom('policies').selectAll().where('org_id', '=', orgId).where('name', '=', name).orderBy('version', 'desc').limit(1).executeTakeFirst();
  return r && toPolicy(r);
}

export class SqlPolicyWriter implements PolicyWriter {
  constructor(private readonly tx: Db) {}

  latestPolicy(orgId: number, name: string): Promise<PolicyRecord | undefined> {
    return latestVersion(this.tx, orgId, name);
  }

  async insertPolicy(p: Omit<PolicyRecord, 'id' | 'version'>): Promise<PolicyRecord> {
    const version = ((await latestVersion(this.tx, p.orgId, p.name))?.version ?? 0) + 1;
    const r = await this.tx.insertInto('policies').values({
      org_id: p.orgId, name: p.name, version, description: p.description, definition: JSON.stringify(p.definition), source: p.source, digest: p.digest,
      created_at: p.createdAt, entry_index: p.entryIndex,
    }).returningAll().executeTakeFirstOrThrow();
    return toPolicy(r);
  }

  async insertAttachment(orgId: number, a: PolicyAttachmentRecord): Promise<void> {
    await this.tx.insertInto('policy_attachments').values({
      org_id: orgId, env_id: a.envId, policy_name: a.policyName, policy_version: a.policyVersion, action: a.action, snapshot_idx: a.snapshotIndex,
      created_at: a.createdAt, entry_index: a.entryIndex,
    }).execute();
  }

  attachments(envId: number): Promise<PolicyAttachmentRecord[]> {
    return readAttachments(this.tx, envId);
  }

  async insertAllowance(orgId: number, a: AllowanceRecord): Promise<void> {
    await this.tx.insertInto('allowances').values({
      org_id: orgId, env_id: a.envId, fingerprint: a.fingerprint, reason: a.reason, created_by: a.createdBy, created_at: a.createdAt, entry_index: a.entryIndex,
    }).execute();
  }
}

async function readAttachments(db: Db, envId: number): Promise<PolicyAttachmentRecord[]> {
  const rows = await db.selectFrom('policy_attachments').selectAll().where('env_id', '=', envId).orderBy('id').execute();
  return rows.map(toAttachment);
}

export class SqlPolicyReader implements PolicyReader {
  constructor(private readonly db: Kysely<Database>) {}

  async policy(orgId: number, name: string, version?: number): Promise<PolicyRecord | undefined> {
    if (version === undefined) return latestVersion(this.db, orgId, name);
    const r = await this.db.selectFrom('policies').selectAll().where('org_id', '=', orgId).where('name', '=', name).where('version', '=', version).executeTakeFirst();
    return r && toPolicy(r);
  }

  async policies(orgId: number): Promise<PolicyRecord[]> {
    const rows = await this.db.selectFrom('policies').selectAll().where('org_id', '=', orgId).orderBy('name').orderBy('version').execute();
    return rows.map(toPolicy);
  }

  attachments(envId: number): Promise<PolicyAttachmentRecord[]> {
    return readAttachments(this.db, envId);
  }

  async allowances(envId: number): Promise<AllowanceRecord[]> {
    const rows = await this.db.selectFrom('allowances').selectAll().where('env_id', '=', envId).orderBy('id').execute();
    return rows.map(toAllowance);
  }

  async factSources(orgId: number, fingerprints: readonly string[], flowId?: number): Promise<FactSources> {
    const reports = new Map<string, { artifact: ArtifactRecord; flow: string }>();
    const reported: { artifact: ArtifactRecord; flow: string }[] = [];
    const flows = new Map<number, FlowRecord>();
    const trails = new Map<number, TrailRecord>();
    const attestations = new Map<number, AttestationRecord>();
    const artifacts = new Map<string, { trailId: number; name: string; fingerprint: string; entryIndex: number }>();
    const unique = [...new Set(fingerprints)];
    for (let i = 0; i < unique.length; i += CHUNK) {
      const part = unique.slice(i, i + CHUNK);
      // What reported these fingerprints, as subqueries: the five reads go out together, one round trip.
      let reporting = this.db.selectFrom('artifacts').where('org_id', '=', orgId).where('fingerprint', 'in', part);
      if (flowId !== undefined) reporting = reporting.where('flow_id', '=', flowId);
      const inTrails = reporting.select('trail_id');
      let latest = this.db.selectFrom('artifacts').innerJoin('flows', 'flows.id', 'artifacts.flow_id').selectAll('artifacts').select('flows.name as flow_name')
        .where('artifacts.org_id', '=', orgId).where('artifacts.fingerprint', 'in', part);
      if (flowId !== undefined) latest = latest.where('artifacts.flow_id', '=', flowId);
      const [rows, flowRows, trailRows, attestationRows, artifactRows] = await Promise.all([
        latest.orderBy('artifacts.id').execute(),
        this.db.selectFrom('flows').selectAll().where('id', 'in', reporting.select('flow_id')).execute(),
        this.db.selectFrom('trails').selectAll().where('id', 'in', inTrails).execute(),
        this.db.selectFrom('attestations').selectAll().where('trail_id', 'in', inTrails).execute(),
        this.db.selectFrom('artifacts').select(['trail_id', 'name', 'fingerprint', 'entry_index']).where('trail_id', 'in', inTrails).execute(),
      ]);
      // Ascending ids: the last row seen for a fingerprint is its latest report.
      for (const r of rows) {
        const report = { artifact: toArtifact(r), flow: r.flow_name };
        reports.set(r.fingerprint, report);
        reported.push(report);
      }
      for (const r of flowRows) flows.set(r.id, toFlow(r));
      for (const r of trailRows) trails.set(r.id, toTrail(r));
      for (const r of attestationRows) attestations.set(r.id, toAttestation(r));
      for (const r of artifactRows) {
        const key = `${r.trail_id} ${r.name} ${r.fingerprint}`;
        const entryIndex = Number(r.entry_index);
        if ((artifacts.get(key)?.entryIndex ?? Infinity) > entryIndex) artifacts.set(key, { trailId: r.trail_id, name: r.name, fingerprint: r.fingerprint, entryIndex });
      }
    }
    return {
      reports, reported: reported.sort((a, b) => a.artifact.id - b.artifact.id), flows: [...flows.values()], trails: [...trails.values()],
      attestations: [...attestations.values()].sort((a, b) => a.id - b.id), artifacts: [...artifacts.values()],
    };
  }
}
