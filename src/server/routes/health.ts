import type { FastifyInstance } from 'fastify';
import { schemas } from '../../client/index.js';
import { typed, type Services } from '../context.js';

/** Liveness (the process answers) and readiness (the database answers). */
export function healthRoutes(services: Services) {
  return async (fastify: FastifyInstance) => {
    const app = typed(fastify);
    app.get('/healthz', { schema: { tags: ['health'], summary: 'Liveness', response: { 200: schemas.Health } } }, async () => ({ status: 'ok' }));
    app.get(
      '/readyz',
      { schema: { tags: ['health'], summary: 'Readiness: the database answers', response: { 200: schemas.Health, 503: schemas.ErrorBody } } },
      async () => {
        await services.store.ping();
        return { status: 'ready' };
      },
    );
  };
}
