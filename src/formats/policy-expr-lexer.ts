import { ExpressionSyntaxError, type ExpressionOrigin } from './policy-expr-errors.js';

// Tokens of Kosli's policy expressions (https://docs.kosli.com/policy-reference/environment_policy#policy-expressions):
// `${{ flow.tags.risk-level == "high" and matches(artifact.name, "^prod:.*") }}`.
//
// - Strings are in double or single quotes (Kosli's examples use both). A backslash escapes the quote and
//   itself; any other backslash is kept as written, so regexes read naturally: "^v\d+\.\d+" is ^v\d+\.\d+.
// - Numbers: -12, 3.5, 1e3.
// - Words: a letter or `_`, then letters, digits, `_` and `-`, with `.`-separated parts of the same characters:
//   `flow.tags.risk-level`, `flow.tags.key.with.dots` (Kosli: "keys containing dots are supported"), `differ`.
//   `and or not in true false` are keywords.
// Offsets are in the whole text (`${{` included), so that errors point at the right column of the file.

export const EXPRESSION_MAX_CHARS = 10_000;

export type TokenKind = 'string' | 'number' | 'word' | 'keyword' | 'op' | '(' | ')' | '[' | ']' | ',' | 'end';

export interface Token {
  kind: TokenKind;
  /** The source text of the token ('' at the end). */
  text: string;
  /** The string's value, the number, or the word. */
  value: string | number;
  start: number;
}

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'true', 'false']);
const WORD = /[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*/y;
const NUMBER = /-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const OPS = ['==', '!=', '<=', '>=', '<', '>'];
const HINTS: Record<string, string> = {
  '&&': "use 'and'",
  '||': "use 'or'",
  '!': "use 'not' (or '!=')",
  '=': "use '==' to compare",
};

/** The part of `text` inside `${{ }}` (or all of it, when it has no wrapper), as [start, end) offsets. */
export function expressionBody(text: string, origin: ExpressionOrigin): [number, number] {
  if (text.length > EXPRESSION_MAX_CHARS) throw new ExpressionSyntaxError(text, origin, 0, `longer than ${EXPRESSION_MAX_CHARS} characters`);
  const lead = text.length - text.trimStart().length;
  const end = text.trimEnd().length;
  if (!text.startsWith('${{', lead)) return [lead, end];
  const close = text.lastIndexOf('}}', end);
  if (close < lead + 3 || close !== end - 2) throw new ExpressionSyntaxError(text, origin, end, "missing '}}' at the end of the ${{ }} expression");
  return [lead + 3, close];
}

export function tokenize(text: string, origin: ExpressionOrigin): Token[] {
  const [from, to] = expressionBody(text, origin);
  const fail = (at: number, reason: string): never => {
    throw new ExpressionSyntaxError(text, origin, at, reason);
  };
  const tokens: Token[] = [];
  let i = from;
  const sticky = (re: RegExp): string | undefined => {
    re.lastIndex = i;
    const m = re.exec(text);
    return m && m.index + m[0].length <= to ? m[0] : undefined;
  };
  while (i < to) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const start = i;
    if (c === '"' || c === "'") {
      let value = '';
      for (i++; i < to && text[i] !== c; i++) {
        if (text[i] === '\\' && (text[i + 1] === c || text[i + 1] === '\\') && i + 1 < to) i++;
        value += text[i];
      }
      if (i >= to) fail(start, 'unterminated string');
      i++;
      tokens.push({ kind: 'string', text: text.slice(start, i), value, start });
      continue;
    }
    const op = OPS.find((o) => text.startsWith(o, i) && i + o.length <= to);
    if (op) {
      i += op.length;
      tokens.push({ kind: 'op', text: op, value: op, start });
      continue;
    }
    if ('()[],'.includes(c)) {
      i++;
      tokens.push({ kind: c as TokenKind, text: c, value: c, start });
      continue;
    }
    const number = /[-0-9]/.test(c) ? sticky(NUMBER) : undefined;
    if (number !== undefined) {
      i += number.length;
      if (/[A-Za-z0-9_.]/.test(text[i] ?? '') && i < to) fail(start, `malformed number ${JSON.stringify(text.slice(start, i + 1))}`);
      const value = Number(number);
      if (!Number.isFinite(value)) fail(start, `number ${number.slice(0, 20)}… is too large`);
      tokens.push({ kind: 'number', text: number, value, start });
      continue;
    }
    const word = sticky(WORD);
    if (word !== undefined) {
      i += word.length;
      if (text[i] === '.' && i < to) fail(i, "a '.' must be followed by a name (letters, digits, '_' or '-')");
      tokens.push({ kind: KEYWORDS.has(word) ? 'keyword' : 'word', text: word, value: word, start });
      continue;
    }
    const hint = ['&&', '||', '!', '='].find((h) => text.startsWith(h, i));
    fail(start, `unexpected ${JSON.stringify(hint ?? String.fromCodePoint(text.codePointAt(i)!))}${hint ? `: ${HINTS[hint]}` : ''}`);
  }
  tokens.push({ kind: 'end', text: '', value: '', start: to });
  return tokens;
}
