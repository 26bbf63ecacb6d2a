import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { environmentSchemas as es, policySchemas as ps, schemas } from '../../client/index.js';
import type { AttachResult } from '../../services/index.js';
import type { AllowanceRecord, PolicyRecord } from '../../store/index.js';
import { access, errorResponses, typed, type Services } from '../context.js';

const policyJson = (p: PolicyRecord, extra: { created?: boolean; versions?: number } = {}) => ({
  name: p.name, version: p.version, description: p.description, digest: p.digest, definition: p.definition, source: p.source,
  created_at: p.createdAt, entry_index: p.entryIndex, ...extra,
});
const attachJson = (r: AttachResult) => ({ environment: r.environment, changed: r.changed, snapshot: r.snapshot?.index ?? null, policies: r.policies });
const allowanceJson = (environment: string, a: AllowanceRecord) => ({
  environment, fingerprint: a.fingerprint, reason: a.reason, allowed_by: a.createdBy, created_at: a.createdAt, entry_index: a.entryIndex,
});
const EnvPolicyParams = Type.Object({ org: es.EnvParams.properties.org, env: es.EnvParams.properties.env, policy: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$' }) });

/** Environment policies (immutable versions), their attachment to environments, and exemptions (issue #5). */
export function policyRoutes(services: Services) {
  return async (fastify: FastifyInstance) => {
    const app = typed(fastify);
    app.post(
      '/api/v1/orgs/:org/policies',
      {
        schema: {
          tags: ['policies'], summary: 'Create a policy, or its next version (identical source: no change); a malformed one is refused with line:column',
          params: schemas.OrgParams, body: ps.PolicyCreate, response: { 200: ps.Policy, 201: ps.Policy, ...errorResponses },
        },
      },
      async (request, reply) => {
        const org = await access(services, request, 'write', request.params.org);
        const { policy, created } = await services.policies.create(org, request.body);
        void reply.status(created ? 201 : 200);
        return policyJson(policy, { created });
      },
    );
    app.get(
      '/api/v1/orgs/:org/policies',
      { schema: { tags: ['policies'], summary: 'The latest version of every policy', params: schemas.OrgParams, response: { 200: ps.PolicyList, ...errorResponses } } },
      async (request) => {
        const org = await access(services, request, 'read', request.params.org);
        return { items: (await services.policies.list(org)).map((x) => policyJson(x.policy, { versions: x.versions })) };
      },
    );
    app.get(
      '/api/v1/orgs/:org/policies/:policy',
      { schema: { tags: ['policies'], summary: 'A policy: NAME (latest version) or NAME@VERSION', params: ps.PolicyParams, response: { 200: ps.Policy, ...errorResponses } } },
      async (request) => {
        const org = await access(services, request, 'read', request.params.org);
        return policyJson(await services.policies.get(org, request.params.policy));
      },
    );
    app.get(
      '/api/v1/orgs/:org/environments/:env/policies',
      { schema: { tags: ['policies'], summary: 'The policies attached to an environment now', params: es.EnvParams, response: { 200: ps.AttachedPolicies, ...errorResponses } } },
      async (request) => {
        const org = await access(services, request, 'read', request.params.org);
        const env = await services.environments.get(org, request.params.env);
        const policies = await services.policies.attachedAt(org, env, null);
        return { environment: env.name, policies: policies.map((p) => ({ name: p.name, version: p.version })) };
      },
    );
    app.post(
      '/api/v1/orgs/:org/environments/:env/policies',
      {
        schema: {
          tags: ['policies'], summary: 'Attach a policy (NAME or NAME@VERSION): one log entry and a new snapshot with the same artifacts',
          params: es.EnvParams, body: ps.PolicyAttach, response: { 200: ps.AttachResult, ...errorResponses },
        },
      },
      async (request) => {
        const org = await access(services, request, 'write', request.params.org);
        return attachJson(await services.policies.attach(org, request.params.env, request.body.policy));
      },
    );
    app.delete(
      '/api/v1/orgs/:org/environments/:env/policies/:policy',
      { schema: { tags: ['policies'], summary: 'Detach a policy: one log entry and a new snapshot with the same artifacts', params: EnvPolicyParams, response: { 200: ps.AttachResult, ...errorResponses } } },
      async (request) => {
        const org = await access(services, request, 'write', request.params.org);
        return attachJson(await services.policies.detach(org, request.params.env, request.params.policy));
      },
    );
    app.post(
      '/api/v1/orgs/:org/environments/:env/allowances',
      { schema: { tags: ['policies'], summary: 'Allow an artifact in an environment: compliant there whatever the policies say, with the reason (one log entry)', params: es.EnvParams, body: ps.AllowanceCreate, response: { 201: ps.Allowance, ...errorResponses } } },
      async (request, reply) => {
        const org = await access(services, request, 'write', request.params.org);
        const p = request.principal!;
        const a = await services.allowances.allow(org, request.params.env, request.body.fingerprint, request.body.reason, `token ${p.tokenName} (${p.tokenId})`);
        void reply.status(201);
        return allowanceJson(a.environment, a);
      },
    );
    app.get(
      '/api/v1/orgs/:org/environments/:env/allowances',
      { schema: { tags: ['policies'], summary: 'The artifacts allowed in an environment, oldest first', params: es.EnvParams, response: { 200: ps.AllowanceList, ...errorResponses } } },
      async (request) => {
        const org = await access(services, request, 'read', request.params.org);
        const env = await services.environments.get(org, request.params.env);
        return { items: (await services.allowances.list(org, env.name)).map((a) => allowanceJson(env.name, a)) };
      },
    );
  };
}
