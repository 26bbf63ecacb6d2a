import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { ArtifactPlaces, ArtifactRecord, AttestationRecord, FlowRecord, TrailRecord } from './types.js';
import { toArtifact, toAttestation, toFlow, toTrail } from './record-rows.js';

// Reads over many flows, trails or fingerprints at once, so a page of `list flows` or the hits of `search`
// cost a fixed number of queries whatever their count (no query per flow). Lists are cut into chunks to
// stay under the engines' limits on bound parameters.

const CHUNK = 500;

function chunks<T>(list: readonly T[]): T[][] {
  const unique = [...new Set(list)];
  const out: T[][] = [];
  for (let i = 0; i < unique.length; i += CHUNK) out.push(unique.slice(i, i + CHUNK));
  return out;
}

export async function flowsByName(db: Kysely<Database>, orgId: number, names: readonly string[]): Promise<FlowRecord[]> {
  const out: FlowRecord[] = [];
  for (const part of chunks(names)) {
    const rows = await db.selectFrom('flows').selectAll().where('org_id', '=', orgId).where('name', 'in', part).orderBy('id').execute();
    out.push(...rows.map(toFlow));
  }
  return out;
}

/** The names of these trails and of their flows, by trail id, in one query per chunk (a page of artifacts). */
export async function trailNames(db: Kysely<Database>, trailIds: readonly number[]): Promise<Map<number, { flow: string; trail: string }>> {
  const out = new Map<number, { flow: string; trail: string }>();
  for (const part of chunks(trailIds)) {
    const rows = await db.selectFrom('trails').innerJoin('flows', 'flows.id', 'trails.flow_id')
      .select(['trails.id', 'trails.name as trail', 'flows.name as flow']).where('trails.id', 'in', part).execute();
    for (const r of rows) out.set(r.id, { flow: r.flow, trail: r.trail });
  }
  return out;
}

/**
 * The last-begun trail of each flow (the highest id: ids grow in log order). One descent of trails_flow
 * (flow_id, id; 0018) per flow, O(flows · log n): the GROUP BY max(id) it replaces read every trail of the
 * flows on both engines (issue #21). The descent asks for the greatest (flow_id, id) at or below the flow,
 * an order only trails_flow has: with `flow_id = ?` and `ORDER BY id DESC` PostgreSQL may walk the primary
 * key backwards instead, filtering (a flow idle for a year: every trail since). For a flow without trails
 * that finds another flow's trail, dropped here.
 */
export async function latestTrails(db: Kysely<Database>, flowIds: readonly number[]): Promise<Map<number, TrailRecord>> {
  const out = new Map<number, TrailRecord>();
  for (const part of chunks(flowIds)) {
    const wanted = new Set(part);
    const rows = await db.selectFrom('trails').selectAll()
      .where('id', 'in', (eb) => eb.selectFrom('flows as f').where('f.id', 'in', part)
        .select((e) => e.selectFrom('trails as t').select('t.id').whereRef('t.flow_id', '<=', 'f.id').orderBy('t.flow_id', 'desc').orderBy('t.id', 'desc').limit(1).as('latest')))
      .execute();
    for (const r of rows) if (wanted.has(r.flow_id)) out.set(r.flow_id, toTrail(r));
  }
  return out;
}

export async function contentsOfTrails(db: Kysely<Database>, trailIds: readonly number[]): Promise<{ artifacts: ArtifactRecord[]; attestations: AttestationRecord[] }> {
  const artifacts: ArtifactRecord[] = [];
  const attestations: AttestationRecord[] = [];
  for (const part of chunks(trailIds)) {
    const [a, t] = await Promise.all([
      db.selectFrom('artifacts').selectAll().where('trail_id', 'in', part).orderBy('id').execute(),
      db.selectFrom('attestations').selectAll().where('trail_id', 'in', part).orderBy('id').execute(),
    ]);
    artifacts.push(...a.map(toArtifact));
    attestations.push(...t.map(toAttestation));
  }
  return { artifacts, attestations };
}

/** Fingerprints per query of their last appearance in each environment (one column each). */
const PLACES_CHUNK = 50;

/**
 * Where each fingerprint runs now and where it stopped (`search`). O(environments · fingerprints · log n),
 * whatever the length of the environments' histories (issue #21): each maximum is one descent of an index
 * ((env_id, idx) of snapshots, (org_id, fingerprint, env_id, idx) of snapshot_artifacts), and the rows of the
 * latest snapshots are point lookups. (A GROUP BY max read every snapshot of every environment, and every
 * appearance of each fingerprint: a year of snapshots of a long-running image.)
 */
export async function placesOf(db: Kysely<Database>, orgId: number, fingerprints: readonly string[]): Promise<Map<string, ArtifactPlaces>> {
  const out = new Map<string, ArtifactPlaces>(fingerprints.map((f) => [f, { running: [], exited: [] }]));
  if (fingerprints.length === 0) return out;
  const envs = await db.selectFrom('environments as e')
    .select((eb) => ['e.id', 'e.name', eb.selectFrom('snapshots as s').select((x) => x.fn.max('s.idx').as('m')).whereRef('s.env_id', '=', 'e.id').as('latest')])
    .where('e.org_id', '=', orgId).execute();
  const envById = new Map(envs.map((e) => [e.id, { name: e.name, latest: Number(e.latest ?? 0) }]));
  const wanted: { envId: number; idx: number }[] = [];
  const running: { fp: string; envId: number; latest: number; since: number; instances: number }[] = [];
  const exited: { fp: string; envId: number; idx: number }[] = [];
  const unique = [...new Set(fingerprints)];
  for (let i = 0; i < unique.length; i += PLACES_CHUNK) {
    const part = unique.slice(i, i + PLACES_CHUNK);
    // One row per environment, one column per fingerprint: its last snapshot there (null: never ran there).
    const last = await db.selectFrom('environments as e').select((eb) => ['e.id', ...part.map((fp, j) => eb.selectFrom('snapshot_artifacts as sa')
      .select((x) => x.fn.max('sa.idx').as('m')).where('sa.org_id', '=', orgId).where('sa.fingerprint', '=', fp).whereRef('sa.env_id', '=', 'e.id').as(`f${j}`))])
      .where('e.org_id', '=', orgId).execute();
    const runs: { fp: string; envId: number }[] = [];
    for (const r of last as unknown as Record<string, number | string | null>[]) {
      const envId = Number(r.id);
      const env = envById.get(envId)!;
      part.forEach((fp, j) => {
        const at = r[`f${j}`];
        if (at === null || at === undefined) return;
        if (Number(at) < env.latest) {
          exited.push({ fp, envId, idx: Number(at) + 1 });
          wanted.push({ envId, idx: Number(at) + 1 });
        } else runs.push({ fp, envId });
      });
    }
    if (runs.length === 0) continue;
    // Rows of each environment's latest snapshot: what runs now, and since when (point lookups of the index).
    const rows = await db.selectFrom('snapshot_artifacts').select(['fingerprint', 'env_id', 'idx', 'since_idx', 'instances'])
      .where('org_id', '=', orgId).where('fingerprint', 'in', [...new Set(runs.map((x) => x.fp))])
      .where('env_id', 'in', [...new Set(runs.map((x) => x.envId))])
      .where('idx', 'in', [...new Set(runs.map((x) => envById.get(x.envId)!.latest))]).execute();
    for (const r of rows) {
      if (r.idx !== envById.get(r.env_id)!.latest) continue;
      running.push({ fp: r.fingerprint, envId: r.env_id, latest: r.idx, since: r.since_idx, instances: r.instances });
      wanted.push({ envId: r.env_id, idx: r.since_idx });
    }
  }
  const times = await snapshotTimes(db, orgId, wanted);
  const time = (envId: number, idx: number) => times.get(`${envId}#${idx}`) ?? '';
  for (const r of running) {
    out.get(r.fp)!.running.push({ environment: envById.get(r.envId)!.name, snapshot: r.latest, since: r.since, sinceAt: time(r.envId, r.since), instances: r.instances });
  }
  for (const r of exited) out.get(r.fp)!.exited.push({ environment: envById.get(r.envId)!.name, snapshot: r.idx, at: time(r.envId, r.idx) });
  for (const places of out.values()) {
    places.running.sort((a, b) => a.environment.localeCompare(b.environment));
    places.exited.sort((a, b) => a.environment.localeCompare(b.environment));
  }
  return out;
}

async function snapshotTimes(db: Kysely<Database>, orgId: number, wanted: { envId: number; idx: number }[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const envIds = [...new Set(wanted.map((w) => w.envId))];
  const idxs = [...new Set(wanted.map((w) => w.idx))];
  for (const envPart of chunks(envIds)) {
    for (const idxPart of chunks(idxs)) {
      const rows = await db.selectFrom('snapshots').select(['env_id', 'idx', 'created_at'])
        .where('org_id', '=', orgId).where('env_id', 'in', envPart).where('idx', 'in', idxPart).execute();
      for (const r of rows) out.set(`${r.env_id}#${r.idx}`, r.created_at);
    }
  }
  return out;
}
