import { EvidentError, isEvidentError, type ProblemDetail } from '../core/index.js';
import { parseEnvelope } from './dsse.js';
import { IN_TOTO_PAYLOAD_TYPE, STATEMENT_V1_TYPE, parseStatement } from './in-toto-statement.js';
import { SLSA_PROVENANCE_V1, parseProvenance } from './slsa.js';

// The file of `evident attest provenance FILE` (docs/provenance.md "Recording provenance"): a DSSE envelope
// of an in-toto Statement v1, or the bare statement, whose predicate is SLSA Provenance v1 and whose
// subjects carry SHA-256 digests (Evident binds artifacts by SHA-256 fingerprint). Attacker-controlled:
// every problem is reported with its path — inside an envelope, statement paths start with /payload.

export interface ProvenanceDocument {
  /** True for a DSSE envelope, false for a bare statement. */
  enveloped: boolean;
  /** Signatures on the envelope (not verified here: the server holds no keys of the builder). */
  signatures: number;
  subjects: { name: string; sha256: string }[];
  builderId: string;
  buildType: string;
}

function problemsOf(err: unknown, prefix: string): ProblemDetail[] {
  if (!isEvidentError(err)) throw err;
  const details = Array.isArray(err.details) ? (err.details as ProblemDetail[]) : [{ path: '/', message: err.message }];
  return details.map((d) => ({ path: prefix === '' ? d.path : `${prefix}${d.path === '/' ? '' : d.path}`, message: d.message }));
}

function fail(problems: ProblemDetail[]): never {
  const list = problems.map((p) => `${p.path}: ${p.message}`).join('; ');
  throw new EvidentError('INVALID_ARGUMENT', `invalid provenance: ${list}`, { details: problems });
}

/** Parses and checks the text; INVALID_ARGUMENT naming the path of every problem found. */
export function parseProvenanceDocument(text: string): ProvenanceDocument {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    fail([{ path: '/', message: `not JSON (${(err as Error).message})` }]);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail([{ path: '/', message: 'must be a DSSE envelope or an in-toto statement (a JSON object)' }]);
  const top = value as Record<string, unknown>;
  const enveloped = 'payload' in top || 'payloadType' in top || 'signatures' in top;
  if (!enveloped && !('_type' in top)) fail([{ path: '/', message: 'neither a DSSE envelope (payloadType, payload, signatures) nor an in-toto statement (_type)' }]);
  let statementValue: unknown = value;
  let signatures = 0;
  const prefix = enveloped ? '/payload' : '';
  if (enveloped) {
    let envelope;
    try {
      envelope = parseEnvelope(value);
    } catch (err) {
      fail(problemsOf(err, ''));
    }
    if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) fail([{ path: '/payloadType', message: `must be ${IN_TOTO_PAYLOAD_TYPE}, not ${JSON.stringify(envelope.payloadType)}` }]);
    signatures = envelope.signatures.length;
    try {
      statementValue = JSON.parse(Buffer.from(envelope.payload).toString('utf8'));
    } catch (err) {
      fail([{ path: '/payload', message: `the decoded payload is not JSON (${(err as Error).message})` }]);
    }
  }
  const problems: ProblemDetail[] = [];
  let statement;
  try {
    statement = parseStatement(statementValue);
  } catch (err) {
    problems.push(...problemsOf(err, prefix));
  }
  const s = (statementValue ?? {}) as Record<string, unknown>;
  if (s._type === STATEMENT_V1_TYPE && s.predicateType !== SLSA_PROVENANCE_V1) {
    problems.push({ path: `${prefix}/predicateType`, message: `must be ${SLSA_PROVENANCE_V1} (SLSA Provenance v1), not ${JSON.stringify(s.predicateType)}` });
  } else if (s.predicateType === SLSA_PROVENANCE_V1) {
    try {
      parseProvenance(s.predicate);
    } catch (err) {
      problems.push(...problemsOf(err, prefix));
    }
  }
  const subjects = Array.isArray(s.subject) ? (s.subject as { name?: unknown; digest?: Record<string, unknown> }[]) : [];
  subjects.forEach((sub, i) => {
    if (typeof sub === 'object' && sub !== null && typeof sub.digest === 'object' && sub.digest !== null && sub.digest.sha256 === undefined) {
      problems.push({ path: `${prefix}/subject/${i}/digest/sha256`, message: 'is required: artifacts are bound by their SHA-256 fingerprint' });
    }
  });
  if (problems.length > 0 || !statement) fail(problems);
  const predicate = s.predicate as { buildDefinition: { buildType: string }; runDetails: { builder: { id: string } } };
  return {
    enveloped, signatures,
    subjects: subjects.map((sub) => ({ name: sub.name as string, sha256: sub.digest!.sha256 as string })),
    builderId: predicate.runDetails.builder.id,
    buildType: predicate.buildDefinition.buildType,
  };
}
