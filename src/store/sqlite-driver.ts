import {
  CompiledQuery, SelectQueryNode, SqliteDialect, type DatabaseConnection, type Driver, type QueryResult, type SqliteDatabase,
} from 'kysely';

// SQLite through better-sqlite3, with two changes to Kysely's own driver (kysely/dist/esm/dialect/sqlite):
// - The writer's connection is handed to waiters in arrival order. Kysely's mutex wakes every waiter on each
//   release and all but one go back to sleep: with thousands of concurrent callers each release cost O(n)
//   (CPU per trivial read rose 30x from 1 to 4,000 callers; performance report 2026-12-06).
// - Reads can go to a second, read-only connection with no lock at all. better-sqlite3 runs a statement to
//   completion synchronously, so a single-statement read needs no mutual exclusion; in WAL mode it sees every
//   committed write, and it never waits for a write transaction that is between two of its statements.

/** A FIFO lock: release() passes the lock straight to the oldest waiter. */
class FairLock {
  private held = false;
  private readonly waiters: (() => void)[] = [];

  acquire(): Promise<void> {
    if (!this.held) {
      this.held = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.held = false;
  }
}

class SqliteConnection implements DatabaseConnection {
  constructor(private readonly db: SqliteDatabase) {}

  executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const statement = this.db.prepare(compiled.sql);
    const parameters = compiled.parameters as unknown[];
    if (statement.reader) return Promise.resolve({ rows: statement.all(parameters) as R[] });
    const { changes, lastInsertRowid } = statement.run(parameters);
    return Promise.resolve({
      numAffectedRows: changes === undefined || changes === null ? undefined : BigInt(changes),
      insertId: lastInsertRowid === undefined || lastInsertRowid === null ? undefined : BigInt(lastInsertRowid),
      rows: [],
    });
  }

  async *streamQuery<R>(compiled: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    if (!SelectQueryNode.is(compiled.query)) throw new Error('SQLite streams only select queries');
    for (const row of this.db.prepare(compiled.sql).iterate(compiled.parameters as unknown[])) yield { rows: [row as R] };
  }
}

class FairSqliteDriver implements Driver {
  private readonly lock = new FairLock();
  private readonly connection: SqliteConnection;

  /** `readOnly`: statements one at a time with no lock, and no transactions. */
  constructor(private readonly db: SqliteDatabase, private readonly readOnly: boolean) {
    this.connection = new SqliteConnection(db);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    if (!this.readOnly) await this.lock.acquire();
    return this.connection;
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    if (this.readOnly) throw new Error('the read-only SQLite connection takes no transactions');
    await connection.executeQuery(CompiledQuery.raw('begin'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async releaseConnection(): Promise<void> {
    if (!this.readOnly) this.lock.release();
  }

  async destroy(): Promise<void> {
    this.db.close();
  }
}

/** Kysely's SQLite dialect (compiler, adapter, introspector) over the driver above. */
export class FairSqliteDialect extends SqliteDialect {
  constructor(private readonly db: SqliteDatabase, private readonly readOnly = false) {
    super({ database: db });
  }

  override createDriver(): Driver {
    return new FairSqliteDriver(this.db, this.readOnly);
  }
}
