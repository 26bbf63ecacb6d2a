import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { schemas } from '../../client/index.js';
import { BAZEL_DIGEST_PATTERN, type Action } from '../../services/index.js';
import { access, errorResponses, typed, type Services } from '../context.js';

// Bazel's HTTP remote cache (bazel.build/remote/caching, "HTTP caching protocol": GET/PUT/HEAD on
// `<url>/ac/<sha256>` and `<url>/cas/<sha256>`), so `bazel build --remote_cache=https://HOST/bazel/ORG`
// shares actions and outputs through an Evident server (docs/cache.md "Bazel's remote cache"). The org is
// the URL's `/bazel/ORG` prefix, or the token's own under bare `/ac/` and `/cas/` (as turbo's `slug`);
// the token comes as a bearer token (`--remote_header=Authorization=Bearer …`) or as the password of the
// URL's basic credentials (`https://any:TOKEN@HOST/…`). Reading needs any role, uploading one that may write.

const Hash = Type.Object({ hash: Type.String({ pattern: BAZEL_DIGEST_PATTERN }) });
const OrgHash = Type.Object({ org: Type.String({ minLength: 1, maxLength: 200 }), hash: Type.String({ pattern: BAZEL_DIGEST_PATTERN }) });
const Binary = { description: 'The blob or ActionResult as stored', content: { 'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } } };

type Kind = 'ac' | 'cas';

async function orgOf(services: Services, request: FastifyRequest, action: Action) {
  return access(services, request, action, (request.params as { org?: string }).org);
}

function bodyOf(request: FastifyRequest): AsyncIterable<Uint8Array> {
  const body = request.body as AsyncIterable<Uint8Array> | undefined;
  // An empty PUT (the empty blob) has no body to parse.
  if (body && typeof (body as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function') return body;
  return (async function* empty() {})();
}

export function bazelRoutes(services: Services) {
  return async (fastify: FastifyInstance) => {
    // Bazel sends no content type, or application/octet-stream: every body here is streamed to the vault raw.
    fastify.removeAllContentTypeParsers();
    fastify.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    // A PUT refused before its body was read (wrong org, bad digest): discard the rest so the client reads the answer.
    const parent = fastify.errorHandler;
    fastify.setErrorHandler(function (error, request, reply) {
      if (!request.raw.complete) request.raw.resume();
      return parent.call(this, error, request, reply);
    });
    const app = typed(fastify);
    const config = { basicAuth: true };
    for (const [prefix, params] of [['', Hash], ['/bazel/:org', OrgHash]] as const) {
      for (const kind of ['ac', 'cas'] as const) {
        const url = `${prefix}/${kind}/:hash`;
        const what = kind === 'ac' ? 'an action result (ActionResult, by the SHA-256 of its Action)' : 'a CAS blob (by the SHA-256 of its bytes)';
        const org = prefix === '' ? "the token's org" : 'the org named in the URL';
        app.get(url, {
          config, exposeHeadRoute: false,
          schema: { tags: ['bazel'], summary: `Bazel: download ${what} of ${org}; 404 when absent`, params, produces: ['application/octet-stream'], response: { 200: Binary as never, ...errorResponses } },
        }, async (request, reply) => download(kind, request, reply));
        app.head(url, {
          config,
          schema: { tags: ['bazel'], summary: `Bazel: whether ${what} of ${org} exists`, params },
        }, async (request, reply) => exists(kind, request, reply));
        app.put(url, {
          config,
          schema: {
            tags: ['bazel'], summary: kind === 'ac'
              ? `Bazel: upload an action result of ${org}, recorded as a bazel.action_result log entry (first writer wins)`
              : `Bazel: upload a CAS blob of ${org}; refused (400) unless its bytes hash to the digest in the URL`,
            params, consumes: ['application/octet-stream'], response: { 200: Type.Null(), ...errorResponses, 413: schemas.ErrorBody },
          },
        }, async (request, reply) => upload(kind, request, reply));
      }
    }
  };

  async function download(kind: Kind, request: FastifyRequest, reply: FastifyReply) {
    const org = await orgOf(services, request, 'read');
    const { hash } = request.params as { hash: string };
    const { size, body } = kind === 'ac'
      ? await services.bazel.getAc(org, hash).then(({ result, body }) => ({ size: result.size, body }))
      : await services.bazel.getCas(org, hash);
    void reply.type('application/octet-stream').header('content-length', String(size));
    return reply.send(body);
  }

  async function exists(kind: Kind, request: FastifyRequest, reply: FastifyReply) {
    const org = await orgOf(services, request, 'read');
    const { hash } = request.params as { hash: string };
    const size = kind === 'ac' ? (await services.bazel.findAc(org, hash))?.size : await services.bazel.findCas(org, hash);
    if (size === undefined) return reply.status(404).send();
    void reply.header('content-length', String(size));
    return reply.status(200).send();
  }

  async function upload(kind: Kind, request: FastifyRequest, reply: FastifyReply) {
    const org = await orgOf(services, request, 'write');
    const { hash } = request.params as { hash: string };
    const principal = request.principal!;
    if (kind === 'ac') await services.bazel.putAc(org, hash, bodyOf(request), `token ${principal.tokenName} (${principal.tokenId})`);
    else await services.bazel.putCas(org, hash, bodyOf(request));
    return reply.status(200).send();
  }
}
