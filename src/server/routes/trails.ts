import type { FastifyInstance } from 'fastify';
import { recordSchemas as rs, schemas } from '../../client/index.js';
import { access, errorResponses, typed, type Services } from '../context.js';
import { artifactJson, attestationJson, trailComplianceJson, trailJson } from './record-json.js';

/** A trail's links as `get trail` shows them: `external_urls`, and `external_fingerprints` when it has any. */
async function links(services: Services, org: Parameters<Services['trails']['externalLinks']>[0], trail: Parameters<Services['trails']['externalLinks']>[1]) {
  const { urls, fingerprints } = await services.trails.externalLinks(org, trail);
  return { external_urls: urls, ...(Object.keys(fingerprints).length ? { external_fingerprints: fingerprints } : {}) };
}

export function trailRoutes(services: Services) {
  return async (fastify: FastifyInstance) => {
    const app = typed(fastify);
    app.post(
      '/api/v1/orgs/:org/flows/:flow/trails',
      { schema: { tags: ['trails'], summary: 'Begin a trail, or update the one of that name (Kosli\'s begin trail): 201 begun, 200 updated (one log entry) or unchanged (none)', params: rs.FlowParams, body: rs.TrailCreate, response: { 200: rs.Trail, 201: rs.Trail, ...errorResponses, 409: schemas.ErrorBody } } },
      async (request, reply) => {
        const org = await access(services, request, 'write', request.params.org);
        const b = request.body;
        const { trail, outcome } = await services.trails.beginOrUpdate(org, {
          flow: request.params.flow, name: b.name, description: b.description, gitCommit: b.git_commit, commitUrl: b.commit_url,
          originUrl: b.origin_url, userData: b.user_data, template: b.template, externalUrls: b.external_urls, externalFingerprints: b.external_fingerprints,
        });
        void reply.status(outcome === 'created' ? 201 : 200);
        return trailJson(trail, request.params.flow);
      },
    );
    app.get(
      '/api/v1/orgs/:org/flows/:flow/trails',
      { schema: { tags: ['trails'], summary: 'List the trails of a flow, oldest first, each with its compliance', params: rs.FlowParams, querystring: schemas.PageQuery, response: { 200: rs.TrailPage, ...errorResponses } } },
      async (request) => {
        const org = await access(services, request, 'read', request.params.org);
        const page = await services.trails.list(org, request.params.flow, request.query.cursor ?? null, request.query.limit ?? 100);
        const states = await services.trails.complianceStates(org, request.params.flow, page.items);
        return { items: page.items.map((t) => ({ ...trailJson(t, request.params.flow), compliance: states.get(t.id) })), next_cursor: page.nextCursor };
      },
    );
    app.get(
      '/api/v1/orgs/:org/flows/:flow/trails/:trail',
      { schema: { tags: ['trails'], summary: 'One trail with its artifacts, its compliance against the template it began with, and one page of its attestations (oldest first; pass next_cursor back as cursor)', params: rs.TrailParams, querystring: schemas.PageQuery, response: { 200: rs.TrailDetail, ...errorResponses } } },
      async (request) => {
        const org = await access(services, request, 'read', request.params.org);
        const { flow, trail } = await services.trails.get(org, request.params.flow, request.params.trail);
        // The page's rows, each shown field checked against its log entry; the compliance kept from checked rows (services/records/trails.ts).
        const page = await services.trails.page(org, flow.name, trail, request.query.cursor ?? null, request.query.limit ?? 100);
        return {
          ...trailJson(trail, flow.name),
          ...(await links(services, org, trail)),
          artifacts: page.artifacts.map((a) => artifactJson(a, flow.name, trail.name)),
          attestations: page.attestations.map((a) => attestationJson(a, flow.name, trail.name)),
          compliance: trailComplianceJson(page.compliance),
          attestation_count: page.attestationCount,
          next_cursor: page.nextCursor,
        };
      },
    );
  };
}
