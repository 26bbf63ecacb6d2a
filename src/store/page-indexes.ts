import type { Migration } from 'kysely';

// Issue #21: every list and dashboard read is O(page) or O(range), by an index whose order is the read's
// order, so its plan does not depend on the planner's statistics (test/store/query-plans.test.ts checks the
// plans on both engines).

/** 0020: the indexes that make these reads range scans. */
export function pageIndexesMigration(): Migration {
  return {
    async up(db) {
      // DORA: an environment's snapshots in a time window (then their run starts by (env_id, idx)). Snapshot
      // times come from the clock at append, which may step back, so idx order is not assumed to be time order.
      await db.schema.createIndex('snapshots_env_time').on('snapshots').columns(['env_id', 'created_at']).execute();
      // `list artifacts --flow` (oldest first, keyset on id): a page reads a page of the flow's rows. (Not
      // (org_id, id) for the org-wide list: with it both planners chose it for `search` and the fingerprint
      // lookups, to skip a sort, and read every artifact of the org; the org-wide page walks the primary key.)
      await db.schema.createIndex('artifacts_flow_id').on('artifacts').columns(['flow_id', 'id']).execute();
    },
  };
}
