import { EvidentError } from '../core/index.js';

// What each log entry is about (docs/log.md, "Subjects and prev links"). Pure: derived from the entry's
// type and fields alone, so the server that links entries and a verifier that checks the links derive the
// same subjects from the same text.

export type SubjectKind = 'artifact' | 'trail' | 'environment' | 'flow';
export const SUBJECT_KINDS: readonly SubjectKind[] = ['artifact', 'environment', 'flow', 'trail'];

export interface Subject {
  kind: SubjectKind;
  /** The subject key: the JSON array text `["artifact","<fp>"]`, `["trail","<flow>","<trail>"]`, … */
  key: string;
}

const FLOW = new Set(['flow.created', 'flow.updated', 'flow.tagged', 'flow.archived']);
const TRAIL = new Set(['trail.begun', 'trail.updated', 'artifact.reported', 'attestation.reported']);
const ENVIRONMENT = new Set([
  'environment.created', 'environment.updated', 'environment.tagged', 'environment.archived', 'snapshot.created', 'policy.attached', 'policy.detached',
  'deployment.expected', 'artifact.allowed',
]);
/** The field naming the artifact's fingerprint, per entry type. */
const ARTIFACT: Record<string, string> = {
  'artifact.reported': 'fingerprint', 'attestation.reported': 'artifact_fingerprint', 'deployment.expected': 'fingerprint', 'artifact.allowed': 'fingerprint',
};

const str = (v: unknown): v is string => typeof v === 'string';

/** The characters JSON.stringify writes escaped in a string (and every surrogate: lone ones are escaped). */
const ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

/** The subject key text of a subject (JSON of strings: the same bytes as RFC 8785 would give). */
export function subjectKey(kind: SubjectKind, ...names: string[]): string {
  // Names without a character JSON.stringify escapes (`"`, `\`, controls, lone surrogates: any surrogate
  // here, to keep the test simple) are written as they are: the same text, without building an array and
  // serialising it (it is derived for every entry a verifier streams, issue #21). test/ledger/subjects.test.ts
  // compares the two on arbitrary strings.
  let out = `["${kind}"`;
  for (const name of names) {
    if (ESCAPED.test(name)) return JSON.stringify([kind, ...names]);
    out += `,"${name}"`;
  }
  return `${out}]`;
}

/** The subjects an entry of `type` with these fields is about, at most one per kind, in kind order. */
export function subjectsOf(type: unknown, f: Record<string, unknown>): Subject[] {
  if (!str(type)) return [];
  const out: Subject[] = [];
  const fp = ARTIFACT[type] === undefined ? undefined : f[ARTIFACT[type]!];
  if (str(fp)) out.push({ kind: 'artifact', key: subjectKey('artifact', fp) });
  if (ENVIRONMENT.has(type) && str(f.environment)) out.push({ kind: 'environment', key: subjectKey('environment', f.environment) });
  if (FLOW.has(type) && str(f.flow)) out.push({ kind: 'flow', key: subjectKey('flow', f.flow) });
  if (TRAIL.has(type) && str(f.flow) && str(f.trail)) out.push({ kind: 'trail', key: subjectKey('trail', f.flow, f.trail) });
  return out;
}

/** An entry's `prev` links: for each subject, the index of the previous entry about it, or null for the first. */
export type PrevLinks = Partial<Record<SubjectKind, number | null>>;

/**
 * The links an entry states, checked against the subjects derived from it: undefined for an entry without
 * `prev` (logged before links existed); throws a message when `prev` names other kinds than the entry's
 * subjects, or an index that is not below the entry's own. `subjects`: the entry's, when the caller has them.
 */
export function linksOf(
  entry: Record<string, unknown>, index: number, subjects: Subject[] = subjectsOf(entry.type, entry),
): { subject: Subject; prev: number | null }[] | undefined {
  if (!('prev' in entry)) return undefined;
  const prev = entry.prev as Record<string, unknown> | null;
  if (prev === null || typeof prev !== 'object' || Array.isArray(prev)) throw new Error('its prev links are not an object');
  const kinds = Object.keys(prev).sort();
  const expected = subjects.map((s) => s.kind).sort();
  if (kinds.join() !== expected.join()) throw new Error(`its prev links name ${kinds.join(', ') || 'nothing'}, but it is about ${expected.join(', ') || 'nothing'}`);
  return subjects.map((subject) => {
    const p = prev[subject.kind];
    if (p !== null && !(Number.isSafeInteger(p) && (p as number) >= 0 && (p as number) < index)) {
      throw new Error(`its prev link for ${subject.key} is not an earlier entry index`);
    }
    return { subject, prev: p as number | null };
  });
}

const ARITY: Record<SubjectKind, number> = { artifact: 1, environment: 1, flow: 1, trail: 2 };

/**
 * Parses an untrusted subject key text (API input): a JSON array of a known kind and its names, written
 * exactly as subjectKey writes it, each name 1-256 characters; a fingerprint 64 lower-case hex digits.
 */
export function parseSubjectKey(text: string): Subject {
  const bad = (why: string) => new EvidentError('INVALID_ARGUMENT', `subject ${JSON.stringify(String(text).slice(0, 80))}: ${why}`, {
    details: [{ path: 'subject', message: why }],
  });
  if (typeof text !== 'string' || text.length > 1100) throw bad('at most 1100 characters');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw bad('not JSON; expected e.g. ["artifact","<fingerprint>"] or ["trail","<flow>","<trail>"]');
  }
  if (!Array.isArray(value) || !value.every(str)) throw bad('not a JSON array of strings');
  const [kind, ...names] = value as string[];
  if (!(SUBJECT_KINDS as readonly string[]).includes(kind ?? '')) throw bad(`the kind must be one of ${SUBJECT_KINDS.join(', ')}`);
  if (names.length !== ARITY[kind as SubjectKind]) throw bad(`a ${kind} subject has ${ARITY[kind as SubjectKind]} name(s)`);
  if (names.some((n) => n.length === 0 || n.length > 256)) throw bad('each name is 1 to 256 characters');
  if (kind === 'artifact' && !/^[0-9a-f]{64}$/.test(names[0]!)) throw bad('an artifact is named by its 64 lower-case hex fingerprint');
  const key = subjectKey(kind as SubjectKind, ...names);
  if (key !== text) throw bad(`not in canonical form (${key.slice(0, 80)})`);
  return { kind: kind as SubjectKind, key };
}
