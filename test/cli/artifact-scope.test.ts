import { describe, expect, it } from 'vitest';
import { entriesAboutArtifact } from '../../src/cli/verify/artifact-scope.js';

const FP = 'a'.repeat(64);
const OTHER = 'b'.repeat(64);

describe('entriesAboutArtifact: what an evidence package of an artifact holds', () => {
  it('chooses by kind and leaves out what is about other artifacts', () => {
    const log: Record<string, unknown>[] = [
      { type: 'flow.created', flow: 'app' }, // 0
      { type: 'flow.created', flow: 'unrelated' }, // 1
      { type: 'trail.begun', flow: 'app', trail: 't1' }, // 2
      { type: 'attestation.reported', flow: 'app', trail: 't1', attestation: 'app.lint', artifact_name: 'app', artifact_fingerprint: null, attestation_type: 'generic' }, // 3: by template name, before the report
      { type: 'artifact.reported', flow: 'app', trail: 't1', artifact: 'app', fingerprint: FP }, // 4
      { type: 'attestation.reported', flow: 'app', trail: 't1', attestation: 'approval', artifact_name: null, artifact_fingerprint: null, attestation_type: 'approval' }, // 5: trail-level
      { type: 'attestation.reported', flow: 'app', trail: 't1', attestation: 'scan', artifact_name: null, artifact_fingerprint: OTHER, attestation_type: 'generic' }, // 6: other artifact
      { type: 'attestation.reported', flow: 'app', trail: 't1', attestation: 'lib.lint', artifact_name: 'lib', artifact_fingerprint: null, attestation_type: 'generic' }, // 7: other name
      { type: 'attestation_type.created', attestation_type: 'coverage' }, // 8
      { type: 'attestation.reported', flow: 'app', trail: 't1', attestation: 'cov', artifact_name: null, artifact_fingerprint: FP, attestation_type: 'custom:coverage' }, // 9
      { type: 'environment.created', environment: 'prod' }, // 10
      { type: 'environment.created', environment: 'dev' }, // 11
      { type: 'policy.created', policy: 'p' }, // 12: p@1
      { type: 'policy.created', policy: 'p' }, // 13: p@2
      { type: 'policy.attached', environment: 'prod', policy: 'p', version: 2 }, // 14
      { type: 'policy.attached', environment: 'dev', policy: 'p', version: 1 }, // 15: another environment
      { type: 'snapshot.created', environment: 'prod', artifacts: [{ fingerprint: OTHER }] }, // 16: before it ran
      { type: 'snapshot.created', environment: 'prod', artifacts: [{ fingerprint: FP }, { fingerprint: OTHER }] }, // 17
      { type: 'snapshot.created', environment: 'prod', artifacts: [{ fingerprint: OTHER }] }, // 18: where it stopped
      { type: 'snapshot.created', environment: 'prod', artifacts: [] }, // 19: after
      { type: 'deployment.expected', environment: 'prod', fingerprint: FP }, // 20
      { type: 'artifact.allowed', environment: 'prod', fingerprint: OTHER }, // 21
      { type: 'trail.begun', flow: 'release', trail: 'r1' }, // 22
      { type: 'attestation.reported', flow: 'release', trail: 'r1', attestation: 'app.promotion', artifact_name: 'app', artifact_fingerprint: FP, attestation_type: 'generic' }, // 23
      { type: 'attestation.reported', flow: 'release', trail: 'r1', attestation: 'release-approval', artifact_name: null, artifact_fingerprint: null, attestation_type: 'approval' }, // 24
      { type: 'attestation.reported', flow: 'release', trail: 'r1', attestation: 'app.note', artifact_name: 'app', artifact_fingerprint: null, attestation_type: 'generic' }, // 25: name only counts where it was reported
      { type: 'policy.detached', environment: 'prod', policy: 'p' }, // 26
    ];
    const chosen = entriesAboutArtifact(log.map((e, index) => ({ index, entry: JSON.stringify(e) })), FP);
    expect(chosen).toEqual([0, 2, 3, 4, 5, 8, 9, 10, 13, 14, 17, 18, 20, 22, 23, 24, 26]);
  });
});
