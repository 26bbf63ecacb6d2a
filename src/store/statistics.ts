import { sql, type Kysely } from 'kysely';
import type { Database, Engine } from './schema.js';

// Both planners choose join orders from table statistics, and neither is given any unless someone asks:
// SQLite never analyses on its own, and PostgreSQL's autovacuum may be off (it is on these machines). Without
// them SQLite planned `list flows` as a nested scan (quadratic) and PostgreSQL's trail page slowed 7x at 1M
// entries (performance report 2026-12-06). So the store keeps them fresh itself: when it opens, and after
// every APPENDS_BETWEEN_CHECKS entries it appended, in the background.

const APPENDS_BETWEEN_CHECKS = 10_000;
/** Rows examined per index by SQLite's ANALYZE: approximate statistics in milliseconds at any size. */
const SQLITE_ANALYSIS_LIMIT = 1000;

export class StatisticsKeeper {
  private appended = 0;
  private running: Promise<void> | null = null;

  constructor(private readonly engine: Engine, private readonly db: Kysely<Database>, private readonly every = APPENDS_BETWEEN_CHECKS) {}

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

  /** Called after each committed append; starts a background refresh every `every` entries. */
  noteAppended(count: number): void {
    this.appended += count;
    if (this.appended < this.every || this.running) return;
    this.appended = 0;
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
