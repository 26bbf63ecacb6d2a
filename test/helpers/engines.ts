import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore, type SqlStore } from '../../src/store/index.js';

export const PG_URL = process.env.EVIDENT_TEST_DATABASE_URL;

/** CI sets EVIDENT_REQUIRE_POSTGRES=1 so a missing PostgreSQL fails the run instead of skipping half of it. */
if (!PG_URL && process.env.EVIDENT_REQUIRE_POSTGRES === '1') {
  throw new Error('EVIDENT_REQUIRE_POSTGRES=1 but EVIDENT_TEST_DATABASE_URL is not set');
}

let warned = false;
function warnSkipped(): void {
  if (warned) return;
  warned = true;
  console.warn('\n*** NOTICE: EVIDENT_TEST_DATABASE_URL is unset: the PostgreSQL half of the storage suite is SKIPPED ***\n');
}

export interface EngineUnderTest {
  name: 'sqlite' | 'postgres';
  /** Opens a fresh, empty store; cleanup() removes it. */
  open(): Promise<{ store: SqlStore; dataDir: string; schema?: string; cleanup(): Promise<void> }>;
}

const created: string[] = [];
let cleanupRegistered = false;

/**
 * A fresh directory under the test run's temp dir (test/global-setup.ts; the system temp dir when run
 * without it), removed when the test process ends and, at the latest, when the run ends.
 */
export function tempDir(prefix = 'evident-test-'): string {
  const dir = fs.mkdtempSync(path.join(process.env.EVIDENT_TEST_TMPDIR ?? os.tmpdir(), prefix));
  created.push(dir);
  if (!cleanupRegistered) {
    cleanupRegistered = true;
    process.once('exit', () => {
      for (const d of created) {
        try {
          fs.chmodSync(d, 0o700);
          fs.rmSync(d, { recursive: true, force: true });
        } catch {
          // best effort: a directory a test made unreadable may stay
        }
      }
    });
  }
  return dir;
}

export function freshSchema(): string {
  return `t_${randomBytes(6).toString('hex')}`;
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

const sqlite: EngineUnderTest = {
  name: 'sqlite',
  async open() {
    const dataDir = tempDir();
    const store = await openStore({ dataDir });
    return {
      store, dataDir,
      async cleanup() {
        await store.close();
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  },
};

const postgres: EngineUnderTest = {
  name: 'postgres',
  async open() {
    const schema = freshSchema();
    const dataDir = tempDir();
    const store = await openStore({ databaseUrl: PG_URL!, schema, dataDir });
    return {
      store, dataDir, schema,
      async cleanup() {
        await store.close();
        await dropSchema(schema);
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  },
};

/** The engines the storage suite runs on: always SQLite, and PostgreSQL when a URL is given. */
export function engines(): EngineUnderTest[] {
  if (!PG_URL) {
    warnSkipped();
    return [sqlite];
  }
  return [sqlite, postgres];
}
