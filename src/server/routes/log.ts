import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { EvidentError } from '../../core/index.js';
import { parseSubjectKey, verifierKeyPem } from '../../ledger/index.js';
import { schemas } from '../../client/index.js';
import { access, errorResponses, typed, type Services } from '../context.js';

/** The org's Merkle log: checkpoint, entries and proofs (DESIGN.md §2; RFC 9162 §2.1; C2SP tlog-checkpoint). */
export function logRoutes(services: Services) {
  return async (fastify: FastifyInstance) => {
    const app = typed(fastify);
    const params = schemas.OrgParams;

    app.get(
      '/api/v1/orgs/:org/log/key',
      { schema: { tags: ['log'], summary: 'The verifier key of the log and this org\'s origin', params, response: { 200: schemas.LogKey, ...errorResponses } } },
      async (request) => {
        const org = await access(services, request, 'read', request.params.org);
        const key = services.log.verifierKeyFor(org);
        return { verifier_key: key, origin: services.log.origin(org), public_key_pem: verifierKeyPem(key) };
      },
    );

    app.get(
      '/api/v1/orgs/:org/log/checkpoint',
      {
        schema: {
          tags: ['log'], summary: 'The latest checkpoint: a C2SP signed note (text/plain), with witness cosignature lines when witnesses are configured', params,
          produces: ['text/plain'], response: { 200: Type.String({ description: 'origin, size and base64 root, then the signature line' }), ...errorResponses },
        },
      },
      async (request, reply) => {
        const org = await access(services, request, 'read', request.params.org);
        void reply.type('text/plain; charset=utf-8');
        // With witnesses: the checkpoint with their cosignature lines (docs/log.md "Witnesses").
        return services.witnesses ? services.witnesses.served(org) : services.log.checkpoint(org);
      },
    );

    app.get(
      '/api/v1/orgs/:org/log/entries',
      {
        schema: {
          tags: ['log'], summary: 'Entries start <= index < end, at most 1000 a page; next_cursor is the next start',
          params, querystring: schemas.EntriesQuery, response: { 200: schemas.LogEntryPage, ...errorResponses },
        },
      },
      async (request) => {
        const org = await access(services, request, 'read', request.params.org);
        const start = request.query.cursor !== undefined ? Number(request.query.cursor) : (request.query.start ?? 0);
        const { end, items } = await services.log.entries(org, start, request.query.end);
        const next = start + items.length;
        return {
          items: items.map((r) => ({ index: r.index, leaf_hash: r.leafHash, entry: r.entry })),
          next_cursor: next < end ? String(next) : null,
        };
      },
    );

    app.get(
      '/api/v1/orgs/:org/log/proof/inclusion',
      {
        schema: {
          tags: ['log'], summary: 'RFC 9162 inclusion proof, by index or by leaf hash',
          params, querystring: schemas.InclusionQuery, response: { 200: schemas.InclusionProof, ...errorResponses },
        },
      },
      async (request) => {
        const org = await access(services, request, 'read', request.params.org);
        const { index, leaf_hash, tree_size } = request.query;
        if ((index === undefined) === (leaf_hash === undefined)) {
          throw new EvidentError('INVALID_ARGUMENT', 'give exactly one of index and leaf_hash', {
            details: [{ path: 'querystring', message: 'exactly one of index, leaf_hash' }],
          });
        }
        const proof = index !== undefined
          ? await services.log.inclusionProof(org, index, tree_size)
          : await services.log.inclusionProofByLeaf(org, leaf_hash!, tree_size);
        return { index: proof.index, tree_size: proof.treeSize, leaf_hash: proof.leafHash, hashes: proof.hashes };
      },
    );

    app.get(
      '/api/v1/orgs/:org/log/proof/consistency',
      {
        schema: {
          tags: ['log'], summary: 'RFC 9162 consistency proof between two tree sizes',
          params, querystring: schemas.ConsistencyQuery, response: { 200: schemas.ConsistencyProof, ...errorResponses },
        },
      },
      async (request) => {
        const org = await access(services, request, 'read', request.params.org);
        return services.log.consistencyProof(org, request.query.from, request.query.to);
      },
    );

    app.get(
      '/api/v1/orgs/:org/log/proof/map',
      {
        schema: {
          tags: ['log'], summary: 'Subject map proof: the latest entry about a subject, or its absence, at the latest checkpoint',
          params, querystring: schemas.MapProofQuery, response: { 200: schemas.MapProof, ...errorResponses },
        },
      },
      async (request) => {
        const org = await access(services, request, 'read', request.params.org);
        const subject = parseSubjectKey(request.query.subject);
        const { checkpoint, size, proof } = await services.log.mapProof(org, subject.key);
        const wanted = request.query.tree_size;
        if (wanted !== undefined && wanted !== size) {
          throw new EvidentError('NOT_FOUND', `map proofs are served at the latest checkpoint only (tree size ${size}, not ${wanted})`, {
            details: [{ path: 'tree_size', message: `the latest is ${size}` }],
          });
        }
        return { subject: subject.key, tree_size: size, checkpoint, proof };
      },
    );
  };
}
