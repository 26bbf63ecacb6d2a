import type { Node } from 'yaml';
import { yamlLib, type ProblemDetail } from '../core/index.js';

// Reading attest.yaml as a tree of plain values plus a map from each value's path to its line and column,
// so that validation (spec.ts) can report every problem as `steps.build.needs[1]` with where it is.

/** One problem with attest.yaml; line and column (1-based) when the path exists in the file. */
export interface SpecProblem extends ProblemDetail {
  line?: number;
  column?: number;
}

export type Positions = Map<string, { line: number; column: number }>;

export interface ParsedYaml {
  value: unknown;
  /** Where each path is; worked out on demand (only an invalid file needs it). */
  positions(): Positions;
  /** Syntax errors; when there are any, `value` is not to be trusted. */
  syntax: SpecProblem[];
}

const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;

/** `steps.build.needs[1]`; keys that are not plain words are quoted: `steps["a.b"].run`. */
export function joinPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (!PLAIN_KEY.test(key)) return `${parent}[${JSON.stringify(key)}]`;
  return parent === '' ? key : `${parent}.${key}`;
}

export function parseYaml(text: string): ParsedYaml {
  const { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument } = yamlLib();
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, uniqueKeys: true, prettyErrors: true });
  const syntax: SpecProblem[] = [...doc.errors].map((e) => {
    const at = e.linePos?.[0];
    const message = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    return { path: '(yaml)', message, ...(at ? { line: at.line, column: at.col } : {}) };
  });
  const positions: Positions = new Map();
  const at = (offset: number | undefined) => {
    const p = counter.linePos(offset ?? 0);
    return { line: p.line, column: p.col };
  };
  const index = (node: unknown, path: string): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const child = joinPath(path, key);
        // A member is located at its key: that is the line a reader looks for.
        positions.set(child, at((pair.key as Node | null)?.range?.[0]));
        index(pair.value, child);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        const child = joinPath(path, i);
        positions.set(child, at((item as Node | null)?.range?.[0]));
        index(item, child);
      });
    }
  };
  let indexed = false;
  const located = (): Positions => {
    if (!indexed) {
      indexed = true;
      if (doc.contents) positions.set('', at(doc.contents.range?.[0]));
      index(doc.contents, '');
    }
    return positions;
  };
  let value: unknown = null;
  if (syntax.length === 0) {
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      syntax.push({ path: '(yaml)', message: (err as Error).message });
    }
  }
  return { value, positions: located, syntax };
}

/** Adds the line and column of the problem's path (or of its nearest located ancestor). */
export function locate(problem: SpecProblem, positions: Positions): SpecProblem {
  if (problem.line !== undefined) return problem;
  let path = problem.path;
  for (;;) {
    const p = positions.get(path);
    if (p) return { ...problem, line: p.line, column: p.column };
    const cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
    if (cut <= 0) return positions.get('') ? { ...problem, ...positions.get('')! } : problem;
    path = path.slice(0, cut);
  }
}

/** `attest.yaml:12:9: steps.build.needs[1]: unknown step "tset"` (the form compilers and editors use). */
export function formatProblem(file: string, problem: SpecProblem): string {
  const where = problem.line === undefined ? file : `${file}:${problem.line}:${problem.column ?? 1}`;
  return `${where}: ${problem.path}: ${problem.message}`;
}
