import { mergeTags } from './flow-tags.js';
import type { ArtifactRecord, AttestationRecord, FactSources, FlowRecord, TrailRecord } from '../../store/index.js';

// The facts of a decision rebuilt from log entries alone (their canonical JSON, as logged by artifacts.ts,
// attestations.ts, trails.ts), in the shape the store's bulk read has (FactSources), so that the very code
// the server decides with (compliance-sources.ts factsFromSources) recomputes the decision offline.
// Row ids are the entries' indexes: the order of records is their log order, as the rows' ids are.

export interface LoggedEntry {
  index: number;
  body: Record<string, unknown>;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export interface RebuiltSources {
  sources: FactSources;
  /** `flow/trail` of artifact.reported entries whose trail.begun or trail.updated entry (the template) is not among the entries. */
  trailsMissing: string[];
  /** Fingerprints bound to a provenance attestation (provenance for artifacts never reported in a flow). */
  provenanceAttested: Set<string>;
}

export function sourcesFromEntries(entries: readonly LoggedEntry[]): RebuiltSources {
  const sorted = [...entries].sort((a, b) => a.index - b.index);
  const flows = new Map<string, FlowRecord>();
  const flowId = (name: string): number => {
    let f = flows.get(name);
    if (!f) {
      f = { id: flows.size + 1, orgId: 0, name, description: '', template: null, createdAt: '', archivedAt: null, entryIndex: -1, tags: {} };
      flows.set(name, f);
    }
    return f.id;
  };
  const trails = new Map<string, TrailRecord>();
  const trailIds = new Map<string, number>();
  const trailId = (flow: string, trail: string): number => {
    const key = `${flow}/${trail}`;
    let id = trailIds.get(key);
    if (id === undefined) trailIds.set(key, (id = trailIds.size + 1));
    return id;
  };
  const reported: { artifact: ArtifactRecord; flow: string }[] = [];
  const attestations: AttestationRecord[] = [];
  const used = new Set<string>();
  const provenanceAttested = new Set<string>();
  for (const { index, body } of sorted) {
    const flow = str(body.flow);
    const trail = str(body.trail);
    if (flow !== null && body.type === 'flow.tagged') {
      // A flow's tags are the replay of its flow.tagged entries, in log order (flows.ts tag()).
      flowId(flow);
      const f = flows.get(flow)!;
      f.tags = mergeTags(f.tags, tagChange(body));
      continue;
    }
    if (flow === null || trail === null) continue;
    const fId = flowId(flow);
    const tId = trailId(flow, trail);
    if (body.type === 'trail.begun' || body.type === 'trail.updated') {
      trails.set(`${flow}/${trail}`, {
        id: tId, orgId: 0, flowId: fId, name: trail, description: '', gitCommit: null, commitUrl: null, originUrl: null, userData: null,
        template: str(body.template), createdAt: str(body.time) ?? '', entryIndex: index,
      });
    } else if (body.type === 'artifact.reported') {
      used.add(`${flow}/${trail}`);
      reported.push({
        flow,
        artifact: {
          id: index, orgId: 0, flowId: fId, trailId: tId, fingerprint: String(body.fingerprint), name: String(body.artifact), displayName: String(body.display_name ?? body.artifact),
          gitCommit: str(body.git_commit), commitUrl: null, buildUrl: null, annotations: null, commitTime: null, createdAt: str(body.time) ?? '', entryIndex: index,
        },
      });
    } else if (body.type === 'attestation.reported') {
      if (body.attestation_type === 'provenance' && typeof body.artifact_fingerprint === 'string') provenanceAttested.add(body.artifact_fingerprint);
      attestations.push({
        id: index, orgId: 0, flowId: fId, trailId: tId, name: String(body.attestation), type: String(body.attestation_type),
        artifactFingerprint: str(body.artifact_fingerprint), artifactName: str(body.artifact_name), gitCommit: str(body.git_commit), compliant: body.compliant === true,
        summary: null, description: '', userData: null, annotations: null, evidence: [], createdAt: str(body.time) ?? '', entryIndex: index,
      });
    }
  }
  const reports = new Map<string, { artifact: ArtifactRecord; flow: string }>();
  for (const r of reported) reports.set(r.artifact.fingerprint, r);
  const contents = new Map<string, { trailId: number; name: string; fingerprint: string; entryIndex: number }>();
  for (const { artifact: a } of reported) {
    const key = `${a.trailId}\u0000${a.name}\u0000${a.fingerprint}`;
    if (!contents.has(key)) contents.set(key, { trailId: a.trailId, name: a.name, fingerprint: a.fingerprint, entryIndex: a.entryIndex });
  }
  return {
    sources: { reports, reported, flows: [...flows.values()], trails: [...trails.values()], attestations, artifacts: [...contents.values()] },
    trailsMissing: [...used].filter((t) => !trails.has(t)).sort(),
    provenanceAttested,
  };
}

function tagChange(body: Record<string, unknown>): { set: Record<string, string>; unset: string[] } {
  const set: Record<string, string> = {};
  if (typeof body.set === 'object' && body.set !== null) {
    for (const [k, v] of Object.entries(body.set as Record<string, unknown>)) if (typeof v === 'string') set[k] = v;
  }
  const unset = Array.isArray(body.unset) ? body.unset.filter((k): k is string => typeof k === 'string') : [];
  return { set, unset };
}
