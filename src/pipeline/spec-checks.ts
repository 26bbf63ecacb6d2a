import { joinPath, type SpecProblem } from './spec-walk.js';

// Small typed readers for validation: each reads one field, records a problem with its path when the
// value is not what the format allows, and returns undefined then, so that validation goes on and reports
// every problem in one pass (DESIGN.md §5: "every problem is reported with its path").

export type Json = Record<string, unknown>;

export class Checker {
  readonly problems: SpecProblem[] = [];

  add(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  /** A mapping whose keys must all be in `known`; unknown keys are errors (with a suggestion). */
  mapping(value: unknown, path: string, known?: readonly string[]): Json | undefined {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.add(path || '(document)', `must be a mapping, not ${describe(value)}`);
      return undefined;
    }
    if (known) {
      for (const key of Object.keys(value)) {
        if (known.includes(key)) continue;
        const guess = closest(key, known);
        this.add(joinPath(path, key), `unknown key${guess ? ` (did you mean "${guess}"?)` : ''}; known keys: ${known.join(', ')}`);
      }
    }
    return value as Json;
  }

  string(value: unknown, path: string, options: { nonEmpty?: boolean } = {}): string | undefined {
    if (typeof value !== 'string') {
      this.add(path, `must be a string, not ${describe(value)}`);
      return undefined;
    }
    if (options.nonEmpty && value.trim() === '') {
      this.add(path, 'must not be empty');
      return undefined;
    }
    return value;
  }

  boolean(value: unknown, path: string): boolean | undefined {
    if (typeof value === 'boolean') return value;
    this.add(path, `must be true or false, not ${describe(value)}`);
    return undefined;
  }

  /** A list of strings; each bad item is a problem of its own. */
  strings(value: unknown, path: string): string[] | undefined {
    if (!Array.isArray(value)) {
      this.add(path, `must be a list, not ${describe(value)}${typeof value === 'string' ? ` (write [${JSON.stringify(value)}])` : ''}`);
      return undefined;
    }
    const out: string[] = [];
    value.forEach((item, i) => {
      const s = this.string(item, joinPath(path, i), { nonEmpty: true });
      if (s !== undefined) out.push(s);
    });
    return out;
  }

  /** Environment variables: names as POSIX shells accept them; numbers and booleans become text. */
  env(value: unknown, path: string): Record<string, string> {
    const map = this.mapping(value, path);
    const out: Record<string, string> = {};
    if (!map) return out;
    for (const [name, v] of Object.entries(map)) {
      const at = joinPath(path, name);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) this.add(at, 'is not a valid environment variable name (letters, digits and _, not starting with a digit)');
      else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[name] = String(v);
      else this.add(at, `must be a string, a number or a boolean, not ${describe(v)}`);
    }
    return out;
  }
}

export function describe(value: unknown): string {
  if (value === null || value === undefined) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return value instanceof Uint8Array ? 'binary data' : 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  return `${typeof value === 'number' ? 'the number' : 'the value'} ${String(value)}`;
}

/** Levenshtein distance, for "did you mean" (names are short). */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** The closest known name within two edits (or a third of the length), if any. */
export function closest(name: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const k of known) {
    const d = distance(name, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}
