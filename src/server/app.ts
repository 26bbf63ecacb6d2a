import { VERSION } from '../core/index.js';
import type { Server } from 'node:http';
import Fastify, { type FastifyHttpOptions, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import { registerErrorHandling } from './errors.js';
import { FailedAuthLimiter } from './access-policy.js';
import { capConnections, clientErrorHandler, httpServerOptions, resolveLimits, type ServerLimits } from './limits.js';
import { installJsonParser } from './json-body.js';
import { installValidators } from './validation.js';
import { authenticateEarly } from './early-auth.js';
import type { Services } from './context.js';
import { healthRoutes } from './routes/health.js';
import { orgRoutes } from './routes/orgs.js';
import { tokenRoutes } from './routes/tokens.js';
import { sessionRoutes } from './routes/session.js';
import { logRoutes } from './routes/log.js';
import { tileRoutes } from './routes/tiles.js';
import { flowRoutes } from './routes/flows.js';
import { trailRoutes } from './routes/trails.js';
import { kosliV2Routes } from './routes/kosli-v2.js';
import { artifactRoutes } from './routes/artifacts.js';
import { attestationRoutes } from './routes/attestations.js';
import { attestationTypeRoutes } from './routes/attestation-types.js';
import { environmentRoutes } from './routes/environments.js';
import { tagRoutes } from './routes/tags.js';
import { diffRoutes } from './routes/diff.js';
import { releasePlanRoutes } from './routes/release-plan.js';
import { evidenceRoutes } from './routes/evidence.js';
import { policyRoutes } from './routes/policies.js';
import { assertRoutes } from './routes/assert.js';
import { schemaRoutes } from './routes/schemas.js';
import { cacheRoutes } from './routes/cache.js';
import { turboRoutes } from './routes/turbo.js';
import { bazelRoutes } from './routes/bazel.js';
import { webRoutes } from './routes/web.js';
import { metricsRoutes } from './routes/metrics.js';
import { liveRoutes } from './routes/live.js';
import { DEFAULT_LIVE_LIMITS, LiveEvents, type LiveEventLimits } from './live-events.js';

export interface AppOptions {
  services: Services;
  logger?: FastifyServerOptions['logger'];
  /** Largest request body accepted, in bytes. */
  bodyLimit?: number;
  /** Requests without a token from loopback act as admin (only when listening on loopback). */
  insecureLocal?: boolean;
  defaultOrg?: string;
  /** Failed authentications allowed per (token prefix, client address) per minute. */
  failedAuthPerMinute?: number;
  /** Connection and request limits (defaults: DEFAULT_LIMITS). */
  limits?: Partial<ServerLimits>;
  /**
   * Whom to believe in X-Forwarded-For for the client address (the failed-authentication limiter, logs):
   * false (default), true (any proxy), a hop count, or a list of proxy addresses/CIDRs.
   */
  trustProxy?: boolean | number | string;
  /** Bounds and heartbeat of the web UI's live-update streams (default DEFAULT_LIVE_LIMITS). */
  liveEvents?: Partial<LiveEventLimits>;
}

export { VERSION };

declare module 'fastify' {
  interface FastifyInstance {
    routeTable: { method: string; url: string }[];
    liveEvents: LiveEvents;
  }
}

/** Builds the HTTP application without listening, so tests can use inject() as well as a real socket. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const limits = resolveLimits(options.limits);
  const trust = options.trustProxy;
  const fastifyOptions: FastifyHttpOptions<Server> = {
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    // A hop count trusts that many proxies nearest the server (proxy-addr's semantics).
    trustProxy: typeof trust === 'number' ? (_address: string, hop: number) => hop < trust : trust ?? false,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    maxRequestsPerSocket: limits.maxRequestsPerSocket,
    clientErrorHandler: clientErrorHandler(limits),
  };
  // Passed to http.createServer (headersTimeout, the timeout checking interval): not in Fastify's types.
  Object.assign(fastifyOptions, { http: httpServerOptions(limits) });
  const app = Fastify(fastifyOptions);
  capConnections(app.server, limits);
  registerErrorHandling(app);
  installValidators(app);
  installJsonParser(app, limits.maxJsonDepth);
  app.decorate('accessPolicy', {
    insecureLocal: options.insecureLocal ?? false,
    defaultOrg: options.defaultOrg ?? 'default',
    failures: new FailedAuthLimiter(options.failedAuthPerMinute ?? 60),
  });
  authenticateEarly(app, options.services, limits);
  // Kept so a test can prove the OpenAPI document lists every route.
  const routes: { method: string; url: string }[] = [];
  app.addHook('onRoute', (route) => {
    // Hidden routes (the web UI's static files) are not part of the API.
    if ((route.schema as { hide?: boolean } | undefined)?.hide) return;
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push({ method, url: route.url });
  });
  app.decorate('routeTable', routes);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Evident API', version: VERSION, description: 'A tamper-evident record of how software gets from a commit to production.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API token (evd_…)' } } },
      security: [{ bearer: [] }],
    },
  });
  const { services } = options;
  await app.register(healthRoutes(services));
  await app.register(orgRoutes(services));
  await app.register(tokenRoutes(services));
  await app.register(sessionRoutes(services));
  await app.register(logRoutes(services));
  await app.register(tileRoutes(services));
  await app.register(flowRoutes(services));
  await app.register(trailRoutes(services));
  // Kosli's API v2, the subset its CLI's pipeline steps call (docs/kosli.md).
  await app.register(kosliV2Routes(services));
  await app.register(artifactRoutes(services));
  await app.register(attestationRoutes(services));
  await app.register(attestationTypeRoutes(services));
  await app.register(environmentRoutes(services));
  await app.register(tagRoutes(services));
  await app.register(diffRoutes(services));
  await app.register(releasePlanRoutes(services));
  await app.register(evidenceRoutes(services));
  await app.register(policyRoutes(services));
  await app.register(assertRoutes(services));
  await app.register(schemaRoutes(services));
  await app.register(cacheRoutes(services));
  await app.register(turboRoutes(services));
  await app.register(bazelRoutes(services));
  await app.register(webRoutes());
  await app.register(metricsRoutes(services));
  const live = new LiveEvents({ ...DEFAULT_LIVE_LIMITS, ...options.liveEvents });
  services.log.onCommit((org, entries) => live.publish(org.id, entries));
  app.decorate('liveEvents', live);
  // Held streams would keep close() waiting: end them first.
  app.addHook('preClose', async () => live.closeAll());
  await app.register(liveRoutes(services, live));
  app.get('/api/v1/openapi.json', { schema: { tags: ['meta'], summary: 'This OpenAPI document', security: [] } }, async () => app.swagger());
  return app;
}
