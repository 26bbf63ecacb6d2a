import { ExpressionEvaluationError, locateIn, type EvaluationSite, type ExpressionOrigin } from './policy-expr-errors.js';
import { parseExpression, printExpression, type CompareOp, type ContextRef, type Expr } from './policy-expr-parser.js';
import { RegexSyntaxError, compileSafeRegex, type SafeRegex } from './policy-regex.js';

// Evaluating a parsed expression against one artifact. Each expression is compiled once into a tree of
// closures (no re-parsing per artifact: a snapshot of 5,000 artifacts against 3 policies evaluates each `if`
// thousands of times).
//
// Values are strings, numbers and booleans; flow tags are strings. A value can also be missing: an artifact
// without provenance has no flow (so no flow.name), and a flow need not carry every tag. The rules:
// - exists(x) is false when x is missing (Kosli: "returns true if arg is not null");
// - `==` with a missing value is false and `!=` is its negation (true): Kosli's own policies guard with
//   `exists(flow.tags.env) and flow.tags.env != "aws-prod"` because the second part alone is true without the tag;
// - `<`, `>`, `<=`, `>=`, `in` and matches() with a missing value are false (not an error: a tag that some
//   flows lack must not stop the evaluation of a whole snapshot).
// Comparing a number with a string that is a decimal number (a tag `priority: "2"`) compares them as numbers,
// as Kosli's example `flow.tags.priority < 3` needs; a boolean equals the string "true" or "false". Two strings
// order by UTF-16 code units. Any other ordering across types (`"high" < 3`, `true > 1`) is an evaluation error.

export interface FlowContext {
  name: string;
  tags: Readonly<Record<string, string>>;
}

export interface ArtifactContext {
  name: string;
  fingerprint: string;
}

/** What an expression can see. `flow` is null for an artifact without provenance (in no flow). */
export interface ExpressionContext {
  flow: FlowContext | null;
  artifact: ArtifactContext;
}

export interface CompiledExpression {
  /** The expression as written (with its `${{ }}`, if it had one). */
  readonly text: string;
  /** Its canonical form, without `${{ }}`: what a stored rule shows. */
  readonly canonical: string;
  readonly ast: Expr;
  /** Throws ExpressionEvaluationError naming `site` (rule and artifact) when the expression cannot be evaluated. */
  evaluate(context: ExpressionContext, site?: EvaluationSite): boolean;
}

const MISSING = Symbol('missing');
type Value = string | number | boolean | typeof MISSING;
type Fn = (ctx: ExpressionContext) => Value;

/** Thrown inside the closures; turned into ExpressionEvaluationError with the rule and artifact at the top. */
class Failure {
  constructor(readonly at: number, readonly reason: string) {}
}

const NUMERIC = /^-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;
const asNumber = (v: Value): number | undefined =>
  typeof v === 'number' ? v : typeof v === 'string' && NUMERIC.test(v) ? Number(v) : undefined;
const describe = (v: Value): string => (typeof v === 'string' ? `string ${JSON.stringify(v)}` : `${typeof v} ${String(v)}`);

function equal(a: Value, b: Value): boolean {
  if (a === MISSING || b === MISSING) return false;
  if (typeof a === typeof b) return a === b;
  if (typeof a === 'boolean' || typeof b === 'boolean') return String(a) === String(b) && (typeof a === 'string' || typeof b === 'string');
  const [x, y] = [asNumber(a), asNumber(b)];
  return x !== undefined && x === y;
}

function order(op: CompareOp, a: Value, b: Value, at: number): boolean {
  if (a === MISSING || b === MISSING) return false;
  let x: number | string | undefined;
  let y: number | string | undefined;
  if (typeof a === 'string' && typeof b === 'string') [x, y] = [a, b];
  else if (typeof a !== 'boolean' && typeof b !== 'boolean') [x, y] = [asNumber(a), asNumber(b)];
  if (x === undefined || y === undefined) throw new Failure(at, `cannot compare ${describe(a)} with ${describe(b)} using '${op}'`);
  return op === '<' ? x < y : op === '>' ? x > y : op === '<=' ? x <= y : x >= y;
}

function lookup(ref: ContextRef, ctx: ExpressionContext): Value {
  const flow = ctx.flow;
  if (ref.root === 'artifact') return ref.field === undefined ? MISSING : (ctx.artifact[ref.field] ?? MISSING);
  if (ref.field === 'name') return flow?.name ?? MISSING;
  if (ref.field === 'tags' && ref.key !== undefined) {
    const tags = flow?.tags;
    return tags && Object.hasOwn(tags, ref.key) && tags[ref.key] !== null && tags[ref.key] !== undefined ? String(tags[ref.key]) : MISSING;
  }
  return MISSING; // objects are only read by exists(), below
}

function present(ref: ContextRef, ctx: ExpressionContext): boolean {
  if (ref.root === 'artifact' && ref.field === undefined) return true;
  if (ref.root === 'flow' && (ref.field === undefined || (ref.field === 'tags' && ref.key === undefined))) return ctx.flow !== null && ctx.flow !== undefined;
  return lookup(ref, ctx) !== MISSING;
}

// Regexes that come from a value (a tag) rather than a literal, compiled once each; a bounded memo.
const dynamicRegexes = new Map<string, SafeRegex | RegexSyntaxError>();
function dynamicRegex(pattern: string, at: number): SafeRegex {
  let compiled = dynamicRegexes.get(pattern);
  if (!compiled) {
    try {
      compiled = compileSafeRegex(pattern);
    } catch (err) {
      if (!(err instanceof RegexSyntaxError)) throw err;
      compiled = err;
    }
    if (dynamicRegexes.size >= 256) dynamicRegexes.delete(dynamicRegexes.keys().next().value!);
    dynamicRegexes.set(pattern, compiled);
  }
  if (compiled instanceof RegexSyntaxError) throw new Failure(at, `invalid regex ${JSON.stringify(pattern)}: ${compiled.reason} at position ${compiled.offset}`);
  return compiled;
}

function build(e: Expr): Fn {
  const at = e.at ?? 0;
  switch (e.kind) {
    case 'literal': {
      const value = e.value;
      return () => value;
    }
    case 'context': {
      const ref = e.ref;
      return (ctx) => lookup(ref, ctx);
    }
    case 'exists': {
      const ref = e.arg.ref;
      return (ctx) => present(ref, ctx);
    }
    case 'not': {
      const operand = build(e.operand);
      return (ctx) => !operand(ctx);
    }
    case 'and': {
      const [left, right] = [build(e.left), build(e.right)];
      return (ctx) => Boolean(left(ctx)) && Boolean(right(ctx));
    }
    case 'or': {
      const [left, right] = [build(e.left), build(e.right)];
      return (ctx) => Boolean(left(ctx)) || Boolean(right(ctx));
    }
    case 'compare': {
      const [left, right, op] = [build(e.left), build(e.right), e.op];
      if (op === '==') return (ctx) => equal(left(ctx), right(ctx));
      if (op === '!=') return (ctx) => !equal(left(ctx), right(ctx));
      return (ctx) => order(op, left(ctx), right(ctx), at);
    }
    case 'in': {
      const left = build(e.left);
      const items = e.items.map(build);
      return (ctx) => {
        const value = left(ctx);
        return items.some((item) => equal(value, item(ctx)));
      };
    }
    case 'matches': {
      const input = build(e.input);
      const literal = e.regex;
      const pattern = build(e.pattern);
      const patternAt = e.pattern.at ?? at;
      return (ctx) => {
        const value = input(ctx);
        const source = literal ? literal.source : pattern(ctx);
        if (value === MISSING || source === MISSING) return false;
        const regex = literal ?? dynamicRegex(String(source), patternAt);
        try {
          return regex.test(String(value));
        } catch (err) {
          throw new Failure(at, (err as Error).message);
        }
      };
    }
  }
}

/** Parses, checks and compiles an expression; throws ExpressionSyntaxError (with line and column) if malformed. */
export function compileExpression(text: string, origin: ExpressionOrigin = {}): CompiledExpression {
  const ast = parseExpression(text, origin);
  const fn = build(ast);
  return {
    text,
    canonical: printExpression(ast),
    ast,
    evaluate(context: ExpressionContext, site: EvaluationSite = {}): boolean {
      try {
        return fn(context) === true;
      } catch (err) {
        if (!(err instanceof Failure)) throw err;
        throw new ExpressionEvaluationError(text, site, locateIn(text, origin, err.at), err.reason);
      }
    },
  };
}
