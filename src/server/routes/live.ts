import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { authorize } from '../../services/index.js';
import { schemas } from '../../client/index.js';
import { access, authenticateCaller, errorResponses, insecureLocalRequest, typed, type Services } from '../context.js';
import type { LiveEvents } from '../live-events.js';

/**
 * GET /api/v1/orgs/{org}/events: Server-Sent Events of the org's new log entries (docs/web.md "Live
 * updates"). EventSource sends no Authorization header, so the web UI's session cookie is how a page
 * subscribes; a bearer token works too (curl -N).
 */
export function liveRoutes(services: Services, live: LiveEvents) {
  return async (fastify: FastifyInstance) => {
    const app = typed(fastify);
    app.get(
      '/api/v1/orgs/:org/events',
      {
        schema: {
          tags: ['web'], summary: "The org's new log entries as Server-Sent Events (event: entries), with a heartbeat; bounded per client", params: schemas.OrgParams,
          produces: ['text/event-stream'],
          response: { 200: Type.String({ description: 'text/event-stream: hello {size}, then entries {size, entries: [{index, type, artifact?, environment?, flow?, trail?}], more}' }), ...errorResponses },
        },
      },
      async (request, reply) => {
        const org = await access(services, request, 'read', request.params.org);
        const principal = request.principal!;
        const head = await services.store.log.head(org.id);
        const recheck = recheckFor(services, request, org.name);
        // Refused (429/503) before the answer starts, through the API's error shape.
        live.admit(request.ip, principal.tokenId);
        reply.hijack();
        live.open(org.id, request.ip, principal.tokenId, reply.raw, head.size, recheck);
      },
    );
  };
}

/** How a held stream re-checks its caller at each heartbeat: the token (or session) must still work. */
function recheckFor(services: Services, request: FastifyRequest, orgName: string): () => Promise<void> {
  if (insecureLocalRequest(request)) return async () => {};
  const headers = { ...request.headers };
  const method = request.method;
  return async () => {
    // The same authentication as the opening request, on a copy of its headers (the request itself is long gone).
    const again = { headers, method, ip: request.ip, server: request.server } as unknown as FastifyRequest;
    authorize(await authenticateCaller(services, again), 'read', orgName);
  };
}
