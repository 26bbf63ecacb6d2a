import fs from 'node:fs';
import { createPublicKey } from 'node:crypto';
import { EvidentError } from '../core/index.js';
import {
  DSSE_MAX_PAYLOAD_BYTES, IN_TOTO_PAYLOAD_TYPE, SLSA_PROVENANCE_V1, dsseVerifierForKey, parseEnvelopeJson, parseProvenance, parseStatement,
  verifyEnvelope, type ParsedEnvelope, type Statement,
} from '../formats/index.js';
import type { PublicKeyInfo } from './keys.js';
import { digestWorkspaceFile } from './verify-files.js';

// `evident verify attestation FILE --key PUB`: the envelope, its signature over PAE, the statement and
// predicate shapes, and each subject's digest against the file in the workspace (docs/provenance.md).

export interface AttestationCheck {
  check: 'envelope' | 'signature' | 'statement' | 'subject';
  /** null: not checked (a subject that is not in the workspace). */
  ok: boolean | null;
  message: string;
}

export interface AttestationReport {
  ok: boolean;
  /** Not a DSSE envelope at all (exit status 2 rather than 1). */
  malformed: boolean;
  file: string;
  checks: AttestationCheck[];
  statement: Statement | null;
}

const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function readEnvelope(file: string): string {
  try {
    if (fs.statSync(file).size > DSSE_MAX_PAYLOAD_BYTES * 2) throw new EvidentError('INVALID_ARGUMENT', `${file} is too large for an attestation`);
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof EvidentError) throw err;
    throw new EvidentError('INVALID_ARGUMENT', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}

function checkSignature(envelope: ParsedEnvelope, key: PublicKeyInfo): AttestationCheck {
  if (envelope.signatures.length === 0) return { check: 'signature', ok: false, message: 'Envelope is not signed (the run was not asked to --sign)' };
  const publicKey = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, Buffer.from(key.publicHex, 'hex')]), format: 'der', type: 'spki' });
  const accepted = verifyEnvelope(envelope, [dsseVerifierForKey(publicKey, key.keyId)]);
  return accepted.length > 0
    ? { check: 'signature', ok: true, message: `Signature valid (key ${key.keyId})` }
    : { check: 'signature', ok: false, message: `No valid signature by key ${key.keyId}` };
}

const SLSA_VSA_V1 = 'https://slsa.dev/verification_summary/v1';

/** A SLSA Verification Summary v1 (what `evident assert --vsa` writes): the fields a reader relies on. */
function checkVsa(p: Record<string, unknown>): void {
  const verifier = p.verifier as { id?: unknown } | undefined;
  if (typeof verifier?.id !== 'string') throw new Error('verification summary: verifier.id is missing');
  if (p.verificationResult !== 'PASSED' && p.verificationResult !== 'FAILED') throw new Error('verification summary: verificationResult must be PASSED or FAILED');
  for (const k of ['timeVerified', 'resourceUri'] as const) if (typeof p[k] !== 'string') throw new Error(`verification summary: ${k} is missing`);
}

function checkStatement(payload: Uint8Array): { check: AttestationCheck; statement: Statement | null } {
  try {
    const statement = parseStatement(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload)));
    if (statement.predicateType === SLSA_PROVENANCE_V1) parseProvenance(statement.predicate);
    if (statement.predicateType === SLSA_VSA_V1) checkVsa(statement.predicate);
    return { check: { check: 'statement', ok: true, message: `Statement valid (${statement.predicateType})` }, statement };
  } catch (err) {
    return { check: { check: 'statement', ok: false, message: `Statement invalid: ${(err as Error).message}` }, statement: null };
  }
}

async function checkSubjects(statement: Statement, workspace: string): Promise<AttestationCheck[]> {
  const checks: AttestationCheck[] = [];
  for (const subject of statement.subject) {
    const want = subject.digest.sha256;
    if (want === undefined) {
      checks.push({ check: 'subject', ok: null, message: `Subject ${subject.name}: no sha256 digest, not checked` });
      continue;
    }
    const found = await digestWorkspaceFile(workspace, subject.name, { links: true });
    if (found.status === 'unsafe') checks.push({ check: 'subject', ok: false, message: `Subject ${JSON.stringify(subject.name)}: ${found.reason}` });
    else if (found.status === 'missing') checks.push({ check: 'subject', ok: null, message: `Subject ${subject.name}: not in the workspace, digest not checked` });
    else if (found.sha256 !== want) checks.push({ check: 'subject', ok: false, message: `Subject ${subject.name} does not match the file (statement sha256:${want}, file sha256:${found.sha256})` });
    else checks.push({ check: 'subject', ok: true, message: `Subject ${subject.name} matches the file` });
  }
  return checks;
}

export async function verifyAttestationFile(file: string, options: { key: PublicKeyInfo; workspace: string }): Promise<AttestationReport> {
  const report: AttestationReport = { ok: false, malformed: false, file, checks: [], statement: null };
  const text = readEnvelope(file);
  let envelope: ParsedEnvelope;
  try {
    envelope = parseEnvelopeJson(text);
  } catch (err) {
    if (!(err instanceof EvidentError)) throw err;
    report.malformed = true;
    report.checks.push({ check: 'envelope', ok: false, message: `Envelope invalid: ${err.message}` });
    return report;
  }
  const typeOk = envelope.payloadType === IN_TOTO_PAYLOAD_TYPE;
  report.checks.push({
    check: 'envelope', ok: typeOk,
    message: typeOk ? `Envelope valid (${IN_TOTO_PAYLOAD_TYPE})` : `Envelope payloadType is ${JSON.stringify(envelope.payloadType)}, not ${IN_TOTO_PAYLOAD_TYPE}`,
  });
  report.checks.push(checkSignature(envelope, options.key));
  const { check, statement } = checkStatement(envelope.payload);
  report.checks.push(check);
  report.statement = statement;
  if (statement) report.checks.push(...(await checkSubjects(statement, options.workspace)));
  report.ok = report.checks.every((c) => c.ok !== false);
  return report;
}
