import { createHash } from 'node:crypto';
import { VERSION } from '../../core/index.js';
import { IN_TOTO_PAYLOAD_TYPE, buildStatement, canonicalJson, signEnvelope, type DsseEnvelope, type Statement, type StatementSubject } from '../../formats/index.js';
import type { NoteSigner } from '../../ledger/index.js';

// SLSA Verification Summary Attestation v1 (https://slsa.dev/spec/v1.0/verification_summary): the decision
// of `evident assert` as an in-toto Statement v1 in a DSSE envelope, signed by the server's log key — the key
// whose verifier the server already publishes (GET /api/v1/orgs/ORG/log/key) — so anyone can check a VSA with
// `evident verify attestation FILE --key ed25519:<hex>` without trusting the machine that ran `assert`.

export const VSA_PREDICATE_TYPE = 'https://slsa.dev/verification_summary/v1';

export interface VsaInput {
  subject: StatementSubject[];
  verifierId: string;
  timeVerified: string;
  resourceUri: string;
  policy: { uri: string; digest: Record<string, string> };
  inputAttestations: { uri: string; digest: Record<string, string> }[];
  passed: boolean;
}

export interface VsaPredicate {
  verifier: { id: string; version: Record<string, string> };
  timeVerified: string;
  resourceUri: string;
  policy: { uri: string; digest: Record<string, string> };
  inputAttestations: { uri: string; digest: Record<string, string> }[];
  verificationResult: 'PASSED' | 'FAILED';
  verifiedLevels: string[];
  slsaVersion: '1.0';
}

/** The level a passing decision vouches for: the verifier's own, as the VSA spec allows (not a SLSA build level). */
export const EVIDENT_POLICY_LEVEL = 'EVIDENT_POLICY_COMPLIANT';

export function buildVsa(input: VsaInput): Statement<VsaPredicate> {
  return buildStatement(input.subject, VSA_PREDICATE_TYPE, {
    verifier: { id: input.verifierId, version: { evident: VERSION } },
    timeVerified: input.timeVerified,
    resourceUri: input.resourceUri,
    policy: input.policy,
    inputAttestations: input.inputAttestations,
    verificationResult: input.passed ? 'PASSED' : 'FAILED',
    verifiedLevels: input.passed ? [EVIDENT_POLICY_LEVEL] : [],
    slsaVersion: '1.0',
  });
}

/** The raw Ed25519 public key of a note signer (`name+hash+base64(0x01 ‖ key)`), as `verify attestation --key` takes it. */
export function signerPublicKey(signer: NoteSigner): string {
  const raw = Buffer.from(signer.verifierKey.split('+').slice(2).join('+'), 'base64');
  return `ed25519:${raw.subarray(1, 33).toString('hex')}`;
}

export function signVsa(statement: Statement<VsaPredicate>, signer: NoteSigner): DsseEnvelope {
  const payload = new TextEncoder().encode(canonicalJson(statement));
  // The keyid hint is left empty: verifiers try the key they were given (DSSE protocol.md).
  return signEnvelope(IN_TOTO_PAYLOAD_TYPE, payload, [{ keyid: '', sign: (m) => signer.sign(m) }]);
}

export const sha256Hex = (text: string | Uint8Array) => createHash('sha256').update(text).digest('hex');
