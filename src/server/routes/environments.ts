import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { environmentSchemas as es, schemas } from '../../client/index.js';
import { describeSnapshot, type DescribedSnapshot, type SnapshotCompliance, type SnapshotView } from '../../services/index.js';
import type { EnvironmentRecord, ExpectationRecord, OrgRecord, SnapshotRecord, Store } from '../../store/index.js';
import { access, errorResponses, typed, type Services } from '../context.js';

async function envJson(services: Services, org: OrgRecord, e: EnvironmentRecord, tags?: Map<string, Record<string, string>>, modifiedAt?: Map<string, string>) {
  const store = services.store;
  const latest = e.type === 'logical' ? undefined : await store.environments.latestSnapshot(e.id);
  // Tags are the replay of verified `environment.tagged` entries (services/records/tags.ts), never a column.
  const own = (tags ?? await services.tags.tags(org, 'environment', [e.name])).get(e.name) ?? {};
  // Kosli's last_modified_at: the latest entry about the environment itself (created, updated, tagged,
  // archived); last_changed_at: its latest snapshot (what runs there changed).
  const modified = modifiedAt?.get(e.name) ?? await services.tags.modifiedAt(org, 'environment', e.name, e.entryIndex);
  return {
    name: e.name, type: e.type, description: e.description, included_environments: e.included, include_scaling: e.includeScaling,
    created_at: e.createdAt, entry_index: e.entryIndex, latest_snapshot: latest?.index ?? null, archived_at: e.archivedAt,
    tags: own, last_modified_at: modified, last_changed_at: latest?.createdAt ?? null,
  };
}

/** Each running artifact with what the records know of it (its latest report in the org), read in bulk. */
export function snapshotJson(store: Store, org: OrgRecord, v: SnapshotView) {
  return describeSnapshot(store, org, v);
}

/** Adds each artifact's compliance with reasons, and the snapshot's, to a described snapshot. */
function withCompliance(d: DescribedSnapshot, c: SnapshotCompliance) {
  return {
    ...d, compliant: c.compliant, policies: c.policies,
    artifacts: d.artifacts.map((a) => {
      const r = c.artifacts.get(a.fingerprint);
      return r ? { ...a, compliance: { compliant: r.compliant, allowed: r.allowed, policies: r.policies } } : a;
    }),
  };
}

type Judged = Awaited<ReturnType<Services['compliance']['snapshotsOf']>> extends Map<number, infer J> ? J : never;

/** One artifact's verdict in a judged snapshot (null: not judged there). */
function verdictOf(j: Judged | undefined, fingerprint: string): 'compliant' | 'non-compliant' | 'allowed' | 'no-policy' | null {
  const r = j?.artifacts.get(fingerprint);
  if (!j || !r) return null;
  if (j.policies.length === 0) return 'no-policy';
  return r.allowed ? 'allowed' : r.compliant ? 'compliant' : 'non-compliant';
}

function snapshotVerdicts(s: SnapshotRecord, j: Judged | undefined) {
  const results = [...(j?.artifacts.values() ?? [])];
  const judged = j !== undefined && j.policies.length > 0;
  return {
    index: s.index, timestamp: s.createdAt, entry_index: s.entryIndex, policies: j?.policies ?? [],
    compliant: judged ? results.every((r) => r.compliant) : null,
    non_compliant: judged ? results.filter((r) => !r.compliant).map((r) => r.fingerprint) : [],
    allowed: judged ? results.filter((r) => r.allowed).map((r) => r.fingerprint) : [],
  };
}

export function environmentRoutes(services: Services) {
  return async (fastify: FastifyInstance) => {
    const app = typed(fastify);
    app.post(
      '/api/v1/orgs/:org/environments',
      { schema: { tags: ['environments'], summary: 'Create an environment, or update the one of that name (Kosli\'s create environment): 201 created, 200 updated (one log entry) or unchanged (none)', params: schemas.OrgParams, body: es.EnvironmentCreate, response: { 200: es.Environment, 201: es.Environment, ...errorResponses } } },
      async (request, reply) => {
        const org = await access(services, request, 'write', request.params.org);
        const b = request.body;
        const { environment: env, outcome } = await services.environments.createOrUpdate(org, { name: b.name, type: b.type, description: b.description, includedEnvironments: b.included_environments, includeScaling: b.include_scaling });
        void reply.status(outcome === 'created' ? 201 : 200);
        return envJson(services, org, env);
      },
    );
    app.get(
      '/api/v1/orgs/:org/environments',
      {
        schema: {
          tags: ['environments'], summary: 'Every environment, by name (archived ones with include_archived=true)', params: schemas.OrgParams,
          querystring: Type.Object({ include_archived: Type.Optional(Type.Boolean()) }), response: { 200: es.EnvironmentList, ...errorResponses },
        },
      },
      async (request) => {
        const org = await access(services, request, 'read', request.params.org);
        const envs = await services.environments.list(org, request.query.include_archived ?? false);
        const tags = await services.tags.tags(org, 'environment');
        const modified = await services.tags.modifiedAtMany(org, 'environment', envs.map((e) => ({ name: e.name, entryIndex: e.entryIndex })));
        return { items: await Promise.all(envs.map((e) => envJson(services, org, e, tags, modified))) };
      },
    );
    app.get(
      '/api/v1/orgs/:org/environments/:env',
      { schema: { tags: ['environments'], summary: 'One environment', params: es.EnvParams, response: { 200: es.Environment, ...errorResponses } } },
      async (request) => {
        const org = await access(services, request, 'read', request.params.org);
        const env = await services.environments.get(org, request.params.env);
        const view = await services.environments.snapshot(org, env.name);
        const compliance = await services.compliance.snapshot(org, view);
        return { ...(await envJson(services, org, env)), compliant: view.snapshot || env.type === 'logical' ? compliance.compliant : null, policies: compliance.policies };
      },
    );
    app.post(
      '/api/v1/orgs/:org/environments/:env/archive',
      { schema: { tags: ['environments'], summary: 'Archive an environment: it keeps its snapshots and takes no new reports', params: es.EnvParams, response: { 200: es.Environment, ...errorResponses } } },
      async (request) => {
        const org = await access(services, request, 'write', request.params.org);
        return envJson(services, org, await services.environments.archive(org, request.params.env));
      },
    );
    app.get(
      '/api/v1/orgs/:org/environments/:env/drift',
      { schema: { tags: ['environments'], summary: 'Expected versus running: the latest deployment expectation per flow against the latest snapshot', params: es.EnvParams, response: { 200: es.Drift, ...errorResponses } } },
      async (request) => {
        const org = await access(services, request, 'read', request.params.org);
        return services.drift.drift(org, request.params.env);
      },
    );
    app.put(
      '/api/v1/orgs/:org/environments/:env/snapshot',
      { schema: { tags: ['environments'], summary: "A reporter's full current state: a new snapshot only if it differs from the latest", params: es.EnvParams, body: es.SnapshotReport, response: { 200: es.SnapshotReported, ...errorResponses } } },
      async (request) => {
        const org = await access(services, request, 'write', request.params.org);
        const r = await services.environments.report(org, request.params.env, request.body.artifacts);
        return { created: r.created, index: r.snapshot?.index ?? null, entry_index: r.snapshot?.entryIndex ?? null };
      },
    );
    app.get(
      '/api/v1/orgs/:org/environments/:env/snapshots',
      { schema: { tags: ['environments'], summary: 'Snapshots of an environment, newest first', params: es.EnvParams, querystring: schemas.PageQuery, response: { 200: es.SnapshotPage, ...errorResponses } } },
      async (request) => {
        const org = await access(services, request, 'read', request.params.org);
        const { page } = await services.environments.snapshots(org, request.params.env, request.query.cursor ?? null, request.query.limit ?? 100);
        return { items: page.items.map((s) => ({ index: s.index, timestamp: s.createdAt, entry_index: s.entryIndex })), next_cursor: page.nextCursor };
      },
    );
    app.get(
      '/api/v1/orgs/:org/snapshots/:expr',
      {
        schema: {
          tags: ['environments'], summary: 'A snapshot: ENV, ENV#N, ENV~N, ENV@{ISO-8601} or ENV@{N.hours.ago}',
          params: Type.Object({ org: schemas.OrgParams.properties.org, expr: Type.String({ maxLength: 200 }) }), response: { 200: es.Snapshot, ...errorResponses },
        },
      },
      async (request) => {
        const org = await access(services, request, 'read', request.params.org);
        const view = await services.environments.snapshot(org, request.params.expr);
        const [described, compliance] = await Promise.all([snapshotJson(services.store, org, view), services.compliance.snapshot(org, view)]);
        return withCompliance(described, compliance);
      },
    );
    app.get(
      '/api/v1/orgs/:org/environments/:env/events',
      {
        schema: {
          tags: ['environments'], summary: 'What started, exited or scaled in each snapshot: pages of at most `limit` events (whole snapshots; one with more than `limit` events alone is split across pages, its last events first), newest page first, events oldest first within a page; a cursor this server did not issue is a 400',
          params: es.EnvParams, querystring: schemas.PageQuery, response: { 200: es.EnvironmentEvents, ...errorResponses },
        },
      },
      async (request) => {
        const org = await access(services, request, 'read', request.params.org);
        const page = await services.environments.eventPage(org, request.params.env, request.query.cursor ?? null, request.query.limit ?? 100);
        // Each snapshot's verdicts, as `get snapshot ENV#N` gives them, from the running sets checked above.
        const judged = await services.compliance.snapshotsOf(org, page.environment, page.snapshots);
        return { items: page.items.map((e) => ({ ...e, compliance: e.type === 'exited' ? null : verdictOf(judged.get(e.snapshot), e.fingerprint) })), next_cursor: page.nextCursor, snapshots: page.snapshots.map(({ snapshot }) => snapshotVerdicts(snapshot, judged.get(snapshot.index))) };
      },
    );
    const expectationJson = (x: ExpectationRecord) => ({
      environment: x.envName, number: x.number, fingerprint: x.fingerprint, description: x.description, created_at: x.createdAt, entry_index: x.entryIndex,
    });
    app.post(
      '/api/v1/orgs/:org/environments/:env/expectations',
      { schema: { tags: ['environments'], summary: 'Record that an artifact is being deployed to the environment (numbered per environment)', params: es.EnvParams, body: es.ExpectationCreate, response: { 201: es.Expectation, ...errorResponses } } },
      async (request, reply) => {
        const org = await access(services, request, 'write', request.params.org);
        const x = await services.environments.expect(org, request.params.env, request.body.fingerprint, request.body.description);
        void reply.status(201);
        return expectationJson(x);
      },
    );
    app.get(
      '/api/v1/orgs/:org/environments/:env/expectations',
      { schema: { tags: ['environments'], summary: 'Deployment expectations of the environment, oldest first', params: es.EnvParams, response: { 200: es.ExpectationList, ...errorResponses } } },
      async (request) => {
        const org = await access(services, request, 'read', request.params.org);
        return { items: (await services.environments.expectations(org, request.params.env)).map(expectationJson) };
      },
    );
  };
}
