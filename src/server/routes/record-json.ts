import type { ArtifactCompliance, AttestationStatus, TrailCompliance } from '../../formats/index.js';
import type { ArtifactView, FlowSummary, SearchHit } from '../../services/index.js';
import type { ArtifactRecord, AttestationRecord, FlowRecord, TrailRecord } from '../../store/index.js';

/** Records as the API's JSON (client/record-schemas.ts): the one place field names are mapped. */
export function flowJson(f: FlowRecord) {
  return { name: f.name, description: f.description, template: f.template, created_at: f.createdAt, archived_at: f.archivedAt, entry_index: f.entryIndex, tags: f.tags };
}

export function trailJson(t: TrailRecord, flow: string) {
  return {
    name: t.name, flow, description: t.description, git_commit: t.gitCommit, commit_url: t.commitUrl, origin_url: t.originUrl,
    user_data: t.userData, template: t.template, created_at: t.createdAt, entry_index: t.entryIndex,
  };
}

export function artifactJson(a: ArtifactRecord, flow: string, trail: string) {
  return {
    name: a.name, display_name: a.displayName, fingerprint: a.fingerprint, flow, trail, git_commit: a.gitCommit, commit_url: a.commitUrl,
    build_url: a.buildUrl, annotations: a.annotations, commit_time: a.commitTime, created_at: a.createdAt, entry_index: a.entryIndex,
  };
}

export function attestationJson(a: AttestationRecord, flow: string, trail: string) {
  return {
    name: a.name, type: a.type, flow, trail, artifact_name: a.artifactName, artifact_fingerprint: a.artifactFingerprint, git_commit: a.gitCommit,
    compliant: a.compliant, summary: a.summary, description: a.description, user_data: a.userData, annotations: a.annotations,
    evidence: a.evidence, created_at: a.createdAt, entry_index: a.entryIndex,
  };
}

export function artifactDetailJson(v: ArtifactView) {
  return {
    ...artifactJson(v.artifact, v.flow.name, v.trail.name),
    state: v.state,
    compliance: complianceJson(v.compliance.state, v.compliance.attestations_statuses),
    attestations: v.attestations.map((a) => attestationJson(a, v.flow.name, v.trail.name)),
    related_attestations: v.related.map((r) => attestationJson(r.attestation, r.flow, r.trail)),
    history: v.history,
    running: v.running,
    exited: v.exited,
  };
}

/** `{state, attestations, unexpected}`: the template's requirements apart from what it did not ask for. */
function complianceJson(state: TrailCompliance['state'], statuses: readonly AttestationStatus[]) {
  return { state, attestations: statuses.filter((s) => !s.unexpected), unexpected: statuses.filter((s) => s.unexpected) };
}

export function trailComplianceJson(c: TrailCompliance) {
  return {
    ...complianceJson(c.state, c.attestations_statuses),
    artifacts: c.artifacts.map((a: ArtifactCompliance) => ({
      name: a.name, fingerprint: a.fingerprint, status: a.status, expected: !a.unexpected, ...complianceJson(a.state, a.attestations_statuses),
    })),
  };
}

export function flowSummaryJson(s: FlowSummary) {
  return {
    ...flowJson(s.flow),
    latest_trail: s.latestTrail?.name ?? null,
    last_deployment: s.lastDeployment && { environment: s.lastDeployment.environment, snapshot: s.lastDeployment.snapshot, at: s.lastDeployment.at },
    compliance: s.compliance,
  };
}

export function searchHitJson(h: SearchHit) {
  return {
    ...artifactJson(h.artifact, h.flow, h.trail),
    matched: h.matched,
    running: h.places.running.map((r) => ({ environment: r.environment, snapshot: r.snapshot, since: r.since, since_at: r.sinceAt, instances: r.instances })),
    exited: h.places.exited,
  };
}
