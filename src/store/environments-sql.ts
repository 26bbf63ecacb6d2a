import type { Kysely, Selectable, Transaction } from 'kysely';
import { canonicalJson } from '../formats/index.js';
import type { Database, EnvironmentsTable, SnapshotsTable } from './schema.js';
import type {
  Appearance, EnvironmentReader, EnvironmentRecord, EnvironmentWriter, ExpectationRecord, Page, RunningArtifact, RunStart, SnapshotRecord, SnapshotState,
} from './types.js';
import { decodeCursor, encodeCursor, translateDbError } from './cursor.js';
import { EvidentError } from '../core/index.js';
import { recordSnapshotStarts } from './flow-deployments.js';

type Db = Kysely<Database> | Transaction<Database>;

function toEnv(r: Selectable<EnvironmentsTable>): EnvironmentRecord {
  return {
    id: r.id, orgId: r.org_id, name: r.name, type: r.type, description: r.description,
    included: r.included === null ? null : (JSON.parse(r.included) as string[]), includeScaling: r.include_scaling === 1,
    createdAt: r.created_at, archivedAt: r.archived_at, entryIndex: Number(r.entry_index),
  };
}

function toSnapshot(r: Selectable<SnapshotsTable>): SnapshotRecord {
  return { id: r.id, envId: r.env_id, index: r.idx, createdAt: r.created_at, entryIndex: Number(r.entry_index) };
}

/** Snapshots per read of their running sets (bound parameters stay far under the engines' limits). */
const SNAPSHOT_CHUNK = 200;

/** Rows per multi-row INSERT of snapshot artifacts (8 columns: well under the engines' parameter limits). */
const CHUNK = 1000;

export class SqlEnvironmentWriter implements EnvironmentWriter {
  constructor(private readonly tx: Db) {}

  async insertEnvironment(e: Omit<EnvironmentRecord, 'id'>): Promise<EnvironmentRecord> {
    try {
      const r = await this.tx.insertInto('environments').values({
        org_id: e.orgId, name: e.name, type: e.type, description: e.description, included: e.included === null ? null : canonicalJson(e.included),
        include_scaling: e.includeScaling ? 1 : 0, created_at: e.createdAt, archived_at: e.archivedAt, entry_index: e.entryIndex,
      }).returningAll().executeTakeFirstOrThrow();
      return toEnv(r);
    } catch (err) {
      const t = translateDbError(err);
      if (t instanceof EvidentError && t.code === 'CONFLICT') throw new EvidentError('CONFLICT', `environment ${JSON.stringify(e.name)} already exists`);
      throw t;
    }
  }

  async updateEnvironment(envId: number, c: Pick<EnvironmentRecord, 'description' | 'included' | 'includeScaling'>, entryIndex: number): Promise<EnvironmentRecord> {
    const r = await this.tx.updateTable('environments').set({
      description: c.description, included: c.included === null ? null : canonicalJson(c.included), include_scaling: c.includeScaling ? 1 : 0, entry_index: entryIndex,
    }).where('id', '=', envId).returningAll().executeTakeFirstOrThrow();
    return toEnv(r);
  }

  async insertExpectation(orgId: number, envId: number, envName: string, fingerprint: string, description: string, at: string, entryIndex: number): Promise<ExpectationRecord> {
    const last = await this.tx.selectFrom('expectations').select((eb) => eb.fn.max('number').as('n')).where('env_id', '=', envId).executeTakeFirst();
    const number = Number(last?.n ?? 0) + 1;
    await this.tx.insertInto('expectations').values({ org_id: orgId, env_id: envId, number, fingerprint, description, created_at: at, entry_index: entryIndex }).execute();
    return { envName, number, fingerprint, description, createdAt: at, entryIndex };
  }

  async latestState(envId: number): Promise<SnapshotState | undefined> {
    const prev = await this.tx.selectFrom('snapshots').selectAll().where('env_id', '=', envId).orderBy('idx', 'desc').limit(1).executeTakeFirst();
    if (!prev) return undefined;
    return { snapshot: toSnapshot(prev), running: await readRunning(this.tx, prev.id) };
  }

  async insertSnapshot(
    orgId: number, envId: number, artifacts: { fingerprint: string; name: string; instances: number }[], at: string, entryIndex: number, previous: SnapshotState | undefined,
  ): Promise<SnapshotRecord> {
    const idx = (previous?.snapshot.index ?? 0) + 1;
    const since = new Map(previous?.running.map((r) => [r.fingerprint, r.sinceIndex]));
    const snap = await this.tx.insertInto('snapshots').values({ org_id: orgId, env_id: envId, idx, created_at: at, entry_index: entryIndex }).returningAll().executeTakeFirstOrThrow();
    const rows = artifacts.map((a) => ({
      snapshot_id: snap.id, org_id: orgId, env_id: envId, idx, fingerprint: a.fingerprint, name: a.name, instances: a.instances, since_idx: since.get(a.fingerprint) ?? idx,
    }));
    for (let i = 0; i < rows.length; i += CHUNK) await this.tx.insertInto('snapshot_artifacts').values(rows.slice(i, i + CHUNK)).execute();
    await recordSnapshotStarts(this.tx, orgId, envId, idx, at, rows.filter((r) => r.since_idx === idx).map((r) => r.fingerprint));
    return toSnapshot(snap);
  }

  async archiveEnvironment(envId: number, at: string, entryIndex: number): Promise<void> {
    await this.tx.updateTable('environments').set({ archived_at: at, entry_index: entryIndex }).where('id', '=', envId).where('archived_at', 'is', null).execute();
  }
}

/** What ran in a snapshot, by name then fingerprint. */
async function readRunning(db: Db, snapshotId: number): Promise<RunningArtifact[]> {
  const rows = await db.selectFrom('snapshot_artifacts').select(['fingerprint', 'name', 'instances', 'since_idx']).where('snapshot_id', '=', snapshotId).orderBy('name').orderBy('fingerprint').execute();
  return rows.map((r) => ({ fingerprint: r.fingerprint, name: r.name, instances: r.instances, sinceIndex: r.since_idx }));
}

export class SqlEnvironmentReader implements EnvironmentReader {
  constructor(private readonly db: Kysely<Database>) {}

  async environment(orgId: number, name: string) {
    const r = await this.db.selectFrom('environments').selectAll().where('org_id', '=', orgId).where('name', '=', name).executeTakeFirst();
    return r && toEnv(r);
  }

  async environments(orgId: number) {
    return (await this.db.selectFrom('environments').selectAll().where('org_id', '=', orgId).orderBy('name').execute()).map(toEnv);
  }

  async latestSnapshot(envId: number) {
    const r = await this.db.selectFrom('snapshots').selectAll().where('env_id', '=', envId).orderBy('idx', 'desc').limit(1).executeTakeFirst();
    return r && toSnapshot(r);
  }

  async snapshotByIndex(envId: number, index: number) {
    const r = await this.db.selectFrom('snapshots').selectAll().where('env_id', '=', envId).where('idx', '=', index).executeTakeFirst();
    return r && toSnapshot(r);
  }

  async snapshotAt(envId: number, time: string) {
    const r = await this.db.selectFrom('snapshots').selectAll().where('env_id', '=', envId).where('created_at', '<=', time).orderBy('idx', 'desc').limit(1).executeTakeFirst();
    return r && toSnapshot(r);
  }

  async snapshots(envId: number, cursor: string | null, limit: number): Promise<Page<SnapshotRecord>> {
    let q = this.db.selectFrom('snapshots').selectAll().where('env_id', '=', envId);
    if (cursor !== null) q = q.where('idx', '<', Number(decodeCursor(cursor)[0]) || 0);
    const rows = (await q.orderBy('idx', 'desc').limit(limit + 1).execute()).map(toSnapshot);
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? encodeCursor([String(last.index), '']) : null };
  }

  runningIn(snapshotId: number): Promise<RunningArtifact[]> {
    return readRunning(this.db, snapshotId);
  }

  async runningInSnapshots(snapshotIds: readonly number[]): Promise<Map<number, RunningArtifact[]>> {
    const out = new Map<number, RunningArtifact[]>(snapshotIds.map((id) => [id, []]));
    const unique = [...new Set(snapshotIds)];
    for (let i = 0; i < unique.length; i += SNAPSHOT_CHUNK) {
      const rows = await this.db.selectFrom('snapshot_artifacts').select(['snapshot_id', 'fingerprint', 'name', 'instances', 'since_idx'])
        .where('snapshot_id', 'in', unique.slice(i, i + SNAPSHOT_CHUNK)).orderBy('snapshot_id').orderBy('name').orderBy('fingerprint').execute();
      for (const r of rows) out.get(r.snapshot_id)!.push({ fingerprint: r.fingerprint, name: r.name, instances: r.instances, sinceIndex: r.since_idx });
    }
    return out;
  }

  async snapshotTimes(envId: number, indexes: readonly number[]): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    const unique = [...new Set(indexes)];
    for (let i = 0; i < unique.length; i += CHUNK) {
      const rows = await this.db.selectFrom('snapshots').select(['idx', 'created_at']).where('env_id', '=', envId).where('idx', 'in', unique.slice(i, i + CHUNK)).execute();
      for (const r of rows) out.set(r.idx, r.created_at);
    }
    return out;
  }

  async expectations(orgId: number, filter: { fingerprint?: string; envId?: number }): Promise<ExpectationRecord[]> {
    let q = this.db.selectFrom('expectations as x').innerJoin('environments as e', 'e.id', 'x.env_id')
      .select(['e.name as env_name', 'x.number', 'x.fingerprint', 'x.description', 'x.created_at', 'x.entry_index']).where('x.org_id', '=', orgId);
    if (filter.fingerprint !== undefined) q = q.where('x.fingerprint', '=', filter.fingerprint);
    if (filter.envId !== undefined) q = q.where('x.env_id', '=', filter.envId);
    const rows = await q.orderBy('x.created_at').orderBy('x.id').execute();
    return rows.map((r) => ({ envName: r.env_name, number: r.number, fingerprint: r.fingerprint, description: r.description, createdAt: r.created_at, entryIndex: Number(r.entry_index) }));
  }

  async appearances(orgId: number, fingerprint: string): Promise<Appearance[]> {
    const rows = await this.db.selectFrom('snapshot_artifacts as sa')
      .innerJoin('snapshots as s', 's.id', 'sa.snapshot_id')
      .innerJoin('environments as e', 'e.id', 'sa.env_id')
      .select(['e.name as env_name', 'sa.env_id', 'sa.idx', 'sa.instances', 's.created_at', 's.entry_index'])
      .where('sa.org_id', '=', orgId).where('sa.fingerprint', '=', fingerprint)
      .orderBy('sa.env_id').orderBy('sa.idx').execute();
    return rows.map((r) => ({ envName: r.env_name, envId: r.env_id, index: r.idx, instances: r.instances, createdAt: r.created_at, entryIndex: r.entry_index }));
  }

  async runStarts(envId: number, from: string, to: string): Promise<RunStart[]> {
    // O(snapshots in the window + their run starts), by plans no statistics can change (issue #21): the
    // window's snapshots by snapshots_env_time (0020), then the starts in their idx range by the partial index
    // snapshot_artifacts_starts (0013; `since_idx = idx` is its predicate). A clock that stepped back could put
    // a snapshot of another time inside that range: only the window's own snapshots are kept.
    const snaps = await this.db.selectFrom('snapshots').select(['idx', 'created_at', 'entry_index'])
      .where('env_id', '=', envId).where('created_at', '>=', from).where('created_at', '<', to).execute();
    if (snaps.length === 0) return [];
    const byIdx = new Map(snaps.map((s) => [s.idx, s]));
    let lo = Infinity;
    let hi = -Infinity;
    for (const idx of byIdx.keys()) [lo, hi] = [Math.min(lo, idx), Math.max(hi, idx)];
    const rows = await this.db.selectFrom('snapshot_artifacts').select(['idx', 'fingerprint', 'name'])
      .where('env_id', '=', envId).whereRef('since_idx', '=', 'idx').where('idx', '>=', lo).where('idx', '<=', hi)
      .orderBy('idx').orderBy('fingerprint').execute();
    return rows.filter((r) => byIdx.has(r.idx)).map((r) => {
      const s = byIdx.get(r.idx)!;
      return { index: r.idx, createdAt: s.created_at, entryIndex: Number(s.entry_index), fingerprint: r.fingerprint, name: r.name };
    });
  }

  async runStartsAfter(envId: number, after: number, maxSnapshots: number): Promise<{ starts: RunStart[]; through: number }> {
    // By the (env_id, idx) unique key, then the partial index snapshot_artifacts_starts: O(snapshots read + their starts).
    const snaps = await this.db.selectFrom('snapshots').select(['idx', 'created_at', 'entry_index'])
      .where('env_id', '=', envId).where('idx', '>', after).orderBy('idx').limit(maxSnapshots).execute();
    let through = after;
    for (const s of snaps) {
      if (s.idx !== through + 1) break;
      through = s.idx;
    }
    if (through === after) return { starts: [], through };
    const byIdx = new Map(snaps.filter((s) => s.idx <= through).map((s) => [s.idx, s]));
    const rows = await this.db.selectFrom('snapshot_artifacts').select(['idx', 'fingerprint', 'name'])
      .where('env_id', '=', envId).whereRef('since_idx', '=', 'idx').where('idx', '>', after).where('idx', '<=', through)
      .orderBy('idx').orderBy('fingerprint').execute();
    const starts = rows.map((r) => {
      const s = byIdx.get(r.idx)!;
      return { index: r.idx, createdAt: s.created_at, entryIndex: Number(s.entry_index), fingerprint: r.fingerprint, name: r.name };
    });
    return { starts, through };
  }
}
