import type { FastifyInstance } from 'fastify';
import { EvidentError } from '../../core/index.js';
import { schemas } from '../../client/index.js';
import type { Principal, WebSessionInfo } from '../../services/index.js';
import { authenticateBearer, errorResponses, typed, type Services } from '../context.js';
import { authenticateSession, checkCsrf, checkSameOrigin, clearSessionCookie, sessionCookie, setSessionCookie } from '../web-session.js';

function sessionJson(p: Principal, info: Pick<WebSessionInfo, 'expiresAt' | 'csrf'>) {
  return { org: p.org.name, role: p.role, token_id: p.tokenId, token_name: p.tokenName, expires_at: info.expiresAt, csrf: info.csrf };
}

/**
 * The web UI's sign-in (docs/web.md "Signing in"): a page exchanges an API token for a session cookie once
 * (POST), learns who it is and its CSRF token in any tab (GET), and signs out (DELETE). The token is sent in
 * Authorization, never in a body or a URL, so another site cannot sign a browser in with its own token
 * without a CORS preflight this server never grants.
 */
export function sessionRoutes(services: Services) {
  return async (fastify: FastifyInstance) => {
    const app = typed(fastify);
    const noStore = { 'cache-control': 'no-store' };
    app.post(
      '/api/v1/session',
      { schema: { tags: ['web'], summary: 'Sign in the web UI: exchange the bearer token for an HttpOnly session cookie', response: { 201: schemas.WebSession, ...errorResponses } } },
      async (request, reply) => {
        if (request.headers.authorization === undefined) {
          throw new EvidentError('UNAUTHENTICATED', 'sign in with an API token: Authorization: Bearer <token>');
        }
        // Same-origin check as for cookie requests: a sign-in is a state change too.
        checkSameOrigin(request);
        const principal = request.principal ?? (await authenticateBearer(services, request));
        const started = await services.webSessions.start(principal);
        setSessionCookie(request, reply, started.secret, started.maxAgeSecs);
        void reply.status(201).headers(noStore);
        return sessionJson(principal, started);
      },
    );
    app.get(
      '/api/v1/session',
      { schema: { tags: ['web'], summary: "The web UI's session: who is signed in, until when, and its CSRF token", security: [], response: { 200: schemas.WebSession, ...errorResponses } } },
      async (request, reply) => {
        const secret = sessionCookie(request);
        if (secret === undefined) throw new EvidentError('UNAUTHENTICATED', 'not signed in');
        try {
          const principal = await authenticateSession(services, request, secret);
          void reply.headers(noStore);
          return sessionJson(principal, request.webSession!.info);
        } catch (err) {
          // An ended or expired session's cookie is of no further use: the browser drops it.
          clearSessionCookie(request, reply);
          throw err;
        }
      },
    );
    app.delete(
      '/api/v1/session',
      { schema: { tags: ['web'], summary: 'Sign out the web UI: the session ends at once and its cookie is cleared', security: [], response: { 204: { type: 'null' }, ...errorResponses } } },
      async (request, reply) => {
        const secret = sessionCookie(request);
        if (secret !== undefined) {
          checkCsrf(request, secret);
          await services.webSessions.end(secret);
        }
        clearSessionCookie(request, reply);
        void reply.status(204).headers(noStore);
      },
    );
  };
}
