import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { ArtifactRecord, AttestationRecord, TrailRecord } from '../../src/store/index.js';
import { complianceOfTrail } from '../../src/services/records/trail-compliance.js';
import { TrailTally } from '../../src/services/records/trail-tally.js';

// The incremental tally (src/services/records/trail-tally.ts) must say exactly what the from-scratch
// evaluation of every row says, for any sequence of artifacts and attestations and any template.

const FPS = ['a'.repeat(64), 'b'.repeat(64), 'c'.repeat(64)];
const NAMES = ['app', 'lib', 'db'];
const ATT = ['unit', 'scan', 'review', 'sbom'];
const TYPES = ['generic', 'junit', 'snyk'];

const TEMPLATES = [
  null,
  'version: 1\ntrail:\n  attestations:\n    - name: review\n      type: generic\n',
  'version: 1\ntrail:\n  attestations:\n    - name: unit\n      type: "*"\n  artifacts:\n    - name: app\n      attestations:\n        - name: scan\n          type: snyk\n        - name: unit\n          type: junit\n    - name: db\n',
  'version: 1\ntrail:\n  artifacts:\n    - name: lib\n      attestations:\n        - name: sbom\n          type: generic\n',
];

type Step =
  | { kind: 'artifact'; name: string; fingerprint: string }
  | { kind: 'attestation'; name: string; type: string; compliant: boolean; fingerprint: string | null; artifactName: string | null };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('artifact' as const), name: fc.constantFrom(...NAMES), fingerprint: fc.constantFrom(...FPS) }),
  fc.record({
    kind: fc.constant('attestation' as const), name: fc.constantFrom(...ATT), type: fc.constantFrom(...TYPES), compliant: fc.boolean(),
    fingerprint: fc.option(fc.constantFrom(...FPS), { freq: 2 }), artifactName: fc.option(fc.constantFrom(...NAMES), { freq: 2 }),
  }),
);

function trailOf(template: string | null): TrailRecord {
  return { id: 1, orgId: 1, flowId: 1, name: 't', description: '', gitCommit: null, commitUrl: null, originUrl: null, userData: null, template, createdAt: '', entryIndex: 0 } as TrailRecord;
}

function rowsOf(steps: readonly Step[]): { artifacts: ArtifactRecord[]; attestations: AttestationRecord[] } {
  const artifacts: ArtifactRecord[] = [];
  const attestations: AttestationRecord[] = [];
  steps.forEach((s, i) => {
    const entryIndex = i + 1;
    if (s.kind === 'artifact') {
      artifacts.push({ id: entryIndex, orgId: 1, flowId: 1, trailId: 1, fingerprint: s.fingerprint, name: s.name, displayName: s.name, gitCommit: null, commitUrl: null, buildUrl: null, annotations: null, commitTime: null, createdAt: '', entryIndex });
    } else {
      attestations.push({ id: entryIndex, orgId: 1, flowId: 1, trailId: 1, name: s.name, type: s.type, artifactFingerprint: s.fingerprint, artifactName: s.artifactName, gitCommit: null, compliant: s.compliant, summary: null, description: '', userData: null, annotations: null, evidence: [], createdAt: '', entryIndex });
    }
  });
  return { artifacts, attestations };
}

describe('TrailTally: incremental compliance equals the evaluation of every row', () => {
  it('on arbitrary sequences of artifacts and attestations, after every step', () => {
    fc.assert(fc.property(fc.constantFrom(...TEMPLATES), fc.array(step, { maxLength: 40 }), (template, steps) => {
      const trail = trailOf(template);
      const tally = new TrailTally(template);
      const { artifacts, attestations } = rowsOf(steps);
      let a = 0;
      let t = 0;
      for (const s of steps) {
        if (s.kind === 'artifact') tally.addArtifact(artifacts[a++]!);
        else tally.addAttestation(attestations[t++]!);
        // Asked between steps too: the memo must be dropped by each addition.
        expect(tally.compliance()).toEqual(complianceOfTrail(trail, artifacts.slice(0, a), attestations.slice(0, t)));
      }
      expect(tally.attestations).toBe(attestations.length);
      expect(tally.artifacts).toBe(artifacts.length);
      expect([...tally.types].sort()).toEqual([...new Set(attestations.map((x) => x.type))].sort());
    }), { numRuns: 400 });
  });

  it('a later attestation of a name replaces the earlier one, and keeps the place the name first took', () => {
    const tally = new TrailTally(null);
    tally.addAttestation({ entryIndex: 1, name: 'unit', type: 'junit', compliant: true, artifactFingerprint: null, artifactName: null });
    tally.addAttestation({ entryIndex: 2, name: 'scan', type: 'snyk', compliant: true, artifactFingerprint: null, artifactName: null });
    expect(tally.compliance().state).toBe('COMPLIANT');
    tally.addAttestation({ entryIndex: 3, name: 'unit', type: 'junit', compliant: false, artifactFingerprint: null, artifactName: null });
    const c = tally.compliance();
    expect(c.state).toBe('NON-COMPLIANT');
    expect(c.attestations_statuses.map((s) => [s.attestation_name, s.attestation_id])).toEqual([['unit', '3'], ['scan', '2']]);
  });
});
