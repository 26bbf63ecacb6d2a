import { sql, type Kysely, type Migration, type Transaction } from 'kysely';
import type { Database } from './schema.js';
import type { Deployment, DeploymentWitness } from './types.js';

// `list flows` shows each flow's last deployment (seed 000: "which of our pipelines last deployed, where and
// when?"). Computed at read time it joined every deployment row of the org with every artifact of the page's
// flows: O(n) at best, and quadratic on SQLite without statistics (performance report 2026-12-06). Kept
// here instead as one row per (flow, environment), moved forward inside the same transaction that appends
// the snapshot or the artifact, so a page costs one indexed read of at most flows × environments rows.

type Db = Kysely<Database> | Transaction<Database>;

const CHUNK = 500;

/** 0018: the table, filled from the snapshots and artifacts already recorded. */
export function flowDeploymentsMigration(): Migration {
  return {
    async up(db) {
      await db.schema
        .createTable('flow_deployments')
        .addColumn('org_id', 'integer', (c) => c.notNull())
        .addColumn('flow_id', 'integer', (c) => c.notNull().references('flows.id'))
        .addColumn('env_id', 'integer', (c) => c.notNull().references('environments.id'))
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('flow_deployments_pk', ['flow_id', 'env_id'])
        .execute();
      // Finding the flows of a fingerprint (snapshot appends) and the fingerprints of a flow.
      await db.schema.createIndex('artifacts_flow_fp').on('artifacts').columns(['flow_id', 'fingerprint']).execute();
      // Each flow's latest trail (max id per flow) without scanning every trail.
      await db.schema.createIndex('trails_flow').on('trails').columns(['flow_id', 'id']).execute();
      await flowDeploymentsBackfill(db);
    },
  };
}

/**
 * Fills the table from the snapshots and artifacts recorded (of one org, or all): driven by the deployment
 * rows and the artifacts' (org, fingerprint) index, so its plan does not hinge on the planner's statistics.
 */
export async function flowDeploymentsBackfill(db: Kysely<unknown>, orgId?: number): Promise<void> {
  const only = orgId === undefined ? sql`` : sql`AND sa.org_id = ${orgId}`;
  await sql`
    INSERT INTO flow_deployments (org_id, flow_id, env_id, idx, created_at)
    SELECT a.org_id, a.flow_id, sa.env_id, MAX(sa.idx), MAX(s.created_at)
    FROM snapshot_artifacts sa
    JOIN artifacts a ON a.org_id = sa.org_id AND a.fingerprint = sa.fingerprint
    JOIN snapshots s ON s.id = sa.snapshot_id
    WHERE sa.since_idx = sa.idx ${only}
    GROUP BY a.org_id, a.flow_id, sa.env_id`.execute(db);
}

interface Start { flowId: number; envId: number; idx: number; at: string }

/** Moves each (flow, environment) row forward to the given start, unless it already holds a later one. */
async function upsert(db: Db, orgId: number, starts: readonly Start[]): Promise<void> {
  for (let i = 0; i < starts.length; i += CHUNK) {
    await db.insertInto('flow_deployments')
      .values(starts.slice(i, i + CHUNK).map((s) => ({ org_id: orgId, flow_id: s.flowId, env_id: s.envId, idx: s.idx, created_at: s.at })))
      .onConflict((oc) => oc.columns(['flow_id', 'env_id'])
        .doUpdateSet({ idx: (eb) => eb.ref('excluded.idx'), created_at: (eb) => eb.ref('excluded.created_at') })
        .where((eb) => eb('excluded.idx', '>', eb.ref('flow_deployments.idx'))))
      .execute();
  }
}

/** A snapshot was appended: the flows of every fingerprint whose run began in it were deployed there. */
export async function recordSnapshotStarts(db: Db, orgId: number, envId: number, idx: number, at: string, started: readonly string[]): Promise<void> {
  const flowIds = new Set<number>();
  const unique = [...new Set(started)];
  for (let i = 0; i < unique.length; i += CHUNK) {
    const rows = await db.selectFrom('artifacts').select('flow_id').distinct()
      .where('org_id', '=', orgId).where('fingerprint', 'in', unique.slice(i, i + CHUNK)).execute();
    for (const r of rows) flowIds.add(r.flow_id);
  }
  await upsert(db, orgId, [...flowIds].map((flowId) => ({ flowId, envId, idx, at })));
}

/** An artifact was reported into a flow: the runs of its fingerprint that began before count for that flow too. */
export async function recordArtifactStarts(db: Db, orgId: number, flowId: number, fingerprint: string): Promise<void> {
  const rows = await db.selectFrom('snapshot_artifacts as sa').innerJoin('snapshots as s', 's.id', 'sa.snapshot_id')
    .select((eb) => ['sa.env_id', eb.fn.max('sa.idx').as('idx'), eb.fn.max('s.created_at').as('at')])
    .where('sa.org_id', '=', orgId).where('sa.fingerprint', '=', fingerprint).whereRef('sa.since_idx', '=', 'sa.idx')
    .groupBy('sa.env_id').execute();
  await upsert(db, orgId, rows.map((r) => ({ flowId, envId: r.env_id, idx: Number(r.idx), at: String(r.at) })));
}

/** Each given flow's latest deployment across environments; flows never deployed are absent. */
export async function lastDeployments(db: Db, orgId: number, flowIds: readonly number[]): Promise<Map<number, Deployment>> {
  const out = new Map<number, Deployment>();
  const unique = [...new Set(flowIds)];
  for (let i = 0; i < unique.length; i += CHUNK) {
    const rows = await db.selectFrom('flow_deployments as d').innerJoin('environments as e', 'e.id', 'd.env_id')
      .select(['d.flow_id', 'd.env_id', 'e.name', 'd.idx', 'd.created_at'])
      .where('d.org_id', '=', orgId).where('d.flow_id', 'in', unique.slice(i, i + CHUNK)).execute();
    for (const r of rows) {
      const best = out.get(r.flow_id);
      // The latest across environments; a tie in time goes to the environment name first in order (stable output).
      if (!best || r.created_at > best.at || (r.created_at === best.at && r.name < best.environment)) {
        out.set(r.flow_id, { environment: r.name, envId: r.env_id, snapshot: r.idx, at: r.created_at });
      }
    }
  }
  return out;
}

/**
 * What a shown deployment rests on (services/records/deployment-check.ts checks it against the entries): the
 * run starts of each deployment's snapshot (the partial index snapshot_artifacts_starts) whose fingerprint
 * was reported into the deployment's flow (artifacts_flow_fp), with the snapshot's entry and the entry of the
 * snapshot before. One query per chunk of deployments: O(page), whatever the size of the log.
 */
export async function deploymentWitnesses(db: Db, orgId: number, deployments: readonly { flowId: number; envId: number; snapshot: number }[]): Promise<DeploymentWitness[]> {
  const out: DeploymentWitness[] = [];
  const wanted = new Set(deployments.map((d) => `${d.flowId}:${d.envId}:${d.snapshot}`));
  for (let i = 0; i < deployments.length; i += CHUNK) {
    const chunk = deployments.slice(i, i + CHUNK);
    const flowIds = [...new Set(chunk.map((d) => d.flowId))];
    // Many flows of a page share a snapshot (one report deploys them all): each snapshot once.
    const snapshots = [...new Map(chunk.map((d) => [`${d.envId}:${d.snapshot}`, d])).values()];
    const rows = await db.selectFrom('snapshot_artifacts as sa')
      .innerJoin('snapshots as s', 's.id', 'sa.snapshot_id')
      .innerJoin('artifacts as a', (j) => j.onRef('a.fingerprint', '=', 'sa.fingerprint').onRef('a.org_id', '=', 'sa.org_id'))
      .leftJoin('snapshots as p', (j) => j.onRef('p.env_id', '=', 'sa.env_id').on('p.idx', '=', sql<number>`sa.idx - 1`))
      .select(['a.flow_id', 'sa.env_id', 'sa.idx', 'sa.fingerprint', 's.entry_index as snapshot_entry', 'a.entry_index as artifact_entry', 'p.entry_index as previous_entry'])
      .where('sa.org_id', '=', orgId)
      .where((eb) => eb.or(snapshots.map((d) => eb.and([eb('sa.env_id', '=', d.envId), eb('sa.idx', '=', d.snapshot)]))))
      .whereRef('sa.since_idx', '=', 'sa.idx')
      .where('a.flow_id', 'in', flowIds)
      .execute();
    for (const r of rows) {
      if (!wanted.has(`${r.flow_id}:${r.env_id}:${r.idx}`)) continue;
      out.push({
        flowId: r.flow_id, envId: r.env_id, snapshot: r.idx, fingerprint: r.fingerprint, snapshotEntry: Number(r.snapshot_entry),
        artifactEntry: Number(r.artifact_entry), previousEntry: r.previous_entry === null ? null : Number(r.previous_entry),
      });
    }
  }
  return out;
}
