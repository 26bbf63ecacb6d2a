import { EvidentError } from '../core/index.js';
import { RegexSyntaxError, inSet, isWordCp, parseRegex, type Assertion, type CharSet, type RegexAst } from './policy-regex-syntax.js';

// Regular expressions for `matches(input, regex)` in environment policies. A policy file is written by any org
// member and evaluated by the server for every running artifact, so its regexes are attacker-controlled. A
// backtracking engine (JavaScript's RegExp) can take exponential time on patterns like `^(a+)+$`, and even
// "safe-looking" ones like `.*a.*a.*a.*b` take polynomial time of high degree. Rejecting nested quantifiers
// does not catch the second kind, so instead Evident matches with its own engine that never backtracks: the
// pattern is compiled to an NFA program and run as a Pike VM (Thompson's construction, as RE2 and Go's regexp
// do), in O(input length × program size) time whatever the pattern. Its price is the features that need
// backtracking: backreferences and lookaround are refused with a message saying so.
//
// Syntax: the common subset of JavaScript's (`u` flag) and Python's `re`: literals, `.`, `[...]` classes with
// ranges and negation, `\d \w \s \D \W \S` (ASCII `\d \w`, JavaScript's `\s`), `\b \B`, `^ $` (`\A`, `\z`, `\Z`
// as aliases), `\n \t \r \f \v \0 \xHH \uHHHH`, groups `(...)`, `(?:...)`, `(?<name>...)`, `(?P<name>...)`,
// alternation, and the quantifiers `* + ? {n} {n,} {n,m} {,m}` with an optional lazy `?` (the same answer for a
// yes/no match). `.` matches any code point except line terminators, as in JavaScript. Matching is a search, like
// RegExp.test and Python's re.search: anchor with `^`/`$` to match the whole input (Kosli's examples all do).

export const REGEX_MAX_PATTERN = 1000; // characters of pattern
export const REGEX_MAX_INPUT = 4096; // characters of input to match
const MAX_PROGRAM = 2000; // NFA instructions: bounds the time per input character

export { RegexSyntaxError };

export interface SafeRegex {
  readonly source: string;
  /** Instructions of the compiled program: matching costs at most this many steps per input character. */
  readonly size: number;
  /** True when the pattern matches somewhere in `input` (a search, like RegExp.test). */
  test(input: string): boolean;
}

// The program: `char` consumes one code point in its set; `split` forks; `jmp` jumps; `assert` checks a
// position; `match` accepts.
type Inst =
  | { op: 'char'; set: CharSet }
  | { op: 'split'; a: number; b: number }
  | { op: 'jmp'; to: number }
  | { op: 'assert'; kind: Assertion }
  | { op: 'match' };

function compile(ast: RegexAst): Inst[] {
  const prog: Inst[] = [];
  const push = (inst: Inst): number => {
    if (prog.length >= MAX_PROGRAM) throw new RegexSyntaxError(0, `pattern too large (more than ${MAX_PROGRAM} steps once repeats are expanded)`);
    prog.push(inst);
    return prog.length - 1;
  };
  const emit = (n: RegexAst): void => {
    if (n.t === 'char') push({ op: 'char', set: n.set });
    else if (n.t === 'assert') push({ op: 'assert', kind: n.kind });
    else if (n.t === 'seq') n.items.forEach(emit);
    else if (n.t === 'alt') {
      // split(option 1, next split); option 1; jmp end; ...; last option; end:
      const jumps: number[] = [];
      n.options.forEach((option, k) => {
        if (k === n.options.length - 1) return emit(option);
        const split = push({ op: 'split', a: prog.length + 1, b: 0 });
        emit(option);
        jumps.push(push({ op: 'jmp', to: 0 }));
        (prog[split] as { b: number }).b = prog.length;
      });
      for (const j of jumps) prog[j] = { op: 'jmp', to: prog.length };
    } else {
      for (let k = 0; k < n.min; k++) emit(n.node);
      if (n.max === Infinity) {
        const split = push({ op: 'split', a: 0, b: 0 });
        emit(n.node);
        push({ op: 'jmp', to: split });
        prog[split] = { op: 'split', a: split + 1, b: prog.length };
      } else {
        const splits: number[] = [];
        for (let k = n.min; k < n.max; k++) {
          splits.push(push({ op: 'split', a: prog.length + 1, b: 0 }));
          emit(n.node);
        }
        for (const s of splits) (prog[s] as { b: number }).b = prog.length;
      }
    }
  };
  emit(ast);
  push({ op: 'match' });
  return prog;
}

/** True when every match must begin at the start of the input (`^...`), so no search restarts later. */
function anchored(ast: RegexAst): boolean {
  if (ast.t === 'assert') return ast.kind === 'start';
  if (ast.t === 'seq') return ast.items.length > 0 && anchored(ast.items[0]!);
  if (ast.t === 'alt') return ast.options.every(anchored);
  return ast.t === 'repeat' && ast.min > 0 && anchored(ast.node);
}

/**
 * A Pike VM: every thread advances in lock step over the input, so no position is ever visited twice by
 * one instruction. Its buffers are allocated once per regex (evaluation is synchronous, so never shared).
 */
function machine(prog: Inst[], startAnchored: boolean): (input: string) => boolean {
  const size = prog.length;
  const seen = new Int32Array(size);
  const stack = new Int32Array(2 * size + 1);
  let current = new Int32Array(size);
  let next = new Int32Array(size);
  let gen = 0;
  return (input) => {
    if (gen > 0x3fffffff) {
      gen = 0;
      seen.fill(0);
    }
    let count = 0;
    let prev = -1; // the code point before the position; -1 at the start
    // Adds pc's closure (what it reaches without consuming input) to `list`; -1 when `match` is reached.
    const add = (list: Int32Array, n: number, pc: number, at: number, cp: number): number => {
      let top = 0;
      stack[top++] = pc;
      while (top > 0) {
        const k = stack[--top]!;
        if (seen[k] === gen) continue;
        seen[k] = gen;
        const inst = prog[k]!;
        if (inst.op === 'match') return -1;
        if (inst.op === 'jmp') stack[top++] = inst.to;
        else if (inst.op === 'split') {
          stack[top++] = inst.b;
          stack[top++] = inst.a;
        }
        else if (inst.op === 'char') list[n++] = k;
        else if (inst.kind === 'start' ? at === 0 : inst.kind === 'end' ? at === input.length : (isWordCp(prev) !== isWordCp(cp)) === (inst.kind === 'word')) {
          stack[top++] = k + 1;
        }
      }
      return n;
    };
    gen++;
    for (let at = 0; ; ) {
      const cp = at < input.length ? input.codePointAt(at)! : -1;
      if (at === 0 || !startAnchored) {
        count = add(current, count, 0, at, cp); // a new search starts at this position
        if (count < 0) return true;
      }
      if (cp < 0 || (count === 0 && startAnchored)) return false;
      const after = at + (cp > 0xffff ? 2 : 1);
      const following = after < input.length ? input.codePointAt(after)! : -1;
      gen++;
      let n = 0;
      prev = cp;
      for (let t = 0; t < count; t++) {
        const pc = current[t]!;
        if (inSet((prog[pc] as { set: CharSet }).set, cp)) {
          n = add(next, n, pc + 1, after, following);
          if (n < 0) return true;
        }
      }
      const swap = current;
      current = next;
      next = swap;
      count = n;
      at = after;
    }
  };
}

/** Compiles `pattern`, or throws RegexSyntaxError with the offset of the problem in the pattern. */
export function compileSafeRegex(pattern: string): SafeRegex {
  if (pattern.length > REGEX_MAX_PATTERN) throw new RegexSyntaxError(REGEX_MAX_PATTERN, `pattern longer than ${REGEX_MAX_PATTERN} characters`);
  const ast = parseRegex(pattern);
  const prog = compile(ast);
  const run = machine(prog, anchored(ast));
  return {
    source: pattern,
    size: prog.length,
    test(input: string): boolean {
      if (input.length > REGEX_MAX_INPUT) throw new EvidentError('INVALID_ARGUMENT', `matches(): input longer than ${REGEX_MAX_INPUT} characters`);
      return run(input);
    },
  };
}
