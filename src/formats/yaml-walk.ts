import type { Document, Node, Scalar } from 'yaml';
import { yamlLib } from '../core/index.js';
import type { ExpressionOrigin, LocatedProblem } from './policy-expr-errors.js';

// Reading a small YAML file (a flow template, an environment policy) node by node, so that every problem is
// reported with its line, column and path (`artifacts.attestations[1].type`), all of them at once.

const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;
const MAX_ALIASES = 100;
export const MAX_PROBLEMS = 50;

/** `artifacts.attestations[1].if`; keys that are not plain words are quoted: `trail["a.b"]`. */
export function joinPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (!PLAIN_KEY.test(key)) return `${parent}[${JSON.stringify(key)}]`;
  return parent === '' ? key : `${parent}.${key}`;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

/** " (did you mean 'x'?)" for the closest candidate within two edits, else ''. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const best = candidates.map((c) => [c, editDistance(word.toLowerCase(), c.toLowerCase())] as const).sort((x, y) => x[1] - y[1])[0];
  return best && best[1] <= 2 ? ` (did you mean '${best[0]}'?)` : '';
}

export class YamlFile {
  readonly problems: LocatedProblem[] = [];
  readonly root: Node | null;
  private readonly counter = new (yamlLib().LineCounter)();
  private readonly doc: Document;
  private aliases = 0;

  constructor(readonly text: string, readonly source: string) {
    this.doc = yamlLib().parseDocument(text, { lineCounter: this.counter, uniqueKeys: true, prettyErrors: false });
    for (const e of this.doc.errors) this.addAt(e.pos[0], '(yaml)', `invalid YAML: ${e.message.split('\n')[0]!}`);
    this.root = this.doc.errors.length > 0 ? null : this.resolve(this.doc.contents, '(document)');
  }

  position(offset: number): { line: number; column: number } {
    const p = this.counter.linePos(Math.max(0, Math.min(offset, this.text.length)));
    return { line: p.line, column: p.col };
  }

  addAt(offset: number, path: string, message: string): void {
    if (this.problems.length < MAX_PROBLEMS) this.problems.push({ path: path === '' ? '(document)' : path, message, ...this.position(offset) });
  }

  add(node: Node | null | undefined, path: string, message: string, fallback = 0): void {
    this.addAt(node?.range?.[0] ?? fallback, path, message);
  }

  /** Follows an alias to its anchor (at most MAX_ALIASES of them, so aliases cannot multiply the work). */
  resolve(node: unknown, path: string): Node | null {
    if (!yamlLib().isAlias(node)) return (node as Node | null) ?? null;
    if (++this.aliases > MAX_ALIASES) {
      this.add(node, path, `more than ${MAX_ALIASES} aliases`);
      return null;
    }
    return node.resolve(this.doc) ?? null;
  }

  /**
   * The members of a mapping, by key; every key not in `allowed` is reported as unknown (Kosli's schemas
   * have `additionalProperties: false` throughout). Undefined when `node` is not a mapping (reported).
   */
  mapping(node: Node | null, path: string, allowed: readonly string[], fallback = 0): Map<string, { key: Node; value: Node | null }> | undefined {
    if (!yamlLib().isMap(node)) {
      this.add(node, path, `must be a mapping (${allowed.join(', ')})`, fallback);
      return undefined;
    }
    const members = new Map<string, { key: Node; value: Node | null }>();
    for (const pair of node.items) {
      const keyNode = pair.key as Node;
      const key = yamlLib().isScalar(keyNode) ? keyNode.value : undefined;
      if (typeof key !== 'string') {
        this.add(keyNode, path, 'keys must be strings');
      } else if (!allowed.includes(key)) {
        this.add(keyNode, joinPath(path, key), `unknown key '${key}'${didYouMean(key, allowed)}; allowed here: ${allowed.join(', ')}`);
      } else {
        members.set(key, { key: keyNode, value: this.resolve(pair.value, joinPath(path, key)) });
      }
    }
    return members;
  }

  sequence(node: Node | null, path: string, max: number, fallback = 0): (Node | null)[] | undefined {
    if (!yamlLib().isSeq(node)) {
      this.add(node, path, 'must be a list', fallback);
      return undefined;
    }
    if (node.items.length > max) this.add(node, path, `must have at most ${max} items`);
    return node.items.slice(0, max).map((item, i) => this.resolve(item, joinPath(path, i)));
  }

  scalar(node: Node | null, path: string, type: 'string' | 'boolean', fallback = 0): string | boolean | undefined {
    const value = yamlLib().isScalar(node) ? node.value : undefined;
    if (typeof value === type) return value as string | boolean;
    const found = yamlLib().isScalar(node) ? (node.value === null ? 'nothing' : JSON.stringify(node.value)) : yamlLib().isSeq(node) ? 'a list' : 'a mapping';
    this.add(node, path, type === 'boolean' ? `must be true or false (found ${found})` : `must be a string (found ${found})`, fallback);
    return undefined;
  }

  /**
   * Where the characters of a string scalar are in the file: exact when the scalar is written as its value
   * (plain, or quoted without escapes, on one line), else every offset maps to the scalar's start.
   */
  origin(node: Node, path: string): ExpressionOrigin {
    const [start, end] = node.range ?? [0, 0];
    const value = String((node as Scalar).value);
    const quoted = (node as Scalar).type === 'QUOTE_DOUBLE' || (node as Scalar).type === 'QUOTE_SINGLE' ? 1 : 0;
    const exact = this.text.slice(start + quoted, end - quoted) === value;
    return { source: this.source, path, locate: (offset) => this.position(exact ? start + quoted + offset : start) };
  }
}
