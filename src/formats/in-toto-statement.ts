import { assertNoProblems, type ProblemDetail } from '../core/index.js';

// in-toto Attestation Framework v1, Statement layer (github.com/in-toto/attestation, spec/v1/statement.md):
// `{_type, subject, predicateType, predicate}`, carried in a DSSE envelope with the payload type below.

export const STATEMENT_V1_TYPE = 'https://in-toto.io/Statement/v1';
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** spec/v1/digest_set.md: algorithm name → lower-case hex (for the hex algorithms). */
export type DigestSet = Record<string, string>;

export interface StatementSubject {
  name: string;
  digest: DigestSet;
}

export interface Statement<P = Record<string, unknown>> {
  _type: typeof STATEMENT_V1_TYPE;
  subject: StatementSubject[];
  predicateType: string;
  predicate: P;
}

const HEX_DIGESTS: Record<string, number> = { sha256: 64, sha224: 56, sha384: 96, sha512: 128, sha1: 40, md5: 32 };

/** The members in the order the spec lists them (readers do not depend on it; humans do). */
export function buildStatement<P>(subject: StatementSubject[], predicateType: string, predicate: P): Statement<P> {
  return { _type: STATEMENT_V1_TYPE, subject: subject.map((s) => ({ name: s.name, digest: { ...s.digest } })), predicateType, predicate };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Problems with one DigestSet: non-empty, string values, hex algorithms in lower-case hex of their size. */
export function digestSetProblems(value: unknown, path: string): ProblemDetail[] {
  if (!isObject(value) || Object.keys(value).length === 0) return [{ path, message: 'must be a non-empty object of digests' }];
  const problems: ProblemDetail[] = [];
  for (const [alg, hex] of Object.entries(value)) {
    const size = HEX_DIGESTS[alg];
    if (typeof hex !== 'string') problems.push({ path: `${path}/${alg}`, message: 'must be a string' });
    else if (size !== undefined && !new RegExp(`^[0-9a-f]{${size}}$`).test(hex)) {
      problems.push({ path: `${path}/${alg}`, message: `must be ${size} lower-case hex characters` });
    }
  }
  return problems;
}

/**
 * Validates a decoded statement (attacker-controlled): `_type` is Statement v1, at least one subject, each
 * with a name and a DigestSet, a non-empty `predicateType`, and `predicate` an object when present.
 * Raises INVALID_ARGUMENT listing every problem.
 */
export function parseStatement(value: unknown): Statement {
  const problems: ProblemDetail[] = [];
  if (!isObject(value)) {
    problems.push({ path: '/', message: 'a statement must be a JSON object' });
    assertNoProblems(problems, 'in-toto statement');
  }
  const s = value as Record<string, unknown>;
  if (s._type !== STATEMENT_V1_TYPE) problems.push({ path: '/_type', message: `must be ${STATEMENT_V1_TYPE}` });
  if (!Array.isArray(s.subject) || s.subject.length === 0) {
    problems.push({ path: '/subject', message: 'must be a non-empty array' });
  } else {
    s.subject.forEach((sub: unknown, i) => {
      if (!isObject(sub)) return problems.push({ path: `/subject/${i}`, message: 'must be an object' });
      if (typeof sub.name !== 'string') problems.push({ path: `/subject/${i}/name`, message: 'must be a string' });
      problems.push(...digestSetProblems(sub.digest, `/subject/${i}/digest`));
    });
  }
  if (typeof s.predicateType !== 'string' || s.predicateType === '') problems.push({ path: '/predicateType', message: 'must be a non-empty URI' });
  if (s.predicate !== undefined && !isObject(s.predicate)) problems.push({ path: '/predicate', message: 'must be an object' });
  assertNoProblems(problems, 'in-toto statement');
  return s as unknown as Statement;
}
