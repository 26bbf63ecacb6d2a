import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EvidentError } from '../../src/core/index.js';
import {
  EXPRESSION_MAX_DEPTH, ExpressionEvaluationError, ExpressionSyntaxError, REGEX_MAX_INPUT, RegexSyntaxError, compileExpression, compileSafeRegex,
  parseExpression, printExpression, type CompiledExpression, type ExpressionContext, type Expr,
} from '../../src/formats/index.js';

const FP = 'a'.repeat(64);
const ctx = (tags: Record<string, string> = {}, name = 'runner', artifact = 'cyberdojo/runner:16d9990'): ExpressionContext => ({
  flow: { name, tags }, artifact: { name: artifact, fingerprint: FP },
});
const NO_PROVENANCE: ExpressionContext = { flow: null, artifact: { name: 'datadog:agent', fingerprint: FP } };
const run = (text: string, c: ExpressionContext = ctx()): boolean => compileExpression(text).evaluate(c, { rule: 'r', artifact: 'a' });

function syntaxError(text: string, origin = {}): ExpressionSyntaxError {
  try {
    compileExpression(text, origin);
  } catch (err) {
    expect(err).toBeInstanceOf(ExpressionSyntaxError);
    expect((err as EvidentError).code).toBe('INVALID_ARGUMENT');
    return err as ExpressionSyntaxError;
  }
  throw new Error(`expected ${text} to be refused`);
}

describe("Kosli's documented expressions", () => {
  // Every example of https://docs.kosli.com/policy-reference/environment_policy and of the earlier
  // "Policy Expressions" examples (kosli-dev/cli docs), with the value each has on one context.
  const tags = { 'risk-level': 'high', priority: '2', key_name: 'value', 'key.with.dots': 'value', team: 'a' };
  const examples: [string, boolean][] = [
    ['${{ exists(flow) }}', true],
    ['${{ flow.name in ["runner", \'saver\', differ] }}', true],
    ['${{ matches(artifact.name, "^datadog:.*") }}', false],
    ['${{ flow.name == "runner" and matches(artifact.name, "^cyberdojo/runner:.*") }}', true],
    ['${{ flow.tags.risk-level == "high" or matches(artifact.name, "^runner:.*") }}', true],
    ['${{ not flow.tags.risk-level == "high"}}', false],
    ['${{ flow.tags.risk-level != "high"}}', false],
    ['${{ flow.tags.key.with.dots == "value"}}', true],
    ['${{ flow.tags.risk-level >= 2 }}', true],
    ['${{ flow.tags.priority < 3 }}', true],
    ['${{ flow.tags.priority > 1 }}', true],
    ['${{ flow.tags.priority <= 2 }}', true],
    ['${{ flow.name == \'prod\' and (flow.tags.key_name == "value" or artifact.name == \'critical-service\') }}', false],
    ['${{ flow.name == \'HIGH-RISK\' and artifact.fingerprint == "37193ba1f3da2581e93ff1a9bba523241a7982a6c01dd311494b0aff6d349462" }}', false],
    ['${{ flow.tags.risk-level == "high" and matches(artifact.name, "^prod:.*") }}', false],
    ['${{ flow.name == "a" or flow.name == "b" }}', false],
  ];
  for (const [text, want] of examples) {
    it(text, () => {
      // Kosli's `risk-level >= 2` example implies a numeric risk level ("high" >= 2 is an evaluation error)
      if (text.includes('risk-level >= 2')) return expect(run(text, ctx({ ...tags, 'risk-level': '3' }))).toBe(want);
      expect(run(text, ctx(tags))).toBe(want);
    });
  }
});

describe('semantics', () => {
  it('binds not looser than a comparison and and tighter than or', () => {
    expect(printExpression(parseExpression('not flow.name == "x"'))).toBe('not flow.name == "x"');
    expect(parseExpression('not flow.name == "x"').kind).toBe('not');
    expect(parseExpression('a == a or a == b and a == c').kind).toBe('or');
    expect(run('"a" == "a" or "a" == "b" and "a" == "c"')).toBe(true);
    expect(run('("a" == "a" or "a" == "b") and "a" == "c"')).toBe(false);
  });

  it('reads strings in either quote, keeps backslashes other than escapes, and bare words as strings', () => {
    expect(run(`"it's" == 'it\\'s'`)).toBe(true);
    expect(run('"a\\"b" == \'a"b\'')).toBe(true);
    expect(run('matches("v12.3", "^v\\d+\\.\\d+$")')).toBe(true);
    expect(run('flow.name == runner')).toBe(true);
    expect(run('flow.name in []')).toBe(false);
    expect(run('true == true and false != true')).toBe(true);
  });

  it('treats a missing value as Kosli does: exists() false, == false, != true, ordering/in/matches false', () => {
    const c = ctx({ team: 'a' });
    expect(run('exists(flow.tags.env)', c)).toBe(false);
    expect(run('exists(flow.tags.team)', c)).toBe(true);
    expect(run('flow.tags.env == "aws-prod"', c)).toBe(false);
    expect(run('flow.tags.env != "aws-prod"', c)).toBe(true);
    expect(run('exists(flow.tags.env) and flow.tags.env != "aws-prod"', c)).toBe(false);
    expect(run('flow.tags.env < 3', c)).toBe(false);
    expect(run('flow.tags.env >= "a"', c)).toBe(false);
    expect(run('flow.tags.env in ["a", "b"]', c)).toBe(false);
    expect(run('matches(flow.tags.env, ".*")', c)).toBe(false);
    expect(run('matches(artifact.name, flow.tags.env)', c)).toBe(false);
    expect(run('flow.tags.env == flow.tags.other', c)).toBe(false);
  });

  it('gives an artifact without provenance no flow', () => {
    expect(run('exists(flow)', NO_PROVENANCE)).toBe(false);
    expect(run('exists(flow.tags)', NO_PROVENANCE)).toBe(false);
    expect(run('exists(artifact)', NO_PROVENANCE)).toBe(true);
    expect(run('flow.name == "runner"', NO_PROVENANCE)).toBe(false);
    expect(run('matches(artifact.name, "^datadog:")', NO_PROVENANCE)).toBe(true);
  });

  it('compares numeric strings with numbers as numbers and booleans with "true"/"false"', () => {
    expect(run('flow.tags.n == 10', ctx({ n: '10.0' }))).toBe(true);
    expect(run('flow.tags.n > 9', ctx({ n: '10' }))).toBe(true);
    expect(run('flow.tags.n > "9"', ctx({ n: '10' }))).toBe(false); // two strings: code unit order
    expect(run('flow.tags.b == true', ctx({ b: 'true' }))).toBe(true);
    expect(run('flow.tags.b == 1', ctx({ b: 'true' }))).toBe(false);
    expect(run('flow.name == 1')).toBe(false);
  });

  it('does not read tags from the prototype', () => {
    expect(run('exists(flow.tags.constructor)')).toBe(false);
    expect(run('flow.tags.toString == "x"')).toBe(false);
  });
});

describe('evaluation errors name the rule and the artifact', () => {
  const site = { rule: 'prod v2 artifacts.attestations[1].if', artifact: 'runner (abc)' };
  const failure = (text: string, c: ExpressionContext): ExpressionEvaluationError => {
    try {
      compileExpression(text).evaluate(c, site);
    } catch (err) {
      expect(err).toBeInstanceOf(ExpressionEvaluationError);
      return err as ExpressionEvaluationError;
    }
    throw new Error('expected an evaluation error');
  };

  it('refuses < between a string and a number', () => {
    const err = failure('${{ flow.tags.risk-level < 3 }}', ctx({ 'risk-level': 'high' }));
    expect(err.message).toBe(
      'cannot evaluate prod v2 artifacts.attestations[1].if for artifact runner (abc): cannot compare string "high" with number 3 using \'<\' (at 1:5 of ${{ flow.tags.risk-level < 3 }})',
    );
    expect([err.rule, err.artifact, err.code]).toEqual([site.rule, site.artifact, 'INVALID_ARGUMENT']);
  });

  it('refuses ordering booleans', () => {
    expect(failure('(flow.name == "runner") > 1', ctx()).message).toContain("cannot compare boolean true with number 1 using '>'");
  });

  it('refuses an invalid regex that comes from a tag, pointing at it', () => {
    const err = failure('matches(artifact.name, flow.tags.pattern)', ctx({ pattern: '(a' }));
    expect(err.message).toContain('invalid regex "(a": missing \')\' at position 0 (at 1:24 of');
  });

  it('refuses a regex from a tag that needs backtracking', () => {
    expect(failure('matches(artifact.name, flow.tags.p)', ctx({ p: '(a)\\1' })).message).toContain('backreferences are not supported');
  });

  it('refuses an input longer than the regex input limit', () => {
    const long = ctx({}, 'runner', 'x'.repeat(REGEX_MAX_INPUT + 1));
    expect(failure('matches(artifact.name, "x")', long).message).toContain(`input longer than ${REGEX_MAX_INPUT} characters`);
  });
});

describe('syntax errors point at the offending token', () => {
  const cases: [string, string][] = [
    ['${{ flow.name == }}', '1:18: if: invalid expression: expected a value, found the end of the expression'],
    ['${{ flow.nme == "x" }}', "1:5: if: invalid expression: unknown context 'flow.nme': the contexts are flow.name, flow.tags.<key>, artifact.name and artifact.fingerprint"],
    ['${{ trail.name == "x" }}', "1:5: if: invalid expression: unknown context 'trail.name'"],
    ['${{ flow.name = "x" }}', '1:15: if: invalid expression: unexpected "=": use \'==\' to compare'],
    ['${{ flow.name == "a" && flow.name == "b" }}', '1:22: if: invalid expression: unexpected "&&": use \'and\''],
    ['${{ flow.name == "a }}', '1:18: if: invalid expression: unterminated string'],
    ['${{ flow.name == "a" }', "1:23: if: invalid expression: missing '}}' at the end of the ${{ }} expression"],
    ['${{ }}', '1:5: if: invalid expression: empty expression'],
    ['${{ flow.name }}', "1:5: if: invalid expression: the expression must be a condition (a comparison, 'in', exists() or matches()), not a value"],
    ['${{ flow.name == "a" and artifact.name }}', "1:26: if: invalid expression: 'and' operand must be a condition"],
    ['${{ flow == "runner" }}', "1:5: if: invalid expression: 'flow' is an object: use a field such as flow.name or flow.tags.<key>, or exists(flow)"],
    ['${{ 1 < 2 < 3 }}', "1:11: if: invalid expression: comparisons cannot be chained: join them with 'and'"],
    ['${{ flow.name in "runner" }}', "1:18: if: invalid expression: expected a list '[...]' after 'in', found '\"runner\"'"],
    ['${{ flow.name in ["a" "b"] }}', "1:23: if: invalid expression: expected ',' or ']' in the list, found '\"b\"'"],
    ['${{ contains(flow.name, "a") }}', "1:5: if: invalid expression: unknown function 'contains': the functions are exists() and matches()"],
    ['${{ exists("x") }}', '1:12: if: invalid expression: exists() takes a context, such as exists(flow.tags.team)'],
    ['${{ matches(artifact.name) }}', '1:5: if: invalid expression: matches() takes 2 arguments (input, regex), found 1'],
    ['${{ matches(artifact.name, "^(datadog") }}', "1:30: if: invalid expression: invalid regex: missing ')'"],
    ['${{ matches(artifact.name, "a**") }}', '1:31: if: invalid expression: invalid regex: multiple repeat'],
    ['${{ (flow.name == "a" }}', "1:23: if: invalid expression: expected ')', found the end of the expression"],
    ['${{ flow.name == "a" ) }}', "1:22: if: invalid expression: unexpected ')': expected 'and', 'or' or the end of the expression"],
    ['${{ flow. == "a" }}', "1:9: if: invalid expression: a '.' must be followed by a name"],
    ['${{ 12abc == 1 }}', '1:5: if: invalid expression: malformed number "12a"'],
  ];
  for (const [text, want] of cases) {
    it(text, () => expect(syntaxError(text).message).toContain(`expression:${want}`));
  }

  it('places the position in the file the caller says the expression is in', () => {
    // The expression is the value of `if:` at line 7, column 11 of policy.yml.
    const origin = { source: 'policy.yml', path: 'artifacts.attestations[1].if', locate: (o: number) => ({ line: 7, column: 11 + o }) };
    const err = syntaxError('${{ flow.name == }}', origin);
    expect(err.message).toBe('policy.yml:7:28: artifacts.attestations[1].if: invalid expression: expected a value, found the end of the expression');
    expect(err.details).toEqual([{ path: 'artifacts.attestations[1].if', message: 'invalid expression: expected a value, found the end of the expression', line: 7, column: 28 }]);
  });

  it('counts lines inside a multi-line expression', () => {
    expect(syntaxError('${{ flow.name == "a"\n   and ) }}').message).toContain('expression:2:8: if: invalid expression: expected a value');
  });

  it(`refuses nesting deeper than ${EXPRESSION_MAX_DEPTH} without overflowing the stack`, () => {
    expect(syntaxError('('.repeat(2000) + 'true' + ')'.repeat(2000)).message).toContain(`nested more than ${EXPRESSION_MAX_DEPTH} deep`);
    expect(syntaxError('not '.repeat(2000) + 'true').message).toContain('nested more than');
    expect(run('('.repeat(EXPRESSION_MAX_DEPTH) + 'true' + ')'.repeat(EXPRESSION_MAX_DEPTH))).toBe(true);
  });
});

describe('the regex guard: matching never backtracks', () => {
  it('answers catastrophic patterns on long inputs', () => {
    const a = 'a'.repeat(3000);
    expect(compileSafeRegex('^(a+)+$').test(`${a}!`)).toBe(false);
    expect(compileSafeRegex('^(a|a)*b$').test(a)).toBe(false);
    expect(compileSafeRegex('^(a|aa)+$').test(a)).toBe(true);
    expect(compileSafeRegex('.*a.*a.*a.*a.*a.*a.*b').test(a)).toBe(false);
    expect(compileSafeRegex('(x+x+)+y').test('x'.repeat(4000))).toBe(false);
    expect(run(`matches(artifact.name, "^(a+)+$")`, ctx({}, 'f', `${'a'.repeat(4000)}!`))).toBe(false);
  });

  it('matches code points, not UTF-16 units', () => {
    expect(compileSafeRegex('^.$').test('😀')).toBe(true);
    expect(compileSafeRegex('^..$').test('😀')).toBe(false);
    expect(compileSafeRegex('^[😀-😂]+$').test('😁😂')).toBe(true);
    expect(compileSafeRegex('^\\u00e9t\\xe9$').test('été')).toBe(true);
  });

  const refused: [string, string, number][] = [
    ['(a)\\1', 'backreferences are not supported (matching never backtracks)', 3],
    ['(?<x>a)\\k<x>', 'backreferences are not supported', 7],
    ['(?P<x>a)(?P=x)', 'backreferences are not supported', 8],
    ['a(?=b)', 'lookaround is not supported (matching never backtracks)', 1],
    ['(?<!a)b', 'lookaround is not supported', 0],
    ['(?i)abc', 'unsupported group syntax', 0],
    ['*a', 'nothing to repeat', 0],
    ['a{2,1}', 'repeat minimum above its maximum', 1],
    ['a{1001}', 'repeat count above 1000', 1],
    ['(a{1000}){3}', 'pattern too large', 0],
    ['[z-a]', 'bad character range', 1],
    ['[ab', 'unterminated character class', 0],
    ['ab)', "unbalanced ')'", 2],
    ['\\p{L}', 'unsupported escape \\p', 0],
    ['a\\', 'pattern ends with a backslash', 1],
  ];
  for (const [pattern, reason, offset] of refused) {
    it(`refuses ${pattern}`, () => {
      let caught: unknown;
      try {
        compileSafeRegex(pattern);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(RegexSyntaxError);
      expect((caught as RegexSyntaxError).reason).toContain(reason);
      expect((caught as RegexSyntaxError).offset).toBe(offset);
    });
  }

  it('agrees with JavaScript RegExp (u flag) on patterns both accept', () => {
    const atom = fc.constantFrom('a', 'b', '.', '[ab]', '[^a]', '[a-c_]', '\\d', '\\w', '\\s', '\\W', '\\.', 'x');
    const pattern: fc.Arbitrary<string> = fc.letrec<{ p: string }>((tie) => ({
      p: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        atom,
        fc.tuple(tie('p'), tie('p')).map(([x, y]) => x + y),
        fc.tuple(tie('p'), tie('p')).map(([x, y]) => `(?:${x}|${y})`),
        fc.tuple(tie('p'), fc.constantFrom('*', '+', '?', '{0,2}', '{1,}', '{2}', '*?')).map(([x, q]) => `(?:${x})${q}`),
        fc.tuple(fc.constantFrom('^', '$', '\\b', '\\B'), tie('p')).map(([anchor, x]) => anchor + x),
      ),
    })).p;
    const input = fc.string({ unit: fc.constantFrom('a', 'b', 'c', '1', '_', ' ', '.', '\n', 'x'), maxLength: 12 });
    fc.assert(fc.property(pattern, input, (p, s) => {
      expect(compileSafeRegex(p).test(s)).toBe(new RegExp(p, 'u').test(s));
    }), { numRuns: 2000 });
  });
});

// ---- properties ----

const TOKENS = ['flow.name', 'flow.tags.team', 'artifact.name', 'flow', '"a"', "'b'", '3', '-1.5', 'true', 'false', 'differ', '==', '!=', '<', '>=',
  'and', 'or', 'not', 'in', '[', ']', '(', ')', ',', 'exists', 'matches', '"^a.*"', '${{', '}}', '=', '&&', '.', '\\', '"'];

const stripped = (e: Expr): unknown => JSON.parse(JSON.stringify(e, (k, v) => (k === 'at' || k === 'regex' ? undefined : v)));

const key = fc.stringMatching(/^[A-Za-z0-9_-]{1,6}(\.[A-Za-z0-9_-]{1,4})?$/);
const valueExpr: fc.Arbitrary<Expr> = fc.oneof(
  fc.oneof(fc.string({ maxLength: 6 }), fc.integer({ min: -1000, max: 1000 }), fc.boolean()).map((value): Expr => ({ kind: 'literal', value })),
  fc.constantFrom<Expr>(
    { kind: 'context', ref: { root: 'flow', field: 'name' } },
    { kind: 'context', ref: { root: 'artifact', field: 'name' } },
    { kind: 'context', ref: { root: 'artifact', field: 'fingerprint' } },
  ),
  key.map((k): Expr => ({ kind: 'context', ref: { root: 'flow', field: 'tags', key: k } })),
);
const condition: fc.Arbitrary<Expr> = fc.letrec<{ c: Expr }>((tie) => ({
  c: fc.oneof(
    { depthSize: 'small' },
    fc.tuple(fc.constantFrom('==', '!=', '<', '>', '<=', '>=' as const), valueExpr, valueExpr).map(([op, left, right]): Expr => ({ kind: 'compare', op, left, right })),
    fc.tuple(valueExpr, fc.array(valueExpr, { maxLength: 3 })).map(([left, items]): Expr => ({ kind: 'in', left, items })),
    key.map((k): Expr => ({ kind: 'exists', arg: { kind: 'context', ref: { root: 'flow', field: 'tags', key: k } } })),
    fc.tuple(valueExpr, fc.constantFrom('^a', 'b$', '[0-9]+', '')).map(([input, p]): Expr => ({ kind: 'matches', input, pattern: { kind: 'literal', value: p } })),
    fc.boolean().map((value): Expr => ({ kind: 'literal', value })),
    tie('c').map((operand): Expr => ({ kind: 'not', operand })),
    fc.tuple(fc.constantFrom('and', 'or' as const), tie('c'), tie('c')).map(([kind, left, right]): Expr => ({ kind, left, right })),
  ),
})).c;
const context = fc.record({
  flow: fc.option(fc.record({ name: fc.string({ maxLength: 4 }), tags: fc.dictionary(key, fc.oneof(fc.string({ maxLength: 4 }), fc.integer().map(String))) }), { nil: null }),
  artifact: fc.record({ name: fc.string({ maxLength: 6 }), fingerprint: fc.constant(FP) }),
});

describe('properties', () => {
  it('never throws anything but ExpressionSyntaxError on arbitrary text', () => {
    const check = (text: string): void => {
      try {
        compileExpression(text);
      } catch (err) {
        expect(err).toBeInstanceOf(ExpressionSyntaxError);
        const e = err as ExpressionSyntaxError;
        expect(e.line).toBeGreaterThanOrEqual(1);
        expect(e.column).toBeGreaterThanOrEqual(1);
      }
    };
    fc.assert(fc.property(fc.string({ maxLength: 80 }), check), { numRuns: 2000 });
    fc.assert(fc.property(fc.array(fc.constantFrom(...TOKENS), { maxLength: 25 }).map((t) => t.join(' ')), check), { numRuns: 5000 });
  });

  it('prints an expression that parses back to the same tree', () => {
    fc.assert(fc.property(condition, (e) => {
      const text = printExpression(e);
      const back = parseExpression(`\${{ ${text} }}`);
      expect(stripped(back)).toEqual(stripped(e));
      expect(printExpression(back)).toBe(text);
    }), { numRuns: 1000 });
  });

  it('evaluates deterministically: the same answer (or the same error) every time, from any compilation', () => {
    const outcome = (compiled: CompiledExpression, c: ExpressionContext): string => {
      try {
        return String(compiled.evaluate(c));
      } catch (err) {
        expect(err).toBeInstanceOf(ExpressionEvaluationError);
        return (err as Error).message;
      }
    };
    fc.assert(fc.property(condition, context, (e, c) => {
      const compiled = compileExpression(printExpression(e));
      const first = outcome(compiled, c);
      expect(outcome(compiled, c)).toBe(first);
      expect(outcome(compileExpression(printExpression(e)), structuredClone(c))).toBe(first);
    }), { numRuns: 1000 });
  });
});
