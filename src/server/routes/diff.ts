import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { schemas } from '../../client/index.js';
import { access, errorResponses, typed, type Services } from '../context.js';
import { snapshotJson } from './environments.js';

type Running = Awaited<ReturnType<typeof snapshotJson>>['artifacts'][number];

/** The artifact fields of Kosli's `diff snapshots` JSON, which users' scripts already read. */
function kosliArtifact(a: Running) {
  return { name: a.name, fingerprint: a.fingerprint, flow: a.flow, commit_url: a.commit_url, instance_count: a.instances, most_recent_timestamp: a.running_since };
}

/** `evident diff snapshots A B`: A and B may be snapshots of different environments. Linear in the artifacts. */
export function diffRoutes(services: Services) {
  return async (fastify: FastifyInstance) => {
    const app = typed(fastify);
    app.get(
      '/api/v1/orgs/:org/diff/snapshots',
      {
        schema: {
          tags: ['environments'], summary: 'Only in A, only in B, changed instance counts and unchanged, between two snapshots',
          params: schemas.OrgParams, querystring: Type.Object({ a: Type.String({ maxLength: 200 }), b: Type.String({ maxLength: 200 }) }),
          response: { 200: Type.Record(Type.String(), Type.Unknown()), ...errorResponses },
        },
      },
      async (request) => {
        const org = await access(services, request, 'read', request.params.org);
        const [a, b] = await Promise.all([request.query.a, request.query.b].map(async (expr) => snapshotJson(services.store, org, await services.environments.snapshot(org, expr))));
        const inB = new Map(b!.artifacts.map((x) => [x.fingerprint, x]));
        const inA = new Map(a!.artifacts.map((x) => [x.fingerprint, x]));
        const changed = [];
        const same = [];
        for (const x of a!.artifacts) {
          const y = inB.get(x.fingerprint);
          if (!y) continue;
          if (x.instances !== y.instances) changed.push({ ...kosliArtifact(y), instance_count_1: x.instances, instance_count_2: y.instances });
          else same.push(kosliArtifact(y));
        }
        const id = (s: typeof a) => (s!.index === null ? s!.environment : `${s!.environment}#${s!.index}`);
        return {
          snappish1: { snapshot_id: id(a), artifacts: a!.artifacts.filter((x) => !inB.has(x.fingerprint)).map(kosliArtifact) },
          snappish2: { snapshot_id: id(b), artifacts: b!.artifacts.filter((x) => !inA.has(x.fingerprint)).map(kosliArtifact) },
          changed: { artifacts: changed },
          'not-changed': { artifacts: same },
        };
      },
    );
  };
}
