import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { recordSchemas as rs, schemas } from '../../client/index.js';
import { access, errorResponses, typed, type Services } from '../context.js';
import type { ArtifactView } from '../../services/index.js';
import { artifactDetailJson, artifactJson, searchHitJson } from './record-json.js';

export function artifactRoutes(services: Services) {
  const answers = new WeakMap<readonly ArtifactView[], string>();
  return async (fastify: FastifyInstance) => {
    const app = typed(fastify);
    app.post(
      '/api/v1/orgs/:org/flows/:flow/trails/:trail/artifacts',
      { schema: { tags: ['artifacts'], summary: 'Report an artifact into a trail (one log entry)', params: rs.TrailParams, body: rs.ArtifactCreate, response: { 201: rs.Artifact, ...errorResponses } } },
      async (request, reply) => {
        const org = await access(services, request, 'write', request.params.org);
        const { flow, trail } = request.params;
        const b = request.body;
        const artifact = await services.artifacts.report(org, {
          flow, trail, name: b.name, fingerprint: b.fingerprint, displayName: b.display_name, gitCommit: b.git_commit,
          commitUrl: b.commit_url, buildUrl: b.build_url, annotations: b.annotations, commitTime: b.commit_time,
        });
        void reply.status(201);
        return artifactJson(artifact, flow, trail);
      },
    );
    app.get(
      '/api/v1/orgs/:org/search',
      {
        schema: {
          tags: ['artifacts'], summary: 'Artifacts whose fingerprint or git commit starts with q (>= 5 hex), across all flows, with where each runs',
          params: schemas.OrgParams, querystring: Type.Object({ q: Type.String({ maxLength: 64 }) }), response: { 200: rs.SearchResult, ...errorResponses },
        },
      },
      async (request) => {
        const org = await access(services, request, 'read', request.params.org);
        const hits = await services.artifacts.search(org, request.query.q);
        return { items: hits.map(searchHitJson) };
      },
    );
    app.get(
      '/api/v1/orgs/:org/artifacts',
      {
        schema: {
          tags: ['artifacts'], summary: 'List artifacts, oldest first, optionally of one flow',
          params: schemas.OrgParams, querystring: Type.Object({ ...schemas.PageQuery.properties, flow: Type.Optional(Type.String({ maxLength: 64 })) }),
          response: { 200: rs.ArtifactPage, ...errorResponses },
        },
      },
      async (request) => {
        const org = await access(services, request, 'read', request.params.org);
        const flow = request.query.flow === undefined ? undefined : await services.flows.get(org, request.query.flow);
        const page = await services.artifacts.list(org, { flowId: flow?.id }, request.query.cursor ?? null, request.query.limit ?? 100);
        // The page's trail and flow names in one query, not one per row (issue #21).
        const names = await services.store.records.trailNames(page.items.map((a) => a.trailId));
        const items = page.items.map((a) => artifactJson(a, names.get(a.trailId)!.flow, names.get(a.trailId)!.trail));
        return { items, next_cursor: page.nextCursor };
      },
    );
    app.get(
      '/api/v1/orgs/:org/artifacts/:ref',
      {
        schema: {
          tags: ['artifacts'], summary: 'Artifacts by FLOW@FINGERPRINT, FLOW:COMMIT or a fingerprint prefix (>= 5 hex)',
          params: Type.Object({ org: schemas.OrgParams.properties.org, ref: Type.String({ maxLength: 200 }) }),
          response: { 200: rs.ArtifactDetails, ...errorResponses, 409: schemas.ErrorBody },
        },
      },
      async (request, reply) => {
        const org = await access(services, request, 'read', request.params.org);
        const views = await services.artifacts.find(org, request.params.ref);
        // A fingerprint's views are kept as one array while nothing new is logged about them (artifact-views.ts):
        // its answer, serialized by this route's schema, is kept with it.
        let body = answers.get(views);
        if (body === undefined) {
          body = reply.serialize({ items: views.map(artifactDetailJson) }) as string;
          answers.set(views, body);
        }
        // Already JSON: fastify sends a string with a JSON content type as it is (the typed send wants the object).
        return reply.type('application/json; charset=utf-8').send(body as never);
      },
    );
  };
}
