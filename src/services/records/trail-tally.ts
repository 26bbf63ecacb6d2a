import { evaluateTrail, type RecordedAttestation, type TrailCompliance } from '../../formats/index.js';
import { templateOf } from './templates.js';

// A trail's compliance kept up to date one record at a time (issue #21): what `complianceOfTrail`
// (trail-compliance.ts) computes from every row of the trail, from a summary whose size is the number of
// distinct attestation names and artifacts, not the number of attestations. The evaluator (formats/compliance.ts)
// only ever looks at the last attestation of each name per target (the trail, or one artifact), listed in order
// of the name's first appearance; this keeps exactly that, so the two agree on any sequence of records
// (test/services/trail-tally.test.ts compares them on arbitrary sequences).

/** What of an `attestation.reported` entry (or its checked row) compliance depends on. */
export interface TallyAttestation {
  entryIndex: number;
  name: string;
  type: string;
  compliant: boolean;
  artifactFingerprint: string | null;
  artifactName: string | null;
}

/** What of an `artifact.reported` entry (or its checked row) compliance depends on. */
export interface TallyArtifact {
  entryIndex: number;
  name: string;
  fingerprint: string;
}

/** Per attestation name on one target: where the name first appeared, and its latest attestation. */
interface Named {
  first: number;
  at: number;
  latest: RecordedAttestation;
}

type ByName = Map<string, Named>;

function note(map: ByName, a: TallyAttestation): void {
  const latest = { id: String(a.entryIndex), name: a.name, type: a.type, compliant: a.compliant };
  const known = map.get(a.name);
  if (known) {
    known.at = a.entryIndex;
    known.latest = latest;
  } else {
    map.set(a.name, { first: a.entryIndex, at: a.entryIndex, latest });
  }
}

/** The latest of each name, in order of first appearance (a Map keeps the order names were first set). */
const listOf = (map: ByName | undefined): RecordedAttestation[] => (map ? [...map.values()].map((n) => n.latest) : []);

/** An artifact's attestations: those bound by its fingerprint and those naming it, merged as one recording-ordered list would be. */
function merged(byFingerprint: ByName | undefined, byName: ByName | undefined): RecordedAttestation[] {
  if (!byName || byName.size === 0) return listOf(byFingerprint);
  if (!byFingerprint || byFingerprint.size === 0) return listOf(byName);
  const out = new Map<string, Named>();
  for (const source of [byFingerprint, byName]) {
    for (const [name, n] of source) {
      const seen = out.get(name);
      if (!seen) out.set(name, { ...n });
      else out.set(name, { first: Math.min(seen.first, n.first), at: Math.max(seen.at, n.at), latest: n.at > seen.at ? n.latest : seen.latest });
    }
  }
  return [...out.values()].sort((a, b) => a.first - b.first).map((n) => n.latest);
}

/**
 * One trail's records folded in recording (entry index) order. `compliance()` needs the trail's template
 * parsed first (prepareTemplates), as `complianceOfTrail` does.
 */
export class TrailTally {
  private readonly own: ByName = new Map();
  private readonly byFingerprint = new Map<string, ByName>();
  private readonly byArtifactName = new Map<string, ByName>();
  private readonly artifactList: TallyArtifact[] = [];
  /** Every attestation type recorded in the trail (`list flows --missing-attestation-type`). */
  readonly types = new Set<string>();
  attestations = 0;
  private memo: TrailCompliance | null = null;

  constructor(readonly template: string | null) {}

  get artifacts(): number {
    return this.artifactList.length;
  }

  addAttestation(a: TallyAttestation): void {
    this.memo = null;
    this.attestations++;
    this.types.add(a.type);
    // The rule of `isAbout`: bound by fingerprint, or by the artifact's name; a trail's own has neither.
    if (a.artifactFingerprint === null && a.artifactName === null) note(this.own, a);
    if (a.artifactFingerprint !== null) note(bucket(this.byFingerprint, a.artifactFingerprint), a);
    if (a.artifactName !== null) note(bucket(this.byArtifactName, a.artifactName), a);
  }

  addArtifact(a: TallyArtifact): void {
    this.memo = null;
    this.artifactList.push(a);
  }

  compliance(): TrailCompliance {
    this.memo ??= evaluateTrail(templateOf(this.template), {
      attestations: listOf(this.own),
      artifacts: this.artifactList.map((art) => ({
        name: art.name, fingerprint: art.fingerprint, attestations: merged(this.byFingerprint.get(art.fingerprint), this.byArtifactName.get(art.name)),
      })),
    });
    return this.memo;
  }
}

function bucket(map: Map<string, ByName>, key: string): ByName {
  let b = map.get(key);
  if (!b) map.set(key, (b = new Map()));
  return b;
}
