import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { hasBody, type ServerLimits } from './limits.js';
import { authenticateCaller, insecureLocalRequest, type Services } from './context.js';

/**
 * Every route that takes a body needs a token, so the token is checked as soon as the headers are in,
 * before a byte of the body is read: a client without one is answered 401 and its connection closed,
 * whatever it still means to send (reliability report F3: unauthenticated POSTs that sent headers and then
 * nothing, or a byte every 2 s, were held open for good). An authenticated body that stops flowing for
 * `bodyIdleTimeoutMs` is cut; the whole request is bounded by Node's `requestTimeout`.
 */
/** Sets a real socket's idle timeout (0: none); inject()'s sockets have none to set. */
function idleTimeout(socket: Socket, ms: number): void {
  if (typeof socket.setTimeout === 'function') socket.setTimeout(ms);
}

export function authenticateEarly(app: FastifyInstance, services: Services, limits: ServerLimits): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!hasBody(request.headers)) return;
    if (!insecureLocalRequest(request)) {
      try {
        request.principal = await authenticateCaller(services, request);
      } catch (err) {
        // The unread body is not drained: the connection is closed once the answer is written.
        void reply.header('connection', 'close');
        throw err;
      }
    }
    // An idle socket while the body arrives means the body stopped flowing: Node then destroys it.
    idleTimeout(request.raw.socket, limits.bodyIdleTimeoutMs);
  });
  // The body is in (or, for multipart, about to be streamed by the handler): the handler's own time is
  // bounded elsewhere, not by the body's idle timeout.
  app.addHook('preHandler', async (request) => {
    if (request.isMultipart?.()) return;
    if (hasBody(request.headers)) idleTimeout(request.raw.socket, 0);
  });
  app.addHook('onResponse', async (request) => {
    if (hasBody(request.headers) && !request.raw.socket.destroyed) idleTimeout(request.raw.socket, 0);
  });
}
