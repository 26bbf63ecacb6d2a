import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authorize, type Action, type Principal, type ServiceBundle } from '../services/index.js';
import type { OrgRecord } from '../store/index.js';
import { EvidentError, isEvidentError } from '../core/index.js';
import { failureKey, isLoopback, type AccessPolicy } from './access-policy.js';
import { schemas } from '../client/index.js';
import { authenticateSession, checkSameOrigin, sessionCookie } from './web-session.js';

export type Services = ServiceBundle;

export function typed(app: FastifyInstance) {
  return app.withTypeProvider<TypeBoxTypeProvider>();
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyInstance {
    accessPolicy: AccessPolicy;
  }
  interface FastifyContextConfig {
    /**
     * The route also takes the token as the password of `Authorization: Basic` (RFC 7617): Bazel's HTTP
     * cache sends the credentials of its cache URL that way. Only such routes: a browser replays Basic
     * credentials on its own, which would let another site act with them (the API's other routes take
     * bearer tokens and the session cookie, whose requests carry a CSRF check).
     */
    basicAuth?: boolean;
  }
}

/** Error responses every authenticated route documents. */
export const errorResponses = {
  400: schemas.ErrorBody,
  401: schemas.ErrorBody,
  403: schemas.ErrorBody,
  404: schemas.ErrorBody,
};

/** The secret of `Authorization: Bearer <token>`; the scheme is case-insensitive (RFC 9110 §11.1). */
export function bearerSecret(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match ? match[1] : undefined;
}

/** The password of `Authorization: Basic base64(user:password)` (RFC 7617 §2); the user is ignored. */
export function basicPassword(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 || colon === decoded.length - 1 ? undefined : decoded.slice(colon + 1);
}

/**
 * True when the request comes in under `--insecure-local` (no token, from loopback). A browser on this
 * machine reaches loopback too, so such a request must also come from this server's own pages: a page of
 * another site (Origin not this host, or Sec-Fetch-Site: cross-site) is refused rather than made admin
 * (cross-site request forgery), and so is a Host that is not a loopback name (DNS rebinding: a site whose
 * name resolves to 127.0.0.1 would otherwise be same-origin with this server).
 */
export function insecureLocalRequest(request: FastifyRequest): boolean {
  const local = request.headers.authorization === undefined && request.server.accessPolicy.insecureLocal && isLoopback(request.ip) && isLoopback(request.socket.remoteAddress);
  if (!local) return false;
  if (!isLoopbackHost(request.headers.host)) {
    throw new EvidentError('FORBIDDEN', `--insecure-local answers only requests addressed to a loopback name (localhost, 127.0.0.1, [::1]), not Host ${JSON.stringify(request.headers.host ?? '')}: use a token`);
  }
  checkSameOrigin(request);
  return true;
}

/** `localhost`, `*.localhost` (RFC 6761 §6.3), 127.0.0.0/8 or [::1], with or without a port. */
function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  let name: string;
  try {
    name = new URL(`http://${host}`).hostname.toLowerCase();
  } catch {
    return false;
  }
  return name === 'localhost' || name.endsWith('.localhost') || name === '[::1]' || /^127(\.\d{1,3}){3}$/.test(name);
}

/**
 * Authenticates the bearer token. A failure is counted per (token prefix, client address), and past the
 * limit is answered 429 rather than 401; a valid token always passes (F7).
 */
export async function authenticateBearer(services: Services, request: FastifyRequest): Promise<Principal> {
  const policy = request.server.accessPolicy;
  const header = request.headers.authorization;
  const secret = bearerSecret(header) ?? (request.routeOptions.config.basicAuth === true ? basicPassword(header) : undefined);
  try {
    return await services.auth.authenticate(secret);
  } catch (err) {
    if (isEvidentError(err, 'UNAUTHENTICATED')) {
      const { key, what } = failureKey(secret, request.ip);
      policy.failures.fail(key);
      policy.failures.check(key, what);
    }
    throw err;
  }
}

/**
 * Authenticates the caller: a bearer token, or else the web UI's session cookie (web-session.ts), whose
 * failures count against the same limiter. A request with both is the token's.
 */
export async function authenticateCaller(services: Services, request: FastifyRequest): Promise<Principal> {
  const cookie = request.headers.authorization === undefined ? sessionCookie(request) : undefined;
  if (cookie === undefined) return authenticateBearer(services, request);
  try {
    return await authenticateSession(services, request, cookie);
  } catch (err) {
    if (isEvidentError(err, 'UNAUTHENTICATED')) {
      const policy = request.server.accessPolicy;
      const { key, what } = failureKey(cookie, request.ip);
      policy.failures.fail(key);
      policy.failures.check(key, what);
    }
    throw err;
  }
}

/** Authenticates the caller and checks the role and org for one action; returns the org to act on. */
export async function access(services: Services, request: FastifyRequest, action: Action, orgName?: string): Promise<OrgRecord> {
  const policy = request.server.accessPolicy;
  if (insecureLocalRequest(request)) {
    const org = await services.auth.org(orgName ?? policy.defaultOrg);
    request.principal = { tokenId: 'insecure-local', tokenName: 'insecure-local', role: 'admin', org };
    return org;
  }
  // Requests with a body were authenticated before it was read (early-auth.ts).
  const principal = request.principal ?? (await authenticateCaller(services, request));
  request.principal = principal;
  authorize(principal, action, orgName);
  // authorize() has checked the name is the token's own org: no need to look it up again.
  return principal.org;
}
