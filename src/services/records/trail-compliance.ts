import {
  evaluateArtifactTemplate, evaluateTrail,
  type ArtifactCompliance, type RecordedAttestation, type TrailCompliance,
} from '../../formats/index.js';
import { templateOf } from './templates.js';
import type { ArtifactRecord, AttestationRecord, TrailRecord } from '../../store/index.js';

// Compliance of stored trails and artifacts against the template each trail began with (docs/templates.md):
// the glue between store records and the pure evaluation in formats/compliance.ts.

/** As the evaluator sees an attestation. Its id is its log entry index: what `get attestation` and proofs name. */
export function recordedAttestation(a: AttestationRecord): RecordedAttestation {
  return { id: String(a.entryIndex), name: a.name, type: a.type, compliant: a.compliant };
}

/** The rule of `attestationsOfArtifact`: bound by fingerprint, or by the artifact's name (reported before it existed). */
export function isAbout(a: AttestationRecord, artifact: ArtifactRecord): boolean {
  return a.trailId === artifact.trailId && (a.artifactFingerprint === artifact.fingerprint || (a.artifactName !== null && a.artifactName === artifact.name));
}

/** A trail's state from its artifacts and attestations (of this trail only), each in recording order. */
export function complianceOfTrail(trail: TrailRecord, artifacts: readonly ArtifactRecord[], attestations: readonly AttestationRecord[]): TrailCompliance {
  // An attestation aimed at an artifact counts for that artifact only; one aimed at an artifact not reported
  // yet counts nowhere until it is (the template's entry for that artifact is MISSING meanwhile).
  const own = attestations.filter((a) => a.artifactFingerprint === null && a.artifactName === null);
  return evaluateTrail(templateOf(trail.template), {
    attestations: own.map(recordedAttestation),
    artifacts: artifacts.map((art) => ({
      name: art.name, fingerprint: art.fingerprint, attestations: attestations.filter((a) => isAbout(a, art)).map(recordedAttestation),
    })),
  });
}

/** One artifact against its trail's template; `attestations` are those about it (`attestationsOfArtifact`). */
export function complianceOfArtifact(trail: TrailRecord, artifact: ArtifactRecord, attestations: readonly AttestationRecord[]): ArtifactCompliance {
  return evaluateArtifactTemplate(templateOf(trail.template), { name: artifact.name, fingerprint: artifact.fingerprint, attestations: attestations.map(recordedAttestation) });
}
