import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { schemas } from '../../client/index.js';
import { EvidentError } from '../../core/index.js';
import { MAX_TURBO_QUERY_HASHES, TURBO_HASH_PATTERN, TURBO_TAG_PATTERN, type Action } from '../../services/index.js';
import { access, errorResponses, typed, type Services } from '../context.js';

// turbo's remote cache HTTP API (Vercel's `/v8/artifacts`, what `turbo run --api URL --token T --team T`
// speaks), so a turbo user points turbo at an Evident server. `teamId` or `slug` names the organisation
// (`teamId=team_<org>` or `<org>`; without either, the token's own); the bearer token is an Evident API
// token: reading needs any role, uploading a role that may write (docs/cache.md "turbo's remote cache").

const Team = Type.Object({ teamId: Type.Optional(Type.String({ maxLength: 200 })), slug: Type.Optional(Type.String({ maxLength: 200 })) });
const HashParams = Type.Object({ hash: Type.String({ pattern: TURBO_HASH_PATTERN }) });
const ArtifactHeaders = Type.Object({
  'x-artifact-duration': Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })),
  'x-artifact-tag': Type.Optional(Type.String({ pattern: TURBO_TAG_PATTERN })),
});
const Binary = { description: 'The artifact (turbo writes a tar.zst / tar.gz)', content: { 'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } } };
const Event = Type.Object({
  sessionId: Type.String({ maxLength: 200 }),
  source: Type.Union([Type.Literal('LOCAL'), Type.Literal('REMOTE')]),
  event: Type.Union([Type.Literal('HIT'), Type.Literal('MISS')]),
  hash: Type.String({ pattern: TURBO_HASH_PATTERN }),
  duration: Type.Optional(Type.Number({ minimum: 0 })),
});

/** The org named by teamId/slug (the token's own when neither is given), after the token's role is checked. */
async function orgOf(services: Services, request: FastifyRequest, action: Action): Promise<Awaited<ReturnType<typeof access>>> {
  const { teamId, slug } = request.query as { teamId?: string; slug?: string };
  const name = slug ?? (teamId !== undefined ? teamId.replace(/^team_/, '') : undefined);
  return access(services, request, action, name);
}

export function turboRoutes(services: Services) {
  return async (fastify: FastifyInstance) => {
    // Only here: the artifact body is streamed to the vault as it arrives, never parsed nor buffered.
    fastify.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));
    // An upload refused before its body was read (a malformed tag, a wrong team): discard the unread
    // bytes, or the client, still sending, never reads the answer.
    const parent = fastify.errorHandler;
    fastify.setErrorHandler(function (error, request, reply) {
      if (!request.raw.complete) request.raw.resume();
      return parent.call(this, error, request, reply);
    });
    const app = typed(fastify);
    app.get('/v8/artifacts/status', {
      schema: { tags: ['turbo'], summary: 'turbo: whether remote caching is enabled for the caller', querystring: Team, response: { 200: Type.Object({ status: Type.Literal('enabled') }), ...errorResponses } },
    }, async (request) => {
      await orgOf(services, request, 'read');
      return { status: 'enabled' as const };
    });
    app.put('/v8/artifacts/:hash', {
      schema: {
        tags: ['turbo'], summary: 'turbo: upload an artifact, recorded as a turbo.artifact log entry with its x-artifact-tag when turbo signs (kept and served back for turbo to check: the server has no key); first writer wins',
        params: HashParams, querystring: Team, headers: ArtifactHeaders, consumes: ['application/octet-stream'],
        response: { 202: Type.Object({ urls: Type.Array(Type.String()) }), ...errorResponses, 413: schemas.ErrorBody },
      },
    }, async (request, reply) => {
      const org = await orgOf(services, request, 'write');
      const body = request.body as AsyncIterable<Uint8Array> | undefined;
      if (!body || typeof (body as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] !== 'function') throw new EvidentError('INVALID_ARGUMENT', 'the artifact must be sent as application/octet-stream');
      const duration = request.headers['x-artifact-duration'];
      const tag = request.headers['x-artifact-tag'];
      const { teamId, slug } = request.query as { teamId?: string; slug?: string };
      const principal = request.principal!;
      await services.turbo.put(org, request.params.hash, body, { ...(tag ? { tag } : {}), ...(duration ? { durationMs: Number(duration) } : {}) }, {
        team: slug ?? teamId ?? null, uploadedBy: `token ${principal.tokenName} (${principal.tokenId})`,
      });
      void reply.status(202);
      return { urls: [`${request.protocol}://${request.host}/v8/artifacts/${request.params.hash}`] };
    });
    app.get('/v8/artifacts/:hash', {
      // HEAD is its own route below: it must not read (and verify) the bytes.
      exposeHeadRoute: false,
      schema: { tags: ['turbo'], summary: 'turbo: download an artifact with its x-artifact-tag when it was signed (its row checked against its log entry, its bytes against the logged SHA-256 as they stream; 500 TAMPERED otherwise)', params: HashParams, querystring: Team, produces: ['application/octet-stream'], response: { 200: Binary as never, ...errorResponses } },
    }, async (request, reply) => {
      const org = await orgOf(services, request, 'read');
      const { artifact, body } = await services.turbo.get(org, request.params.hash);
      void reply.type('application/octet-stream').header('content-length', String(artifact.size)).header('x-artifact-duration', String(artifact.durationMs));
      // turbo with remoteCache.signature checks this tag against the bytes with its key, and refuses both
      // when it does not verify (the tag itself was checked against its log entry in find()).
      if (artifact.tag !== null) void reply.header('x-artifact-tag', artifact.tag);
      return reply.send(body);
    });
    app.head('/v8/artifacts/:hash', {
      schema: { tags: ['turbo'], summary: 'turbo: whether an artifact exists', params: HashParams, querystring: Team },
    }, async (request, reply) => {
      const org = await orgOf(services, request, 'read');
      const artifact = await services.turbo.find(org, request.params.hash);
      if (!artifact) return reply.status(404).send();
      void reply.header('content-length', String(artifact.size)).header('x-artifact-duration', String(artifact.durationMs));
      return reply.status(200).send();
    });
    app.post('/v8/artifacts', {
      schema: {
        tags: ['turbo'], summary: 'turbo: what is known of each hash (null for none)', querystring: Team,
        body: Type.Object({ hashes: Type.Array(Type.String({ pattern: TURBO_HASH_PATTERN }), { maxItems: MAX_TURBO_QUERY_HASHES }) }),
        response: { 200: Type.Record(Type.String(), Type.Union([Type.Null(), Type.Object({ size: Type.Integer(), taskDurationMs: Type.Integer() })])), ...errorResponses },
      },
    }, async (request) => {
      const org = await orgOf(services, request, 'read');
      return services.turbo.query(org, request.body.hashes);
    });
    app.post('/v8/artifacts/events', {
      schema: { tags: ['turbo'], summary: "turbo: cache usage events (checked, then dropped: the server's own counts are what it served)", querystring: Team, body: Type.Array(Event, { maxItems: 10_000 }), response: { 200: Type.Object({}), ...errorResponses } },
    }, async (request) => {
      await orgOf(services, request, 'read');
      return {};
    });
  };
}
