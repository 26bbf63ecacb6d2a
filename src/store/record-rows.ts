import type { Selectable } from 'kysely';
import { canonicalJson } from '../formats/index.js';
import type { ArtifactsTable, AttestationsTable, FlowsTable, TrailsTable } from './schema.js';
import type { ArtifactRecord, AttestationRecord, EvidenceRef, FlowRecord, TrailRecord } from './types.js';

// Rows of the record tables as records: the one place column names become field names.

export const json = (v: unknown): string | null => (v === null || v === undefined ? null : canonicalJson(v));
export const parse = (s: string | null): unknown => (s === null ? null : JSON.parse(s));

export function toFlow(r: Selectable<FlowsTable>): FlowRecord {
  return {
    id: r.id, orgId: r.org_id, name: r.name, description: r.description, template: r.template,
    createdAt: r.created_at, archivedAt: r.archived_at, entryIndex: Number(r.entry_index),
    tags: r.tags ? (JSON.parse(r.tags) as Record<string, string>) : {},
  };
}

export function toTrail(r: Selectable<TrailsTable>): TrailRecord {
  return {
    id: r.id, orgId: r.org_id, flowId: r.flow_id, name: r.name, description: r.description, gitCommit: r.git_commit,
    commitUrl: r.commit_url, originUrl: r.origin_url, userData: parse(r.user_data), template: r.template,
    createdAt: r.created_at, entryIndex: Number(r.entry_index),
  };
}

export function toArtifact(r: Selectable<ArtifactsTable>): ArtifactRecord {
  return {
    id: r.id, orgId: r.org_id, flowId: r.flow_id, trailId: r.trail_id, fingerprint: r.fingerprint, name: r.name,
    displayName: r.display_name, gitCommit: r.git_commit, commitUrl: r.commit_url, buildUrl: r.build_url,
    annotations: parse(r.annotations) as Record<string, string> | null, commitTime: r.commit_time ?? null,
    createdAt: r.created_at, entryIndex: Number(r.entry_index),
  };
}

export function toAttestation(r: Selectable<AttestationsTable>): AttestationRecord {
  return {
    id: r.id, orgId: r.org_id, flowId: r.flow_id, trailId: r.trail_id, name: r.name, type: r.type,
    artifactFingerprint: r.artifact_fingerprint, artifactName: r.artifact_name, gitCommit: r.git_commit,
    compliant: r.compliant === 1, summary: parse(r.summary), description: r.description, userData: parse(r.user_data),
    annotations: parse(r.annotations) as Record<string, string> | null, evidence: (parse(r.evidence) ?? []) as EvidenceRef[],
    createdAt: r.created_at, entryIndex: Number(r.entry_index),
  };
}

