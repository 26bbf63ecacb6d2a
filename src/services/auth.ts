import { hash as oneShotHash, randomBytes } from 'node:crypto';
import { EvidentError, checkName, checkRole, type Role } from '../core/index.js';
import type { OrgRecord, Page, Store, TokenRecord } from '../store/index.js';
import { systemClock, type Clock } from './clock.js';

/** Who is calling: the token's org and role. */
export interface Principal {
  tokenId: string;
  tokenName: string;
  org: OrgRecord;
  role: Role;
  /** When the token stops working (null: never; absent: not a token, e.g. insecure-local). */
  tokenExpiresAt?: string | null;
}

export type Action = 'read' | 'write' | 'admin';

/** Which roles may do what (DESIGN.md §7). `reporter` is for pipelines and environment reporters. */
const ALLOWED: Record<Action, readonly Role[]> = {
  read: ['admin', 'member', 'reporter', 'reader'],
  write: ['admin', 'member', 'reporter'],
  admin: ['admin'],
};

export function authorize(principal: Principal, action: Action, orgName?: string): void {
  if (orgName !== undefined && orgName !== principal.org.name) {
    // The same answer whether or not that org exists: a token never learns about another org.
    throw new EvidentError('FORBIDDEN', `this token cannot access organisation ${JSON.stringify(orgName)}`);
  }
  if (!ALLOWED[action].includes(principal.role)) {
    throw new EvidentError('FORBIDDEN', `role ${principal.role} may not ${action}; needs ${ALLOWED[action].join(' or ')}`);
  }
}

export interface IssuedToken {
  token: TokenRecord;
  /** The secret, shown once and never stored. */
  secret: string;
}

const PREFIX = 'evd_';

/** SHA-256 of the secret, hex. One-shot (Node >= 20.12): once per request, no Hash object to make. */
export function hashSecret(secret: string): string {
  return oneShotHash('sha256', secret, 'hex');
}

/** Tokens and organisations. Secrets are random, shown once, and stored only as SHA-256. */
/** How long a known token is trusted without reading it again (see AuthService.lookup). */
export const TOKEN_CACHE_MS = 1000;

export class AuthService {
  private readonly tokenCache = new Map<string, { token: TokenRecord; until: number }>();
  /** Reads of the tokens table in flight, by secret hash: callers that miss the cache together share one. */
  private readonly reading = new Map<string, Promise<TokenRecord | undefined>>();
  /** Bumped by revoke(): a read that began before a revocation does not fill the cache with what it read. */
  private revocations = 0;

  constructor(private readonly store: Store, private readonly clock: Clock = systemClock) {}

  async org(name: string): Promise<OrgRecord> {
    const org = await this.store.orgs.get(checkName('organisation', name));
    if (!org) throw new EvidentError('NOT_FOUND', `organisation ${JSON.stringify(name)} does not exist`);
    return org;
  }

  async ensureOrg(name: string): Promise<{ org: OrgRecord; created: boolean }> {
    checkName('organisation', name);
    const existing = await this.store.orgs.get(name);
    if (existing) return { org: existing, created: false };
    try {
      return { org: await this.store.orgs.create(name, this.clock.now().toISOString()), created: true };
    } catch (err) {
      const raced = await this.store.orgs.get(name);
      if (raced) return { org: raced, created: false };
      throw err;
    }
  }

  async hasOrgs(): Promise<boolean> {
    return (await this.store.orgs.list()).length > 0;
  }

  async issue(org: OrgRecord, input: { name: string; role: string; expiresAt?: string | null; createdBy?: string | null }): Promise<IssuedToken> {
    const role = checkRole(input.role);
    const name = input.name.trim();
    if (name.length === 0 || name.length > 100) throw new EvidentError('INVALID_ARGUMENT', 'token name must be 1-100 characters', { details: [{ path: 'name', message: 'length' }] });
    const now = this.clock.now();
    let expiresAt: string | null = null;
    if (input.expiresAt) {
      const at = new Date(input.expiresAt);
      if (Number.isNaN(at.getTime()) || at <= now) {
        throw new EvidentError('INVALID_ARGUMENT', `expires_at must be a future ISO-8601 time, not ${JSON.stringify(input.expiresAt)}`, { details: [{ path: 'expires_at', message: 'not a future time' }] });
      }
      expiresAt = at.toISOString();
    }
    const secret = PREFIX + randomBytes(32).toString('base64url');
    const token = await this.store.tokens.create({
      id: 'tok_' + randomBytes(8).toString('hex'),
      orgId: org.id,
      name,
      role,
      secretHash: hashSecret(secret),
      createdAt: now.toISOString(),
      createdBy: input.createdBy ?? null,
      expiresAt,
    });
    return { token, secret };
  }

  async authenticate(secret: string | undefined): Promise<Principal> {
    if (!secret) throw new EvidentError('UNAUTHENTICATED', 'an API token is required (Authorization: Bearer <token>)');
    const hash = secret.startsWith(PREFIX) ? hashSecret(secret) : undefined;
    const token = hash === undefined ? undefined : await this.lookup(hash);
    if (!token) throw new EvidentError('UNAUTHENTICATED', 'unknown API token');
    return this.principalOf(token);
  }

  /** The caller a token makes, if it is neither revoked nor expired (also for web sessions, which stand for one). */
  principalOf(token: TokenRecord): Principal {
    if (token.revokedAt) throw new EvidentError('UNAUTHENTICATED', 'this API token was revoked');
    if (token.expiresAt && new Date(token.expiresAt) <= this.clock.now()) throw new EvidentError('UNAUTHENTICATED', 'this API token has expired');
    return {
      tokenId: token.id,
      tokenName: token.name,
      role: checkRole(token.role),
      org: { id: token.orgId, name: token.orgName, createdAt: '' },
      tokenExpiresAt: token.expiresAt,
    };
  }

  /**
   * Known tokens are remembered for TOKEN_CACHE_MS: a database read per request was a fifth of the cost of
   * an append over HTTP. Revocation here clears the entry at once; one made by another server process
   * takes effect within TOKEN_CACHE_MS. Expiry is checked on every request. Callers that miss together
   * share one read (issue #21: when the entry lapsed under load, each of ~50 requests in flight read the
   * table, ~50 reads a second, a tenth of the server's CPU); a read that starts after a revocation here sees it.
   */
  private lookup(hash: string): Promise<TokenRecord | undefined> {
    const now = Date.now();
    const cached = this.tokenCache.get(hash);
    if (cached && cached.until > now) return Promise.resolve(cached.token);
    let read = this.reading.get(hash);
    if (!read) {
      const revocations = this.revocations;
      read = this.store.tokens.findBySecretHash(hash).then((token) => {
        if (token && !token.revokedAt && revocations === this.revocations) {
          if (this.tokenCache.size >= 10_000) this.tokenCache.clear();
          this.tokenCache.set(hash, { token, until: now + TOKEN_CACHE_MS });
        }
        return token;
      }).finally(() => {
        if (this.reading.get(hash) === read) this.reading.delete(hash);
      });
      this.reading.set(hash, read);
    }
    return read;
  }

  list(org: OrgRecord, cursor: string | null, limit: number): Promise<Page<TokenRecord>> {
    return this.store.tokens.list(org.id, cursor, limit);
  }

  async revoke(org: OrgRecord, id: string): Promise<TokenRecord> {
    const token = await this.store.tokens.revoke(org.id, id, this.clock.now().toISOString());
    if (!token) throw new EvidentError('NOT_FOUND', `no token ${JSON.stringify(id)} in organisation ${org.name}`);
    for (const [hash, entry] of this.tokenCache) if (entry.token.id === id) this.tokenCache.delete(hash);
    // Reads in flight began before the revocation: later callers read again, and they fill no cache.
    this.revocations++;
    this.reading.clear();
    return token;
  }
}
