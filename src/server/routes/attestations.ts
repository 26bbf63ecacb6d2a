import type { FastifyInstance } from 'fastify';
import { recordSchemas as rs } from '../../client/index.js';
import { access, errorResponses, typed, type Services } from '../context.js';
import { attestationJson } from './record-json.js';

/** Attestations about a trail or an artifact, one route per type (each write is one log entry). */
export function attestationRoutes(services: Services) {
  return async (fastify: FastifyInstance) => {
    const app = typed(fastify);
    app.post(
      '/api/v1/orgs/:org/flows/:flow/trails/:trail/attestations/generic',
      { schema: { tags: ['attestations'], summary: 'Report a generic attestation: compliant true or false (one log entry)', params: rs.TrailParams, body: rs.GenericAttestationCreate, response: { 201: rs.Attestation, ...errorResponses } } },
      async (request, reply) => {
        const org = await access(services, request, 'write', request.params.org);
        const { flow, trail } = request.params;
        const b = request.body;
        const att = await services.attestations.generic(org, {
          flow, trail, name: b.name, compliant: b.compliant, fingerprint: b.fingerprint, gitCommit: b.git_commit,
          description: b.description, userData: b.user_data, annotations: b.annotations, evidence: b.evidence,
        });
        void reply.status(201);
        return attestationJson(att, flow, trail);
      },
    );
    app.post(
      '/api/v1/orgs/:org/flows/:flow/trails/:trail/attestations/approval',
      { schema: { tags: ['attestations'], summary: 'Record an approval: approved or rejected, by whom (default: the token)', params: rs.TrailParams, body: rs.ApprovalCreate, response: { 201: rs.Attestation, ...errorResponses } } },
      async (request, reply) => {
        const org = await access(services, request, 'write', request.params.org);
        const { flow, trail } = request.params;
        const b = request.body;
        const principal = request.principal!;
        const att = await services.attestations.approval(org, {
          flow, trail, name: b.name, decision: b.decision, approver: b.approver, comment: b.comment, fingerprint: b.fingerprint,
          gitCommit: b.git_commit, description: b.description, userData: b.user_data, annotations: b.annotations, evidence: b.evidence,
        }, `token ${principal.tokenName} (${principal.tokenId})`);
        void reply.status(201);
        return attestationJson(att, flow, trail);
      },
    );
    app.post(
      '/api/v1/orgs/:org/flows/:flow/trails/:trail/attestations/pull_request',
      { schema: { tags: ['attestations'], summary: 'Record the pull/merge requests containing a commit: compliant iff at least one', params: rs.TrailParams, body: rs.PullRequestCreate, response: { 201: rs.Attestation, ...errorResponses } } },
      async (request, reply) => {
        const org = await access(services, request, 'write', request.params.org);
        const { flow, trail } = request.params;
        const b = request.body;
        const att = await services.attestations.pullRequest(org, {
          flow, trail, name: b.name, provider: b.provider, repository: b.repository, pullRequests: b.pull_requests, fingerprint: b.fingerprint,
          gitCommit: b.git_commit, description: b.description, userData: b.user_data, annotations: b.annotations, evidence: b.evidence,
        });
        void reply.status(201);
        return attestationJson(att, flow, trail);
      },
    );
    app.post(
      '/api/v1/orgs/:org/flows/:flow/trails/:trail/attestations/custom',
      { schema: { tags: ['attestations'], summary: "A custom attestation: data checked by the server against its type's JSON Schema and jq rules", params: rs.TrailParams, body: rs.CustomAttestationCreate, response: { 201: rs.Attestation, ...errorResponses } } },
      async (request, reply) => {
        const org = await access(services, request, 'write', request.params.org);
        const { flow, trail } = request.params;
        const b = request.body;
        const att = await services.attestations.custom(org, {
          flow, trail, name: b.name, type: b.type, data: b.data, fingerprint: b.fingerprint, gitCommit: b.git_commit,
          description: b.description, userData: b.user_data, annotations: b.annotations, evidence: b.evidence,
        }, services.attestationTypes);
        void reply.status(201);
        return attestationJson(att, flow, trail);
      },
    );
    const reportInput = (b: rs.JUnitCreate, flow: string, trail: string) => ({
      flow, trail, name: b.name, reports: b.reports, fingerprint: b.fingerprint, gitCommit: b.git_commit, description: b.description,
      userData: b.user_data, annotations: b.annotations, evidence: b.evidence,
    });
    app.post(
      '/api/v1/orgs/:org/flows/:flow/trails/:trail/attestations/junit',
      { schema: { tags: ['attestations'], summary: 'JUnit XML test results, parsed by the server from the uploaded files: compliant iff no failures and no errors', params: rs.TrailParams, body: rs.JUnitCreate, response: { 201: rs.Attestation, ...errorResponses } } },
      async (request, reply) => {
        const org = await access(services, request, 'write', request.params.org);
        const { flow, trail } = request.params;
        const att = await services.evidenceAttestations.junit(org, reportInput(request.body, flow, trail));
        void reply.status(201);
        return attestationJson(att, flow, trail);
      },
    );
    app.post(
      '/api/v1/orgs/:org/flows/:flow/trails/:trail/attestations/provenance',
      { schema: { tags: ['attestations'], summary: 'SLSA provenance (DSSE envelope or in-toto statement, uploaded first), checked by the server and recorded for each artifact it is about', params: rs.TrailParams, body: rs.ProvenanceCreate, response: { 201: rs.ProvenanceAttestations, ...errorResponses } } },
      async (request, reply) => {
        const org = await access(services, request, 'write', request.params.org);
        const { flow, trail } = request.params;
        const b = request.body;
        const atts = await services.evidenceAttestations.provenance(org, {
          flow, trail, name: b.name, envelope: b.envelope, fingerprint: b.fingerprint, gitCommit: b.git_commit, description: b.description,
          userData: b.user_data, annotations: b.annotations, evidence: b.evidence,
        });
        void reply.status(201);
        return { attestations: atts.map((a) => attestationJson(a, flow, trail)) };
      },
    );
    for (const type of ['sarif', 'snyk'] as const) {
      app.post(
        `/api/v1/orgs/:org/flows/:flow/trails/:trail/attestations/${type}`,
        { schema: { tags: ['attestations'], summary: `SARIF 2.1.0 scan results${type === 'snyk' ? ' from Snyk' : ' from any scanner'}, parsed by the server: compliant per the threshold`, params: rs.TrailParams, body: rs.SarifCreate, response: { 201: rs.Attestation, ...errorResponses } } },
        async (request, reply) => {
          const org = await access(services, request, 'write', request.params.org);
          const { flow, trail } = request.params;
          const att = await services.evidenceAttestations.sarif(org, type, { ...reportInput(request.body, flow, trail), threshold: request.body.threshold });
          void reply.status(201);
          return attestationJson(att, flow, trail);
        },
      );
    }
  };
}
