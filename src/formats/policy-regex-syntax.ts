import { EvidentError } from '../core/index.js';

// The syntax of regexes in policy expressions (see policy-regex.ts for why Evident matches them itself): parsed
// into a small tree that policy-regex.ts compiles to a program for its Pike VM.

export const REGEX_MAX_REPEAT = 1000; // the largest n or m in {n,m}

export class RegexSyntaxError extends EvidentError {
  constructor(readonly offset: number, readonly reason: string) {
    super('INVALID_ARGUMENT', `invalid regex: ${reason} at position ${offset}`);
    this.name = 'RegexSyntaxError';
  }
}

/** Sorted, non-overlapping [lo, hi] code point ranges, flattened; `negate` inverts the set. */
export interface CharSet { ranges: number[]; negate: boolean }
export type Assertion = 'start' | 'end' | 'word' | 'notWord';
export type RegexAst =
  | { t: 'char'; set: CharSet }
  | { t: 'seq'; items: RegexAst[] }
  | { t: 'alt'; options: RegexAst[] }
  | { t: 'repeat'; node: RegexAst; min: number; max: number }
  | { t: 'assert'; kind: Assertion };

const MAX_CP = 0x10ffff;
const DIGIT = [0x30, 0x39];
const WORD = [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a];
// JavaScript's \s: WhiteSpace and LineTerminator (ECMA-262 §22.2.2.9).
const SPACE = [0x09, 0x0d, 0x20, 0x20, 0xa0, 0xa0, 0x1680, 0x1680, 0x2000, 0x200a, 0x2028, 0x2029, 0x202f, 0x202f, 0x205f, 0x205f, 0x3000, 0x3000, 0xfeff, 0xfeff];
const LINE_TERMINATORS = [0x0a, 0x0a, 0x0d, 0x0d, 0x2028, 0x2029];
const SIMPLE_ESCAPES: Record<string, number> = { n: 0x0a, t: 0x09, r: 0x0d, f: 0x0c, v: 0x0b };

function complement(ranges: number[]): number[] {
  const out: number[] = [];
  let next = 0;
  for (let i = 0; i < ranges.length; i += 2) {
    if (ranges[i]! > next) out.push(next, ranges[i]! - 1);
    next = ranges[i + 1]! + 1;
  }
  if (next <= MAX_CP) out.push(next, MAX_CP);
  return out;
}

function normalise(ranges: number[]): number[] {
  const pairs: [number, number][] = [];
  for (let i = 0; i < ranges.length; i += 2) pairs.push([ranges[i]!, ranges[i + 1]!]);
  pairs.sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  for (const [lo, hi] of pairs) {
    if (out.length > 0 && lo <= out[out.length - 1]! + 1) out[out.length - 1] = Math.max(out[out.length - 1]!, hi);
    else out.push(lo, hi);
  }
  return out;
}

export const inSet = (set: CharSet, cp: number): boolean => {
  let found = false;
  for (let i = 0; i < set.ranges.length && !found; i += 2) found = cp >= set.ranges[i]! && cp <= set.ranges[i + 1]!;
  return found !== set.negate;
};
const single = (cp: number): RegexAst => ({ t: 'char', set: { ranges: [cp, cp], negate: false } });
export const isWordCp = (cp: number | undefined): boolean => cp !== undefined && inSet({ ranges: WORD, negate: false }, cp);

class RegexParser {
  private i = 0;
  constructor(private readonly p: string) {}

  private fail(reason: string, at = this.i): never {
    throw new RegexSyntaxError(at, reason);
  }

  parse(): RegexAst {
    const ast = this.alternation(0);
    if (this.i < this.p.length) this.fail("unbalanced ')'");
    return ast;
  }

  private alternation(depth: number): RegexAst {
    if (depth > 100) this.fail('groups nested too deeply');
    const options = [this.sequence(depth)];
    while (this.p[this.i] === '|') {
      this.i++;
      options.push(this.sequence(depth));
    }
    return options.length === 1 ? options[0]! : { t: 'alt', options };
  }

  private sequence(depth: number): RegexAst {
    const items: RegexAst[] = [];
    while (this.i < this.p.length && this.p[this.i] !== '|' && this.p[this.i] !== ')') items.push(this.quantified(depth));
    return { t: 'seq', items };
  }

  /** `{n}`, `{n,}`, `{n,m}` or `{,m}` at the cursor, else undefined (then `{` is a literal, as in Python). */
  private braces(): { min: number; max: number; end: number } | undefined {
    const m = /^\{(\d*)(,?)(\d*)\}/.exec(this.p.slice(this.i));
    if (!m || (m[1] === '' && (m[2] === '' || m[3] === ''))) return undefined;
    const min = m[1] === '' ? 0 : Number(m[1]);
    const max = m[2] === '' ? min : m[3] === '' ? Infinity : Number(m[3]);
    if (min > REGEX_MAX_REPEAT || (max !== Infinity && max > REGEX_MAX_REPEAT)) this.fail(`repeat count above ${REGEX_MAX_REPEAT}`);
    if (min > max) this.fail('repeat minimum above its maximum');
    return { min, max, end: this.i + m[0].length };
  }

  private quantifier(): { min: number; max: number } | undefined {
    const c = this.p[this.i];
    if (c === '*' || c === '+' || c === '?') {
      this.i++;
      return { min: c === '+' ? 1 : 0, max: c === '?' ? 1 : Infinity };
    }
    const b = c === '{' ? this.braces() : undefined;
    if (b) this.i = b.end;
    return b;
  }

  private quantified(depth: number): RegexAst {
    const start = this.i;
    const atom = this.atom(depth);
    const q = this.quantifier();
    if (!q) return atom;
    if (atom.t === 'assert') this.fail('nothing to repeat', start);
    if (this.p[this.i] === '?') this.i++; // lazy: the same yes/no answer
    const again = this.i;
    if (this.quantifier()) this.fail('multiple repeat', again);
    return { t: 'repeat', node: atom, min: q.min, max: q.max };
  }

  private atom(depth: number): RegexAst {
    const c = this.p[this.i]!;
    if (c === '(') return this.group(depth);
    if (c === '[') return this.charClass();
    if (c === '\\') return this.escape();
    if (c === '*' || c === '+' || c === '?' || (c === '{' && this.braces())) this.fail('nothing to repeat');
    this.i++;
    if (c === '.') return { t: 'char', set: { ranges: LINE_TERMINATORS, negate: true } };
    if (c === '^') return { t: 'assert', kind: 'start' };
    if (c === '$') return { t: 'assert', kind: 'end' };
    const cp = this.p.codePointAt(this.i - 1)!;
    if (cp > 0xffff) this.i++;
    return single(cp);
  }

  private group(depth: number): RegexAst {
    const open = this.i;
    this.i++;
    const rest = this.p.slice(this.i);
    if (rest.startsWith('?')) {
      const named = /^\?P?<[A-Za-z_][A-Za-z0-9_]*>/.exec(rest);
      if (rest.startsWith('?:')) this.i += 2;
      else if (named) this.i += named[0].length;
      else if (/^\?(?:=|!|<=|<!)/.test(rest)) this.fail('lookaround is not supported (matching never backtracks)', open);
      else if (rest.startsWith('?P=')) this.fail('backreferences are not supported (matching never backtracks)', open);
      else this.fail('unsupported group syntax (?...): only (?:...), (?<name>...) and (?P<name>...)', open);
    }
    const inner = this.alternation(depth + 1);
    if (this.p[this.i] !== ')') this.fail("missing ')'", open);
    this.i++;
    return inner;
  }

  /** An escape outside a class; `inClass` escapes are read by classEscape. */
  private escape(): RegexAst {
    const at = this.i;
    const c = this.p[this.i + 1];
    if (c === 'b' || c === 'B') {
      this.i += 2;
      return { t: 'assert', kind: c === 'b' ? 'word' : 'notWord' };
    }
    if (c === 'A' || c === 'z' || c === 'Z') {
      this.i += 2;
      return { t: 'assert', kind: c === 'A' ? 'start' : 'end' };
    }
    if (c !== undefined && /[1-9k]/.test(c)) this.fail('backreferences are not supported (matching never backtracks)', at);
    const set = this.classEscape(false);
    return typeof set === 'number' ? single(set) : { t: 'char', set };
  }

  /** A code point, or a set for \d \w \s and their negations. Reads the backslash and what follows. */
  private classEscape(inClass: boolean): number | CharSet {
    const at = this.i;
    const c = this.p[this.i + 1];
    if (c === undefined) this.fail('pattern ends with a backslash', at);
    this.i += 2;
    const sets: Record<string, number[]> = { d: DIGIT, w: WORD, s: SPACE };
    if (sets[c.toLowerCase()]) return { ranges: sets[c.toLowerCase()]!, negate: c !== c.toLowerCase() };
    if (SIMPLE_ESCAPES[c] !== undefined) return SIMPLE_ESCAPES[c];
    if (c === '0' && !/[0-9]/.test(this.p[this.i] ?? '')) return 0;
    if (inClass && c === 'b') return 0x08;
    const hex = c === 'x' ? /^[0-9A-Fa-f]{2}/.exec(this.p.slice(this.i)) : c === 'u' ? /^[0-9A-Fa-f]{4}/.exec(this.p.slice(this.i)) : null;
    if (hex) {
      this.i += hex[0].length;
      return parseInt(hex[0], 16);
    }
    if (/[A-Za-z0-9]/.test(c)) this.fail(`unsupported escape \\${c}`, at);
    const cp = this.p.codePointAt(at + 1)!;
    if (cp > 0xffff) this.i++;
    return cp;
  }

  private charClass(): RegexAst {
    const open = this.i;
    this.i++;
    const negate = this.p[this.i] === '^';
    if (negate) this.i++;
    const ranges: number[] = [];
    let first = true;
    const item = (): number | CharSet => {
      if (this.p[this.i] === '\\') return this.classEscape(true);
      const cp = this.p.codePointAt(this.i)!;
      this.i += cp > 0xffff ? 2 : 1;
      return cp;
    };
    while (this.i < this.p.length && (this.p[this.i] !== ']' || first)) {
      first = false;
      const at = this.i;
      const lo = item();
      if (typeof lo !== 'number') {
        ranges.push(...(lo.negate ? complement(lo.ranges) : lo.ranges));
        continue;
      }
      if (this.p[this.i] === '-' && this.i + 1 < this.p.length && this.p[this.i + 1] !== ']') {
        this.i++;
        const hi = item();
        if (typeof hi !== 'number') this.fail('bad character range', at);
        if (hi < lo) this.fail('bad character range (the end is below the start)', at);
        ranges.push(lo, hi);
      } else {
        ranges.push(lo, lo);
      }
    }
    if (this.p[this.i] !== ']') this.fail('unterminated character class', open);
    this.i++;
    return { t: 'char', set: { ranges: normalise(ranges), negate } };
  }
}


/** Parses `pattern`, or throws RegexSyntaxError with the offset of the problem. */
export function parseRegex(pattern: string): RegexAst {
  return new RegexParser(pattern).parse();
}
