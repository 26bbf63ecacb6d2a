import type { Kysely, Migration } from 'kysely';
import type { Database } from './schema.js';
import type { TokenRecord } from './types.js';

// Browser sessions of the web UI (migration 0025_web_sessions, docs/web.md "Signing in"). A session stands
// for the API token it was exchanged for: it is only as good as that token (revoked or expired, the session
// stops too). Only the SHA-256 of the session secret is kept, like tokens' secrets. Not records: plain,
// deletable rows (sign-out deletes one; expired ones are swept).

/** A type alias, not an interface: Kysely's withTables() needs an index-signature-compatible shape. */
export type WebSessionTables = {
  web_sessions: { id_hash: string; token_id: string; created_at: string; expires_at: string };
};

export interface WebSessionRecord {
  idHash: string;
  tokenId: string;
  createdAt: string;
  expiresAt: string;
}

export interface WebSessionStore {
  create(row: WebSessionRecord): Promise<void>;
  /** The session and the token it stands for (with the token's org name), or undefined. */
  find(idHash: string): Promise<{ session: WebSessionRecord; token: TokenRecord } | undefined>;
  /** Deletes one session; true when it existed. */
  delete(idHash: string): Promise<boolean>;
  /** Deletes the sessions that expired at or before `now`; returns how many. */
  deleteExpired(now: string): Promise<number>;
  /** Sessions of one token, for bounding them. */
  countForToken(tokenId: string): Promise<number>;
  /** Deletes the oldest sessions of a token beyond the newest `keep`. */
  trimForToken(tokenId: string, keep: number): Promise<void>;
}

export class SqlWebSessionStore implements WebSessionStore {
  constructor(private readonly db: Kysely<Database>, private readonly readDb: Kysely<Database>) {}

  private t(db: Kysely<Database> = this.db) {
    return db.withTables<WebSessionTables>();
  }

  async create(row: WebSessionRecord): Promise<void> {
    await this.t().insertInto('web_sessions').values({ id_hash: row.idHash, token_id: row.tokenId, created_at: row.createdAt, expires_at: row.expiresAt }).execute();
  }

  async find(idHash: string): Promise<{ session: WebSessionRecord; token: TokenRecord } | undefined> {
    const row = await this.t(this.readDb)
      .selectFrom('web_sessions')
      .innerJoin('tokens', 'tokens.id', 'web_sessions.token_id')
      .innerJoin('orgs', 'orgs.id', 'tokens.org_id')
      .select([
        'web_sessions.id_hash', 'web_sessions.token_id', 'web_sessions.created_at as session_created_at', 'web_sessions.expires_at as session_expires_at',
        'tokens.org_id', 'orgs.name as org_name', 'tokens.name', 'tokens.role', 'tokens.created_at', 'tokens.created_by', 'tokens.expires_at', 'tokens.revoked_at',
      ])
      .where('web_sessions.id_hash', '=', idHash)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      session: { idHash: row.id_hash, tokenId: row.token_id, createdAt: row.session_created_at, expiresAt: row.session_expires_at },
      token: {
        id: row.token_id, orgId: row.org_id, orgName: row.org_name, name: row.name, role: row.role,
        createdAt: row.created_at, createdBy: row.created_by, expiresAt: row.expires_at, revokedAt: row.revoked_at,
      },
    };
  }

  async delete(idHash: string): Promise<boolean> {
    const res = await this.t().deleteFrom('web_sessions').where('id_hash', '=', idHash).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async deleteExpired(now: string): Promise<number> {
    const res = await this.t().deleteFrom('web_sessions').where('expires_at', '<=', now).executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  async countForToken(tokenId: string): Promise<number> {
    const row = await this.t().selectFrom('web_sessions').select((eb) => eb.fn.countAll<number>().as('n')).where('token_id', '=', tokenId).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async trimForToken(tokenId: string, keep: number): Promise<void> {
    const keepers = this.t().selectFrom('web_sessions').select('id_hash').where('token_id', '=', tokenId).orderBy('created_at', 'desc').orderBy('id_hash').limit(keep);
    await this.t().deleteFrom('web_sessions').where('token_id', '=', tokenId).where('id_hash', 'not in', keepers).execute();
  }
}

/** Migration 0025_web_sessions. */
export function webSessionsMigration(): Migration {
  return {
    async up(db) {
      await db.schema
        .createTable('web_sessions')
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('token_id', 'text', (c) => c.notNull().references('tokens.id'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('web_sessions_token').on('web_sessions').columns(['token_id', 'created_at']).execute();
      await db.schema.createIndex('web_sessions_expiry').on('web_sessions').columns(['expires_at']).execute();
    },
  };
}
