import { evaluateTrail, type ComplianceState, type FlowTemplate, type PolicyArtifactInput, type PolicyDecision, type RecordedAttestation } from '../../formats/index.js';
import type { AttestationRecord, FactSources } from '../../store/index.js';

// Compliance facts made from the rows the store reads in bulk (FactSources): now, or as the records stood at
// a log entry (`asOf`: only what was recorded at or before it counts — a deployment judged as it started).

export interface ArtifactFacts {
  fingerprint: string;
  /** Null when no flow ever reported the fingerprint (no provenance). */
  flow: string | null;
  trail: string | null;
  input: PolicyArtifactInput['artifact'];
  flowContext: PolicyArtifactInput['flow'];
  /** A number unique to this load of the facts: a new one after every change. */
  version: number;
  /** Log entry index of each attestation the facts name (by id): a verification summary's inputs. */
  entries: Map<string, number>;
  /** Decisions by policy version id. */
  decisions: Map<number, PolicyDecision>;
}

let nextVersion = 1;

function recorded(a: AttestationRecord): RecordedAttestation {
  return { id: String(a.id), name: a.name, type: a.type, compliant: a.compliant };
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * The facts of each artifact from `sources` (which must cover their fingerprints). With `asOf`, rows logged after
 * that entry are left out: the latest report then, the attestations and trail contents then. Flows' tags are
 * the current ones (a tag describes the flow, it is not evidence). `template` parses a trail's template text.
 * `provenanceAttested`: fingerprints never reported in a flow but bound to a provenance attestation.
 */
export function factsFromSources(
  sources: FactSources, artifacts: readonly { name: string; fingerprint: string }[], template: (text: string | null) => FlowTemplate, asOf?: number,
  provenanceAttested?: ReadonlySet<string>,
): ArtifactFacts[] {
  const visible = (x: { entryIndex: number }) => asOf === undefined || x.entryIndex <= asOf;
  let reports = sources.reports;
  if (asOf !== undefined) {
    // The sources may cover more fingerprints (and more entries) than asked about: only these, as they were then.
    const asked = new Set(artifacts.map((a) => a.fingerprint));
    reports = new Map();
    for (const r of sources.reported) if (asked.has(r.artifact.fingerprint) && visible(r.artifact)) reports.set(r.artifact.fingerprint, r);
  }
  const wanted = new Set(artifacts.map((a) => reports.get(a.fingerprint)?.artifact.trailId).filter((t): t is number => t !== undefined));
  const flowById = new Map(sources.flows.map((f) => [f.id, f]));
  const byTrail = new Map<number, AttestationRecord[]>();
  for (const a of sources.attestations) if (wanted.has(a.trailId) && visible(a)) push(byTrail, a.trailId, a);
  const artifactsByTrail = new Map<number, { name: string; fingerprint: string }[]>();
  for (const a of sources.artifacts) if (wanted.has(a.trailId) && visible(a)) push(artifactsByTrail, a.trailId, a);
  const states = new Map<number, ComplianceState>();
  const trails = sources.trails.filter((t) => wanted.has(t.id));
  for (const t of trails) states.set(t.id, trailState(template(t.template), byTrail.get(t.id) ?? [], artifactsByTrail.get(t.id) ?? []));
  const trailName = new Map(trails.map((t) => [t.id, t.name]));
  return artifacts.map((a) => {
    const report = reports.get(a.fingerprint);
    const version = nextVersion++;
    if (!report) {
      return {
        fingerprint: a.fingerprint, flow: null, trail: null, version, decisions: new Map(), entries: new Map(), flowContext: null,
        input: { name: a.name, fingerprint: a.fingerprint, hasProvenance: provenanceAttested?.has(a.fingerprint) ?? false, trailCompliance: null, attestations: [], trailAttestations: [] },
      };
    }
    const r = report.artifact;
    const inTrail = byTrail.get(r.trailId) ?? [];
    const own = inTrail.filter((x) => x.artifactFingerprint === r.fingerprint || (x.artifactFingerprint === null && x.artifactName === r.name));
    const ofTrail = inTrail.filter((x) => x.artifactFingerprint === null && x.artifactName === null);
    const flow = flowById.get(r.flowId);
    return {
      fingerprint: a.fingerprint, flow: report.flow, trail: trailName.get(r.trailId) ?? null, version, decisions: new Map(),
      entries: new Map([...own, ...ofTrail].map((x) => [String(x.id), x.entryIndex])),
      flowContext: { name: report.flow, tags: flow?.tags ?? {} },
      input: {
        name: a.name, fingerprint: a.fingerprint, hasProvenance: true, trailCompliance: states.get(r.trailId) ?? null,
        attestations: own.map(recorded), trailAttestations: ofTrail.map(recorded),
      },
    };
  });
}

/**
 * The state of a trail against the template it began with (formats' evaluateTrail: COMPLIANT, NON-COMPLIANT
 * or INCOMPLETE), computed here from rows read in bulk rather than one trail at a time.
 */
function trailState(template: FlowTemplate, attestations: AttestationRecord[], artifacts: { name: string; fingerprint: string }[]): ComplianceState {
  const trailOwn = attestations.filter((a) => a.artifactFingerprint === null && a.artifactName === null).map(recorded);
  return evaluateTrail(template, {
    attestations: trailOwn,
    artifacts: artifacts.map((art) => ({
      name: art.name, fingerprint: art.fingerprint,
      attestations: attestations.filter((a) => a.artifactFingerprint === art.fingerprint || (a.artifactFingerprint === null && a.artifactName === art.name)).map(recorded),
    })),
  }).state;
}
