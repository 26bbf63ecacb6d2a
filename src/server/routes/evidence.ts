import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import { Type } from 'typebox';
import { evidenceSchemas as es, schemas } from '../../client/index.js';
import { EvidentError } from '../../core/index.js';
import type { EvidenceItem, EvidencePart } from '../../services/index.js';
import { access, errorResponses, typed, type Services } from '../context.js';

/** Files per upload request, and non-file fields tolerated (and ignored) beside them. */
const MAX_FILES = 1000;
const MAX_FIELDS = 20;

const BinaryBody = {
  description: 'The blob, exactly as uploaded',
  content: { 'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } },
};

const DownloadHeaders = Type.Object({ 'if-none-match': Type.Optional(Type.String({ maxLength: 200 })) });

/** The evidence vault over HTTP: multipart upload, streamed download (DESIGN.md §1, §7). */
export function evidenceRoutes(services: Services) {
  return async (fastify: FastifyInstance) => {
    // Registered inside this plugin only: no other route accepts multipart bodies.
    await fastify.register(multipart);
    // A blob that fails verification before its first byte is sent becomes an ordinary JSON error: the
    // download's headers (octet-stream, immutable caching, attachment) must not stay on it.
    const parent = fastify.errorHandler;
    fastify.setErrorHandler(function (error, request, reply) {
      for (const name of BLOB_HEADERS) void reply.removeHeader(name);
      // An upload refused part-way has unread bytes: discard them, or the client, still sending, never
      // reads the answer.
      if (!request.raw.complete) request.raw.resume();
      return parent.call(this, error, request, reply);
    });
    const app = typed(fastify);
    app.post(
      '/api/v1/orgs/:org/evidence',
      {
        schema: {
          tags: ['evidence'],
          summary: 'Upload evidence files (multipart/form-data, one file part per file); each is stored once by SHA-256',
          description:
            `Each file part is streamed into the vault and named by its SHA-256 digest. The part's filename is kept only as ` +
            `metadata (sanitised to a relative path). A file larger than the limit (default 100 MiB) fails the whole request ` +
            `with 413 and nothing of it is recorded.`,
          consumes: ['multipart/form-data'],
          params: schemas.OrgParams,
          // Documents the form for OpenAPI; the parts themselves are read as streams, not validated here.
          body: Type.Object({ file: Type.Optional(Type.Array(Type.String({ contentMediaType: 'application/octet-stream' }))) }),
          response: { 201: es.EvidenceUploaded, ...errorResponses, 413: schemas.ErrorBody },
        },
        // The multipart parser leaves the body to be streamed by the handler; validate the form as empty.
        preValidation: async (request) => {
          if (request.isMultipart()) request.body = {};
        },
      },
      async (request, reply) => {
        const org = await access(services, request, 'write', request.params.org);
        if (!request.isMultipart()) {
          throw new EvidentError('INVALID_ARGUMENT', 'upload evidence as multipart/form-data, one file part per file');
        }
        const items = await services.vault.upload(org, fileParts(request, services.vault.maxBytes));
        if (items.length === 0) throw new EvidentError('INVALID_ARGUMENT', 'the upload has no file parts');
        void reply.status(201);
        return { items };
      },
    );
    const download = {
      tags: ['evidence'],
      params: es.EvidenceParams,
      headers: DownloadHeaders,
      response: { 200: BinaryBody, 304: { description: 'Not modified (If-None-Match matched the ETag)', type: 'null' }, ...errorResponses },
    };
    app.head(
      '/api/v1/orgs/:org/evidence/:digest',
      { schema: { ...download, summary: 'Size and ETag of an evidence blob of this org, without the bytes' } },
      async (request, reply) => {
        const org = await access(services, request, 'read', request.params.org);
        const item = await services.vault.stat(org, request.params.digest);
        if (notModified(request, item)) return reply.status(304).send();
        blobHeaders(reply, item);
        return reply.send();
      },
    );
    app.get(
      '/api/v1/orgs/:org/evidence/:digest',
      { exposeHeadRoute: false, schema: { ...download, summary: 'Download an evidence blob of this org; the bytes are verified against the digest as they stream' } },
      async (request, reply) => {
        const org = await access(services, request, 'read', request.params.org);
        if (notModified(request, await services.vault.stat(org, request.params.digest))) return reply.status(304).send();
        const blob = await services.vault.get(org, request.params.digest);
        blobHeaders(reply, blob);
        return reply.send(blob.stream);
      },
    );
  };
}

const BLOB_HEADERS = ['content-type', 'content-length', 'etag', 'content-disposition', 'x-content-type-options', 'cache-control'];

function etag(digest: string): string {
  return `"sha256:${digest}"`;
}

function notModified(request: FastifyRequest, item: EvidenceItem): boolean {
  const header = request.headers['if-none-match'];
  return typeof header === 'string' && header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag(item.digest));
}

function blobHeaders(reply: FastifyReply, item: EvidenceItem): void {
  void reply
    .header('content-type', 'application/octet-stream')
    .header('content-length', String(item.size))
    .header('etag', etag(item.digest))
    .header('content-disposition', contentDisposition(item))
    // Never rendered by a browser, whatever the bytes look like; cacheable because a digest's bytes never change.
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', 'private, max-age=31536000, immutable');
}

/** `attachment` with the name's last segment: an ASCII fallback and the exact UTF-8 form (RFC 6266). */
export function contentDisposition(item: EvidenceItem): string {
  const base = item.name?.split('/').pop() || `sha256-${item.digest}`;
  const ascii = base.replace(/[^A-Za-z0-9._ -]/g, '_');
  const exact = encodeURIComponent(base).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${exact}`;
}

/** The request's file parts as they arrive; multipart errors become typed errors. */
async function* fileParts(request: FastifyRequest, maxBytes: number): AsyncGenerator<EvidencePart> {
  // One byte over the limit reaches the vault, which refuses it; busboy discards the rest of that file.
  const parts = request.parts({
    preservePath: true,
    limits: { fileSize: maxBytes + 1, files: MAX_FILES, fields: MAX_FIELDS, fieldSize: 1024, parts: MAX_FILES + MAX_FIELDS, headerPairs: 100 },
  });
  try {
    for await (const part of parts) {
      if (part.type === 'file') yield { name: part.filename, stream: translated(part.file) };
    }
  } catch (err) {
    throw multipartError(err);
  }
}

/** A file part's bytes, its parse errors (a truncated body, a client gone) made typed errors. */
async function* translated(file: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  try {
    yield* file;
  } catch (err) {
    throw multipartError(err);
  }
}

function multipartError(err: unknown): unknown {
  if (err instanceof EvidentError) return err;
  const { statusCode, message } = err as { statusCode?: number; message?: string };
  if (statusCode === 413) {
    return new EvidentError('PAYLOAD_TOO_LARGE', `the upload exceeds a multipart limit (${message}): at most ${MAX_FILES} files and ${MAX_FIELDS} fields`);
  }
  return new EvidentError('INVALID_ARGUMENT', `malformed multipart/form-data body: ${message ?? String(err)}`, { cause: err });
}
