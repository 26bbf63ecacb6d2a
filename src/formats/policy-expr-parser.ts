import { ExpressionSyntaxError, type ExpressionOrigin } from './policy-expr-errors.js';
import { tokenize, type Token } from './policy-expr-lexer.js';
import { RegexSyntaxError, compileSafeRegex, type SafeRegex } from './policy-regex.js';

// Grammar (lowest precedence first; `not` binds looser than a comparison, as in Kosli's example
// `not flow.tags.risk-level == "high"`, which means not (risk-level == "high")):
//
//   expr       = or
//   or         = and { "or" and }
//   and        = not { "and" not }
//   not        = "not" not | comparison
//   comparison = operand [ ( "==" | "!=" | "<" | ">" | "<=" | ">=" ) operand | "in" list ]
//   list       = "[" [ operand { "," operand } ] "]"
//   operand    = string | number | "true" | "false" | context | word | call | "(" expr ")"
//   call       = "exists" "(" context ")" | "matches" "(" operand "," operand ")"
//   context    = "flow" | "flow.name" | "flow.tags" | "flow.tags." key | "artifact" | "artifact.name" | "artifact.fingerprint"
//
// A word that is not a context (no dots, not flow/artifact) is a string: Kosli's example
// `flow.name in ["runner", 'saver', differ]`. A dotted word with another root (`trail.name`) is refused.
// Types are checked here, so a policy that could never evaluate is refused when it is read: `and`, `or`,
// `not` and the whole expression need conditions (a comparison, `in`, exists(), matches(), true/false);
// `flow`, `flow.tags` and `artifact` are objects, usable only in exists(); a literal regex is compiled now.

export type CompareOp = '==' | '!=' | '<' | '>' | '<=' | '>=';
export type ContextRef =
  | { root: 'flow'; field?: undefined }
  | { root: 'flow'; field: 'name' }
  | { root: 'flow'; field: 'tags'; key?: string }
  | { root: 'artifact'; field?: 'name' | 'fingerprint' };

/** `at` is the offset of the node's first token in the expression's text. */
export type Expr =
  | { kind: 'literal'; value: string | number | boolean; at?: number }
  | { kind: 'context'; ref: ContextRef; at?: number }
  | { kind: 'not'; operand: Expr; at?: number }
  | { kind: 'and' | 'or'; left: Expr; right: Expr; at?: number }
  | { kind: 'compare'; op: CompareOp; left: Expr; right: Expr; at?: number }
  | { kind: 'in'; left: Expr; items: Expr[]; at?: number }
  | { kind: 'exists'; arg: Expr & { kind: 'context' }; at?: number }
  | { kind: 'matches'; input: Expr; pattern: Expr; regex?: SafeRegex; at?: number };

export const EXPRESSION_MAX_DEPTH = 64;

/** Objects (flow, flow.tags, artifact) can only be tested with exists(). */
export function isObjectRef(ref: ContextRef): boolean {
  return ref.field === undefined || (ref.field === 'tags' && ref.key === undefined);
}

export function isCondition(e: Expr): boolean {
  return e.kind !== 'context' && (e.kind !== 'literal' || typeof e.value === 'boolean');
}

function contextOf(word: string): ContextRef | 'unknown' | undefined {
  const [root, field, ...rest] = word.split('.');
  if (root !== 'flow' && root !== 'artifact') return word.includes('.') ? 'unknown' : undefined;
  if (root === 'flow' && field === undefined) return { root };
  if (root === 'flow' && field === 'name' && rest.length === 0) return { root, field };
  if (root === 'flow' && field === 'tags') return rest.length === 0 ? { root, field } : { root, field, key: rest.join('.') };
  if (root === 'artifact' && (field === undefined || ((field === 'name' || field === 'fingerprint') && rest.length === 0))) return { root, field };
  return 'unknown';
}

class Parser {
  private pos = 0;
  private depth = 0;
  constructor(private readonly text: string, private readonly origin: ExpressionOrigin, private readonly tokens: Token[]) {}

  private fail(at: number, reason: string): never {
    throw new ExpressionSyntaxError(this.text, this.origin, at, reason);
  }
  private peek(): Token {
    return this.tokens[this.pos]!;
  }
  private next(): Token {
    return this.tokens[this.pos++]!;
  }
  private describe(t: Token): string {
    return t.kind === 'end' ? 'the end of the expression' : `'${t.text}'`;
  }
  private isKeyword(t: Token, word: string): boolean {
    return t.kind === 'keyword' && t.value === word;
  }
  private expect(kind: Token['kind'], what: string): Token {
    const t = this.next();
    if (t.kind !== kind) this.fail(t.start, `expected ${what}, found ${this.describe(t)}`);
    return t;
  }
  private condition(e: Expr, role: string): Expr {
    if (!isCondition(e)) this.fail(e.at ?? 0, `${role} must be a condition (a comparison, 'in', exists() or matches()), not a value`);
    return e;
  }
  private value(e: Expr): Expr {
    if (e.kind === 'context' && isObjectRef(e.ref)) {
      this.fail(e.at ?? 0, `'${printContext(e.ref)}' is an object: use a field such as flow.name or flow.tags.<key>, or exists(${printContext(e.ref)})`);
    }
    return e;
  }

  parse(): Expr {
    if (this.peek().kind === 'end') this.fail(this.peek().start, 'empty expression');
    const e = this.condition(this.or(), 'the expression');
    const t = this.peek();
    if (t.kind !== 'end') this.fail(t.start, `unexpected ${this.describe(t)}: expected 'and', 'or' or the end of the expression`);
    return e;
  }

  private or(): Expr {
    let left = this.and();
    while (this.isKeyword(this.peek(), 'or')) {
      const at = this.next().start;
      left = { kind: 'or', left: this.condition(left, "'or' operand"), right: this.condition(this.and(), "'or' operand"), at: left.at ?? at };
    }
    return left;
  }

  private and(): Expr {
    let left = this.not();
    while (this.isKeyword(this.peek(), 'and')) {
      const at = this.next().start;
      left = { kind: 'and', left: this.condition(left, "'and' operand"), right: this.condition(this.not(), "'and' operand"), at: left.at ?? at };
    }
    return left;
  }

  private not(): Expr {
    if (!this.isKeyword(this.peek(), 'not')) return this.comparison();
    const at = this.next().start;
    this.nest(at);
    const operand = this.condition(this.not(), "'not' operand");
    this.depth--;
    return { kind: 'not', operand, at };
  }

  private comparison(): Expr {
    const left = this.operand();
    const t = this.peek();
    if (t.kind === 'op') {
      this.next();
      const right = this.value(this.operand());
      const after = this.peek();
      if (after.kind === 'op' || this.isKeyword(after, 'in')) this.fail(after.start, "comparisons cannot be chained: join them with 'and'");
      return { kind: 'compare', op: t.value as CompareOp, left: this.value(left), right, at: left.at ?? t.start };
    }
    if (this.isKeyword(t, 'in')) {
      this.next();
      return { kind: 'in', left: this.value(left), items: this.list(), at: left.at ?? t.start };
    }
    return left;
  }

  private list(): Expr[] {
    const open = this.peek();
    if (open.kind !== '[') this.fail(open.start, `expected a list '[...]' after 'in', found ${this.describe(open)}`);
    this.next();
    const items: Expr[] = [];
    if (this.peek().kind === ']') {
      this.next();
      return items;
    }
    for (;;) {
      items.push(this.value(this.operand()));
      const t = this.next();
      if (t.kind === ']') return items;
      if (t.kind !== ',') this.fail(t.start, `expected ',' or ']' in the list, found ${this.describe(t)}`);
    }
  }

  private nest(at: number): void {
    if (++this.depth > EXPRESSION_MAX_DEPTH) this.fail(at, `nested more than ${EXPRESSION_MAX_DEPTH} deep`);
  }

  private operand(): Expr {
    const t = this.next();
    if (t.kind === 'string' || t.kind === 'number') return { kind: 'literal', value: t.value, at: t.start };
    if (this.isKeyword(t, 'true') || this.isKeyword(t, 'false')) return { kind: 'literal', value: t.value === 'true', at: t.start };
    if (t.kind === '(') {
      this.nest(t.start);
      const inner = this.or();
      this.expect(')', "')'");
      this.depth--;
      return inner;
    }
    if (t.kind === '[') this.fail(t.start, "a list can only follow 'in'");
    if (t.kind !== 'word') this.fail(t.start, `expected a value, found ${this.describe(t)}`);
    const word = t.value as string;
    if (this.peek().kind === '(') return this.call(t);
    const ref = contextOf(word);
    if (ref === 'unknown') {
      this.fail(t.start, `unknown context '${word}': the contexts are flow.name, flow.tags.<key>, artifact.name and artifact.fingerprint`);
    }
    return ref ? { kind: 'context', ref, at: t.start } : { kind: 'literal', value: word, at: t.start };
  }

  private call(name: Token): Expr {
    const open = this.next();
    this.nest(open.start);
    const args: Expr[] = [];
    if (this.peek().kind !== ')') {
      for (;;) {
        args.push(this.operand());
        if (this.peek().kind !== ',') break;
        this.next();
      }
    }
    this.expect(')', args.length === 0 ? "')'" : "',' or ')'");
    this.depth--;
    const at = name.start;
    if (name.value === 'exists') {
      const arg = args[0];
      if (args.length !== 1) this.fail(at, `exists() takes 1 argument, found ${args.length}`);
      if (arg?.kind !== 'context') this.fail(arg?.at ?? at, 'exists() takes a context, such as exists(flow.tags.team)');
      return { kind: 'exists', arg, at };
    }
    if (name.value === 'matches') {
      if (args.length !== 2) this.fail(at, `matches() takes 2 arguments (input, regex), found ${args.length}`);
      const [input, pattern] = [this.value(args[0]!), this.value(args[1]!)];
      if (pattern.kind === 'literal' && typeof pattern.value !== 'string') this.fail(pattern.at ?? at, 'the regex of matches() must be a string');
      if (pattern.kind !== 'literal') return { kind: 'matches', input, pattern, at };
      try {
        return { kind: 'matches', input, pattern, regex: compileSafeRegex(pattern.value as string), at };
      } catch (err) {
        if (!(err instanceof RegexSyntaxError)) throw err;
        // Point into the string when it is written as is (no escapes), else at its opening quote.
        const start = (pattern.at ?? at) + 1;
        const exact = this.text.slice(start, start + (pattern.value as string).length) === pattern.value;
        return this.fail(exact ? start + err.offset : start - 1, `invalid regex: ${err.reason}`);
      }
    }
    return this.fail(at, `unknown function '${name.value}': the functions are exists() and matches()`);
  }
}

/** Parses and type-checks an expression (with or without its `${{ }}`), or throws ExpressionSyntaxError. */
export function parseExpression(text: string, origin: ExpressionOrigin = {}): Expr {
  return new Parser(text, origin, tokenize(text, origin)).parse();
}

export function printContext(ref: ContextRef): string {
  return [ref.root, ref.field, 'key' in ref ? ref.key : undefined].filter((p) => p !== undefined).join('.');
}

const PRECEDENCE: Record<Expr['kind'], number> = { or: 1, and: 2, not: 3, compare: 4, in: 4, exists: 5, matches: 5, literal: 5, context: 5 };

function printLiteral(value: string | number | boolean): string {
  return typeof value === 'string' ? `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"` : String(value);
}

/** The canonical text of an expression (without `${{ }}`): double-quoted strings, minimal parentheses. */
export function printExpression(e: Expr): string {
  const inner = (child: Expr, min: number): string => {
    const text = printExpression(child);
    return PRECEDENCE[child.kind] < min ? `(${text})` : text;
  };
  switch (e.kind) {
    case 'literal': return printLiteral(e.value);
    case 'context': return printContext(e.ref);
    case 'not': return `not ${inner(e.operand, 3)}`;
    case 'and': return `${inner(e.left, 2)} and ${inner(e.right, 3)}`;
    case 'or': return `${inner(e.left, 1)} or ${inner(e.right, 2)}`;
    case 'compare': return `${inner(e.left, 5)} ${e.op} ${inner(e.right, 5)}`;
    case 'in': return `${inner(e.left, 5)} in [${e.items.map((i) => inner(i, 5)).join(', ')}]`;
    case 'exists': return `exists(${printExpression(e.arg)})`;
    case 'matches': return `matches(${printExpression(e.input)}, ${printExpression(e.pattern)})`;
  }
}
