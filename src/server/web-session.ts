import type { FastifyReply, FastifyRequest } from 'fastify';
import { EvidentError } from '../core/index.js';
import { csrfMatches, type Principal, type WebSessionInfo } from '../services/index.js';
import type { Services } from './context.js';

// The web UI's cookie session on the HTTP side (docs/web.md "Signing in"): reading the cookie, refusing
// cross-site state changes, and writing the cookie with its flags.

export const SESSION_COOKIE = 'evident_session';
/** The header a page echoes its session's CSRF token in. */
export const CSRF_HEADER = 'x-evident-csrf';
/** The cookie goes only to the API: static files never see it. */
const COOKIE_PATH = '/api/v1';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when the caller came in with the session cookie (not a bearer token). */
    webSession?: { secret: string; info: WebSessionInfo };
  }
}

/** The session cookie's value, if the request carries one (RFC 6265 §5.4 cookie header). */
export function sessionCookie(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return value.length > 0 && value.length <= 200 ? value : undefined;
    }
  }
  return undefined;
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A cookie is sent by the browser whoever made the page, so a state-changing request made with one must
 * prove it comes from this origin's pages: its Origin (when the browser sends one) must be this host, a
 * Sec-Fetch-Site must not say cross-site, and X-Evident-CSRF must hold the session's CSRF token, which
 * only this origin's pages can read (SameSite=Strict is a further layer, not the only one).
 */
export function checkCsrf(request: FastifyRequest, secret: string): void {
  if (SAFE.has(request.method)) return;
  checkSameOrigin(request);
  const presented = request.headers[CSRF_HEADER];
  if (!csrfMatches(secret, typeof presented === 'string' ? presented : undefined)) {
    throw new EvidentError('FORBIDDEN', `a state-changing request signed in by cookie needs the session's CSRF token in ${CSRF_HEADER}`);
  }
}

/** Refuses a request a browser says comes from another site (Origin not this host, or Sec-Fetch-Site: cross-site). */
export function checkSameOrigin(request: FastifyRequest): void {
  const origin = request.headers.origin;
  if (origin !== undefined) {
    let same = false;
    try {
      // Both through URL, so a default port (":80" on http) compares equal to none.
      const from = new URL(origin);
      same = from.host === new URL(`${from.protocol}//${request.headers.host ?? ''}`).host;
    } catch {
      same = false;
    }
    if (!same) {
      throw new EvidentError('FORBIDDEN', `cross-origin request refused: Origin ${JSON.stringify(origin)} is not this server`);
    }
  }
  if (request.headers['sec-fetch-site'] === 'cross-site') throw new EvidentError('FORBIDDEN', 'cross-site request refused');
}

/** Authenticates the session cookie (its secret) and, for state-changing methods, the CSRF proof. */
export async function authenticateSession(services: Services, request: FastifyRequest, secret: string): Promise<Principal> {
  const info = await services.webSessions.authenticate(secret);
  checkCsrf(request, secret);
  request.webSession = { secret, info };
  return info.principal;
}

/** Sets the session cookie: HttpOnly, SameSite=Strict, Secure when the request came over TLS. */
export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, secret: string, maxAgeSecs: number): void {
  void reply.header('set-cookie', cookie(request, secret, maxAgeSecs));
}

/** Clears the session cookie (sign-out, or a cookie the server no longer knows). */
export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  void reply.header('set-cookie', cookie(request, '', 0));
}

function cookie(request: FastifyRequest, value: string, maxAge: number): string {
  const secure = request.protocol === 'https' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${value}; Path=${COOKIE_PATH}; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure}`;
}
