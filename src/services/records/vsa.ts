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
    // SLSA VSA v1: a failed verification lists "FAILED" among its levels.
    verifiedLevels: input.passed ? [EVIDENT_POLICY_LEVEL] : ['FAILED'],
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

/**
 * Absolute URIs (RFC 3986, scheme `urn`) naming what a VSA rests on in an org's log, so that anyone holding the
 * log's entries and proofs can find and check them (docs/log.md "VSA"). The origin is the checkpoint's origin
 * line, percent-encoded (encodeURIComponent: no `:` or `/` is left in it).
 *   urn:evident:log:<origin>:checkpoint:<tree size>:<root hash hex>
 *   urn:evident:log:<origin>:entry:<index>:<leaf hash hex>      (leaf hash = SHA-256(0x00 ‖ entry bytes))
 *   urn:evident:policy:flow-compliance@1                         (the built-in policy of `assert` in a flow)
 *   urn:evident:log:<origin>:policies:<name@version,...>         (several policies; each is also an input entry)
 */
export const checkpointUri = (origin: string, size: number, rootHex: string) => `urn:evident:log:${encodeURIComponent(origin)}:checkpoint:${size}:${rootHex}`;
export const entryUri = (origin: string, index: number, leafHex: string) => `urn:evident:log:${encodeURIComponent(origin)}:entry:${index}:${leafHex}`;
export const policySetUri = (origin: string, refs: readonly string[]) => `urn:evident:log:${encodeURIComponent(origin)}:policies:${refs.join(',')}`;
export const BUILT_IN_POLICY_URI = 'urn:evident:policy:flow-compliance@1';

export type EvidentUri =
  | { kind: 'checkpoint'; origin: string; size: number; root: string }
  | { kind: 'entry'; origin: string; index: number; leaf: string };

export function parseEvidentUri(uri: string): EvidentUri | undefined {
  const m = /^urn:evident:log:([^:]+):(checkpoint|entry):(0|[1-9][0-9]{0,15}):([0-9a-f]{64})$/.exec(uri);
  if (!m) return undefined;
  let origin: string;
  try {
    origin = decodeURIComponent(m[1]!);
  } catch {
    return undefined;
  }
  const n = Number(m[3]);
  if (!Number.isSafeInteger(n)) return undefined;
  return m[2] === 'checkpoint' ? { kind: 'checkpoint', origin, size: n, root: m[4]! } : { kind: 'entry', origin, index: n, leaf: m[4]! };
}

/**
 * What a VSA carries besides its signed statement (member `evidentLog` of the envelope file): the signed
 * checkpoint note it names, and each entry it names with an RFC 9162 inclusion proof to that checkpoint.
 */
export interface VsaLog {
  checkpoint: string;
  entries: { index: number; entry: string; inclusion_proof: string[] }[];
}

export const sha256Hex = (text: string | Uint8Array) => createHash('sha256').update(text).digest('hex');
