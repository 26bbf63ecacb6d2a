import { EvidentError, checkName, type ProblemDetail } from '../../core/index.js';

/** Collects every problem of one input before failing, each with its path. */
export class Problems {
  readonly list: ProblemDetail[] = [];

  add(path: string, message: string): void {
    this.list.push({ path, message });
  }

  check<T>(path: string, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      this.add(path, err instanceof Error ? err.message : String(err));
      return undefined;
    }
  }

  throwIfAny(what: string): void {
    if (this.list.length === 0) return;
    const text = this.list.map((p) => `${p.path}: ${p.message}`).join('; ');
    throw new EvidentError('INVALID_ARGUMENT', `invalid ${what}: ${text}`, { details: this.list });
  }
}

const FINGERPRINT = /^[0-9a-f]{64}$/;
const COMMIT = /^[0-9a-f]{7,64}$/;

export function name(kind: string, value: unknown): string {
  return checkName(kind, value);
}

/** A SHA-256 fingerprint: exactly 64 lower-case hex characters (DESIGN.md §4). */
export function fingerprint(value: unknown): string {
  if (typeof value !== 'string' || !FINGERPRINT.test(value)) {
    throw new EvidentError('INVALID_ARGUMENT', `fingerprint must be 64 lower-case hex characters (SHA-256), not ${JSON.stringify(value)}`);
  }
  return value;
}

export function commit(value: unknown): string {
  if (typeof value !== 'string' || !COMMIT.test(value)) {
    throw new EvidentError('INVALID_ARGUMENT', `git commit must be 7 to 64 lower-case hex characters, not ${JSON.stringify(value)}`);
  }
  return value;
}

export function url(value: unknown): string {
  if (typeof value !== 'string' || value.length > 2048) throw new EvidentError('INVALID_ARGUMENT', 'must be a URL of at most 2048 characters');
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new EvidentError('INVALID_ARGUMENT', `not a URL: ${JSON.stringify(value)}`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new EvidentError('INVALID_ARGUMENT', 'URL must use http or https');
  return value;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 date-time with its offset (what `git show -s --format=%cI` prints), returned in UTC. */
export function timestamp(value: unknown): string {
  const d = typeof value === 'string' && RFC3339.test(value) ? new Date(value) : undefined;
  if (!d || Number.isNaN(d.getTime())) {
    throw new EvidentError('INVALID_ARGUMENT', `must be an RFC 3339 date-time with an offset (e.g. 2026-11-29T10:00:00+01:00), not ${JSON.stringify(value)}`);
  }
  return d.toISOString();
}

export function text(value: unknown, max = 4096): string {
  if (typeof value !== 'string' || value.length > max) throw new EvidentError('INVALID_ARGUMENT', `must be text of at most ${max} characters`);
  return value;
}

const ANNOTATION_KEY = /^[A-Za-z0-9_.-]{1,64}$/;

export function annotations(value: unknown): Record<string, string> | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw new EvidentError('INVALID_ARGUMENT', 'annotations must be an object of strings');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 100) throw new EvidentError('INVALID_ARGUMENT', 'at most 100 annotations');
  for (const [k, v] of entries) {
    if (!ANNOTATION_KEY.test(k)) throw new EvidentError('INVALID_ARGUMENT', `annotation key ${JSON.stringify(k)} must be 1-64 letters, digits, '.', '_' or '-'`);
    if (typeof v !== 'string' || v.length > 1024) throw new EvidentError('INVALID_ARGUMENT', `annotation ${k} must be text of at most 1024 characters`);
  }
  return Object.keys(value).length === 0 ? null : (value as Record<string, string>);
}

export function optional<T>(value: unknown, fn: (v: unknown) => T): T | null {
  return value === undefined || value === null || value === '' ? null : fn(value);
}
