import { sql, type Kysely } from 'kysely';
import type { Database, Engine } from './schema.js';

// Both planners choose join orders from table statistics, and neither is given any unless someone asks:
// SQLite never analyses on its own, and PostgreSQL's autovacuum may be off (it is off on these machines). Without
// them SQLite planned `list flows` as a nested scan (quadratic) and PostgreSQL's trail page slowed 7x at 1M
// entries (performance report 2026-12-06). So the store keeps them fresh itself: when it opens, and in the
// background after FIRST_CHECK entries it appended, then at intervals doubling up to APPENDS_BETWEEN_CHECKS.

const APPENDS_BETWEEN_CHECKS = 10_000;
// A young table changes by a large share in a few hundred appends: PostgreSQL planned `hidx = ANY(...)` as a
// scan of every hash row of the org (index on org_id, the list as a filter) from statistics taken when the
// table was nearly empty, 2 ms a read at 6,000 rows and growing. Checks start after FIRST_CHECK appends and
// the interval doubles up to APPENDS_BETWEEN_CHECKS, as autovacuum's 10 % rule would.
const FIRST_CHECK = 256;
/** Rows examined per index by SQLite's ANALYZE: approximate statistics in milliseconds at any size. */
const SQLITE_ANALYSIS_LIMIT = 1000;

export class StatisticsKeeper {
  private appended = 0;
  private running: Promise<void> | null = null;
  /** Appends before the next check: doubles from FIRST_CHECK up to `every`. */
  private next: number;

  constructor(private readonly engine: Engine, private readonly db: Kysely<Database>, private readonly every = APPENDS_BETWEEN_CHECKS) {
    this.next = Math.min(every, FIRST_CHECK);
  }

  /** Analyses what needs it now: tables never analysed, or changed much since their last analysis. */
  async refresh(): Promise<void> {
    if (this.engine === 'sqlite') {
      await sql.raw(`PRAGMA analysis_limit = ${SQLITE_ANALYSIS_LIMIT}`).execute(this.db);
      // 0x10002: look at every table, not only those this connection queried (SQLite docs, PRAGMA optimize).
      await sql.raw('PRAGMA optimize = 0x10002').execute(this.db);
      return;
    }
    // The rule autovacuum would apply (50 rows + 10 % of the table changed since the last ANALYZE).
    const { rows } = await sql<{ relname: string }>`
      SELECT relname FROM pg_stat_user_tables
      WHERE schemaname = current_schema() AND n_mod_since_analyze > 50 + 0.1 * n_live_tup`.execute(this.db);
    for (const { relname } of rows) await sql`ANALYZE ${sql.id(relname)}`.execute(this.db);
  }

  /** Called after each committed append; starts a background refresh at each interval (FIRST_CHECK, doubling to `every`). */
  noteAppended(count: number): void {
    this.appended += count;
    if (this.appended < this.next || this.running) return;
    this.appended = 0;
    this.next = Math.min(this.every, this.next * 2);
    this.running = this.refresh()
      // Statistics are an optimisation: a failure (a closing pool, a lock timeout) must not fail a write.
      .catch(() => undefined)
      .finally(() => {
        this.running = null;
      });
  }

  /** Waits for a background refresh (close() and tests). */
  async settled(): Promise<void> {
    await this.running;
  }
}
