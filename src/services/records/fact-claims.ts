import type { AllowanceRecord, ArtifactRecord, AttestationRecord, FactSources, PolicyAttachmentRecord, PolicyRecord, TrailRecord } from '../../store/index.js';
import type { RowClaim } from './projection-check.js';

/** A trail row comes from its `trail.begun` entry, or from the latest `trail.updated` (a repeated `begin trail`). */
const TRAIL_ENTRIES = ['trail.begun', 'trail.updated'];

// What each projection row a decision reads must equal in its log entry (projection-check.ts), by table. The
// entry field names are those the services log (artifacts.ts, attestations.ts, trails.ts, policies.ts...).

/**
 * Every row compliance facts are made of: the reports, the flows (only the name: a flow's row moves forward
 * with `flow.*` entries, see migration 0014), the trails with the template they are judged by, the
 * attestations with the fields the evaluation reads, and the trails' contents. Rows are tied to each other
 * by name (flow, trail), so a row moved to another trail by its id is caught too.
 */
export function factSourceClaims(sources: FactSources): RowClaim[] {
  const flowName = new Map(sources.flows.map((f) => [f.id, f.name]));
  const trailOf = new Map(sources.trails.map((t) => [t.id, { flow: flowName.get(t.flowId) ?? null, trail: t.name }]));
  const claims: RowClaim[] = [];
  for (const f of sources.flows) claims.push({ table: 'flows', entryIndex: f.entryIndex, types: ['flow.'], fields: { flow: f.name } });
  for (const t of sources.trails) {
    claims.push({ table: 'trails', entryIndex: t.entryIndex, types: TRAIL_ENTRIES, fields: { flow: flowName.get(t.flowId) ?? null, trail: t.name, template: t.template } });
  }
  const reports = new Map([...sources.reports.values(), ...sources.reported].map((r) => [r.artifact.id, r]));
  for (const { artifact: a, flow } of reports.values()) {
    claims.push({
      table: 'artifacts', entryIndex: a.entryIndex, types: ['artifact.reported'],
      fields: { flow, trail: trailOf.get(a.trailId)?.trail ?? null, artifact: a.name, fingerprint: a.fingerprint },
    });
  }
  for (const a of sources.artifacts) {
    claims.push({ table: 'artifacts', entryIndex: a.entryIndex, types: ['artifact.reported'], fields: { ...trailOf.get(a.trailId), artifact: a.name, fingerprint: a.fingerprint } });
  }
  for (const x of sources.attestations) {
    claims.push({
      table: 'attestations', entryIndex: x.entryIndex, types: ['attestation.reported'],
      fields: {
        ...(trailOf.get(x.trailId) ?? { flow: flowName.get(x.flowId) ?? null, trail: null }), attestation: x.name, attestation_type: x.type,
        artifact_name: x.artifactName, artifact_fingerprint: x.artifactFingerprint, git_commit: x.gitCommit, compliant: x.compliant,
      },
    });
  }
  return claims;
}

/** A policy version: what it is judged by is its source (and digest); the version number is ordered by the triggers. */
export function policyClaim(p: PolicyRecord): RowClaim {
  return { table: 'policies', entryIndex: p.entryIndex, types: ['policy.created'], fields: { policy: p.name, digest: p.digest, source: p.source, description: p.description } };
}

export function attachmentClaim(environment: string, a: PolicyAttachmentRecord): RowClaim {
  return a.action === 'attach'
    ? { table: 'policy_attachments', entryIndex: a.entryIndex, types: ['policy.attached'], fields: { environment, policy: a.policyName, version: a.policyVersion } }
    : { table: 'policy_attachments', entryIndex: a.entryIndex, types: ['policy.detached'], fields: { environment, policy: a.policyName } };
}

export function allowanceClaim(environment: string, a: AllowanceRecord): RowClaim {
  return { table: 'allowances', entryIndex: a.entryIndex, types: ['artifact.allowed'], fields: { environment, fingerprint: a.fingerprint, reason: a.reason, allowed_by: a.createdBy } };
}

/**
 * A trail shown with its compliance (`get trail`, `get artifact`, `list flows`): the trail, its artifacts and
 * attestations. With `shown`, also every field a page prints as fact — an attestation's summary (the PRs, test
 * results, findings, approver), description, user data, annotations and evidence; a trail's commit, URLs and
 * description; an artifact's commit and URLs — so what the web UI shows is what the log says.
 */
export function trailContentClaims(flow: string, trail: TrailRecord, artifacts: readonly ArtifactRecord[], attestations: readonly AttestationRecord[], shown = false): RowClaim[] {
  const at = { flow, trail: trail.name };
  const trailShown = shown ? { description: trail.description, git_commit: trail.gitCommit, commit_url: trail.commitUrl, origin_url: trail.originUrl, user_data: trail.userData } : {};
  return [
    { table: 'trails', entryIndex: trail.entryIndex, types: TRAIL_ENTRIES, fields: { ...at, template: trail.template, ...trailShown } },
    ...artifacts.map((a) => ({
      table: 'artifacts', entryIndex: a.entryIndex, types: ['artifact.reported'],
      fields: { ...at, artifact: a.name, fingerprint: a.fingerprint, ...(shown ? { git_commit: a.gitCommit, commit_url: a.commitUrl, build_url: a.buildUrl, annotations: a.annotations } : {}) },
    })),
    ...attestations.map((x) => ({
      table: 'attestations', entryIndex: x.entryIndex, types: ['attestation.reported'],
      fields: {
        ...at, attestation: x.name, attestation_type: x.type, artifact_name: x.artifactName, artifact_fingerprint: x.artifactFingerprint, compliant: x.compliant,
        ...(shown ? { summary: x.summary, description: x.description, user_data: x.userData, annotations: x.annotations, evidence: x.evidence, git_commit: x.gitCommit } : {}),
      },
    })),
  ];
}
