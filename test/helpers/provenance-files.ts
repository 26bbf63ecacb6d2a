import { IN_TOTO_PAYLOAD_TYPE, SLSA_PROVENANCE_V1, buildProvenance, buildStatement, signEnvelope } from '../../src/formats/index.js';

// Provenance files for `attest provenance` tests: a SLSA v1 statement about the given subjects, bare or in
// a DSSE envelope, and ways to spoil one.

export function provenanceStatement(subjects: Record<string, string>, predicateType = SLSA_PROVENANCE_V1): Record<string, unknown> {
  const predicate = buildProvenance(
    { buildType: 'https://evident.dev/test/build/v1', externalParameters: { step: 'build' } },
    { builder: { id: 'https://evident.dev/test/builder' }, metadata: { invocationId: 'test', startedOn: '2026-11-29T21:00:00Z', finishedOn: '2026-11-29T21:00:01Z' } },
  );
  return buildStatement(Object.entries(subjects).map(([name, sha256]) => ({ name, digest: { sha256 } })), predicateType, predicate) as unknown as Record<string, unknown>;
}

export function envelopeText(statement: unknown, payloadType = IN_TOTO_PAYLOAD_TYPE): string {
  return JSON.stringify(signEnvelope(payloadType, new TextEncoder().encode(JSON.stringify(statement)), []));
}
