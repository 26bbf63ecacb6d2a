import { EvidentError, type ProblemDetail } from '../core/index.js';
import { lineCol } from './junit.js';

/** One problem in a YAML file (a template or a policy): where it is, as editors and compilers say it. */
export interface LocatedProblem extends ProblemDetail {
  /** 1-based line and column (UTF-16 code units) in the file. */
  line: number;
  column: number;
}

/** `policy.yml:7:28: artifacts.attestations[1].if: unexpected ')'` */
export function formatLocated(source: string, p: LocatedProblem): string {
  return `${source}:${p.line}:${p.column}: ${p.path}: ${p.message}`;
}

/** Where an expression sits, so that its errors point into the file that holds it. */
export interface ExpressionOrigin {
  /** File name for messages; default `expression`. */
  source?: string;
  /** Field holding the expression, e.g. `artifacts.attestations[1].if`; default `if`. */
  path?: string;
  /** Line and column in the file of a character offset in the expression's text; default: within the text. */
  locate?: (offset: number) => { line: number; column: number };
}

export function locateIn(text: string, origin: ExpressionOrigin, offset: number): { line: number; column: number } {
  if (origin.locate) return origin.locate(offset);
  const { line, col } = lineCol(text, offset);
  return { line, column: col };
}

/** A malformed `${{ }}` expression, refused when the file is read (before anything is stored). */
export class ExpressionSyntaxError extends EvidentError {
  readonly line: number;
  readonly column: number;
  readonly path: string;

  constructor(text: string, origin: ExpressionOrigin, offset: number, reason: string) {
    const { line, column } = locateIn(text, origin, offset);
    const path = origin.path ?? 'if';
    const problem: LocatedProblem = { path, message: `invalid expression: ${reason}`, line, column };
    super('INVALID_ARGUMENT', formatLocated(origin.source ?? 'expression', problem), { details: [problem] });
    this.name = 'ExpressionSyntaxError';
    this.line = line;
    this.column = column;
    this.path = path;
  }
}

/** Which rule of which policy was being evaluated, for which artifact: the caller's names for them. */
export interface EvaluationSite {
  /** e.g. `prod-policy v3 artifacts.attestations[1]`. */
  rule?: string;
  /** e.g. the artifact's name and fingerprint. */
  artifact?: string;
}

/** An expression that parsed but cannot be evaluated for one artifact (a type mismatch, a bad regex from a tag). */
export class ExpressionEvaluationError extends EvidentError {
  readonly rule: string;
  readonly artifact: string;
  readonly expression: string;

  constructor(expression: string, site: EvaluationSite, where: { line: number; column: number }, reason: string) {
    const rule = site.rule ?? 'expression';
    const artifact = site.artifact ?? 'unknown artifact';
    const problem: LocatedProblem & { artifact: string } = { path: rule, message: reason, artifact, line: where.line, column: where.column };
    super('INVALID_ARGUMENT', `cannot evaluate ${rule} for artifact ${artifact}: ${reason} (at ${where.line}:${where.column} of ${expression.trim()})`, {
      details: [problem],
    });
    this.name = 'ExpressionEvaluationError';
    this.rule = rule;
    this.artifact = artifact;
    this.expression = expression;
  }
}
