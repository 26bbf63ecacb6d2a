import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { EvidentError } from '../core/index.js';
import type { Store } from '../store/index.js';
import type { AuthService, Principal } from './auth.js';
import { systemClock, type Clock } from './clock.js';

// Web UI sign-in (docs/web.md "Signing in"): an API token is exchanged once for a session whose secret
// travels only in an HttpOnly cookie, so a new tab is signed in without the token being pasted or kept in
// page script. The session stands for that token: it has the token's org and role, and stops when the token
// is revoked or expires. Only the secret's SHA-256 is stored.

const PREFIX = 'evs_';

/** Default session lifetime: a working day. */
export const WEB_SESSION_TTL_MS = 12 * 60 * 60 * 1000;

/** Sessions one token may hold at once; signing in beyond this ends its oldest (so no token can fill the table). */
export const WEB_SESSIONS_PER_TOKEN = 50;

export interface WebSessionInfo {
  principal: Principal;
  expiresAt: string;
  /** The CSRF token the page must echo in X-Evident-CSRF on state-changing requests. */
  csrf: string;
}

export interface StartedWebSession extends WebSessionInfo {
  /** The cookie's value: shown once, never stored. */
  secret: string;
  /** Seconds until it expires (the cookie's Max-Age). */
  maxAgeSecs: number;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * The CSRF token is derived from the session secret (a signed double submit): a page of this origin learns
 * it from GET /api/v1/session; another site can neither read that answer nor compute it from the cookie
 * it cannot see. Nothing more to store.
 */
export function csrfTokenOf(secret: string): string {
  return sha256(`evident-csrf\u0000${secret}`).slice(0, 43);
}

/** True when `presented` is the session's CSRF token (constant time). */
export function csrfMatches(secret: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const want = Buffer.from(csrfTokenOf(secret));
  const got = Buffer.from(presented);
  return got.length === want.length && timingSafeEqual(got, want);
}

export class WebSessionService {
  constructor(
    private readonly store: Store,
    private readonly auth: AuthService,
    private readonly clock: Clock = systemClock,
    readonly ttlMs = WEB_SESSION_TTL_MS,
  ) {}

  /** A new session for an authenticated token; it never outlives the token. */
  async start(principal: Principal): Promise<StartedWebSession> {
    const now = this.clock.now();
    await this.store.webSessions.deleteExpired(now.toISOString());
    if ((await this.store.webSessions.countForToken(principal.tokenId)) >= WEB_SESSIONS_PER_TOKEN) {
      await this.store.webSessions.trimForToken(principal.tokenId, WEB_SESSIONS_PER_TOKEN - 1);
    }
    const secret = PREFIX + randomBytes(32).toString('base64url');
    let expires = new Date(now.getTime() + this.ttlMs);
    if (principal.tokenExpiresAt) {
      const tokenExpiry = new Date(principal.tokenExpiresAt);
      if (tokenExpiry < expires) expires = tokenExpiry;
    }
    await this.store.webSessions.create({ idHash: sha256(secret), tokenId: principal.tokenId, createdAt: now.toISOString(), expiresAt: expires.toISOString() });
    return { secret, principal, expiresAt: expires.toISOString(), csrf: csrfTokenOf(secret), maxAgeSecs: Math.max(0, Math.floor((expires.getTime() - now.getTime()) / 1000)) };
  }

  /** The session's caller; UNAUTHENTICATED when the session is unknown, expired or its token no longer works. */
  async authenticate(secret: string): Promise<WebSessionInfo> {
    const found = secret.startsWith(PREFIX) ? await this.store.webSessions.find(sha256(secret)) : undefined;
    if (!found) throw new EvidentError('UNAUTHENTICATED', 'unknown or ended session: sign in again');
    if (new Date(found.session.expiresAt) <= this.clock.now()) throw new EvidentError('UNAUTHENTICATED', 'the session has expired: sign in again');
    return { principal: this.auth.principalOf(found.token), expiresAt: found.session.expiresAt, csrf: csrfTokenOf(secret) };
  }

  /** Signs out: the session stops at once. */
  async end(secret: string): Promise<void> {
    await this.store.webSessions.delete(sha256(secret));
  }
}
