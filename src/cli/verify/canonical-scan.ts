import { isUtf8 } from 'node:buffer';

// The fast path of `verify log --full`'s per-entry check (issue #21): one pass over an entry's bytes that
// proves them RFC 8785 canonical JSON without decoding, parsing and re-serialising the whole entry (those
// cost more than half of the ~9 µs per ~1 KB entry), and hands back only the top-level fields the verifier
// reads. It accepts a strict subset of canonical JSON, the form the server writes for ordinary entries:
//   - no whitespace; an object at the top, ending at the last byte;
//   - strings with raw characters (no control character, RFC 8259 §7) and only the escapes JSON.stringify
//     writes for `"`, `\`, backspace, form feed, newline, carriage return and tab (RFC 8785 §3.2.2.2); no `\u`;
//   - integers of at most 15 digits, no leading zero, not -0 (exactly what Number#toString writes back,
//     RFC 8785 §3.2.2.3); true, false, null;
//   - object keys of ASCII without escapes, in strictly increasing order, which for ASCII is the UTF-16 code
//     unit order of RFC 8785 §3.2.3 (strictly: a repeated key is refused);
//   - at most 64 levels of nesting; valid UTF-8.
// Anything outside it returns undefined and the entry takes the full path (decode, parse, canonicalise:
// log-hash-job.ts), which decides and words the answer. So this path only ever says "canonical" of bytes the
// full path also finds canonical, and never refuses anything (test/cli/canonical-scan.test.ts holds both).
//
// The bytes are read as a latin1 string (one character per byte, made natively), so string contents are
// skipped with indexOf (native) and the control-character and non-ASCII checks are one regular expression
// over the whole entry: the JavaScript loop touches only the structure.

/** The top-level fields the verifier reads of an entry (log-hash-job.ts parseEntry, ledger subjectsOf/linksOf). */
const WANTED = new Set(['org', 'v', 'type', 'prev', 'fingerprint', 'artifact_fingerprint', 'environment', 'flow', 'trail']);
const MAX_DEPTH = 64;
const CONTROL_OR_HIGH = /[\x00-\x1f\x80-\xff]/;
const CONTROL = /[\x00-\x1f]/;
const utf8 = new TextDecoder();
const latin1Slice = Buffer.prototype.latin1Slice as (this: Uint8Array, start: number, end: number) => string;

// The scan in progress (synchronous, one at a time).
let s = '';
let end = 0;
/** Where the next backslash of `s` at or after the cursor is (end when none). */
let nextBackslash = 0;

/**
 * The top-level fields the verifier reads (as JSON.parse would give them), when `bytes[from, to)` is an
 * object in the canonical form above; undefined when this scan cannot tell (the caller takes the full path).
 */
export function scanCanonicalEntry(bytes: Uint8Array, from: number, to: number): Record<string, unknown> | undefined {
  if (to - from < 2) return undefined;
  s = latin1Slice.call(bytes, from, to);
  end = s.length;
  let ascii = true;
  if (CONTROL_OR_HIGH.test(s)) {
    if (CONTROL.test(s) || !isUtf8(bytes.subarray(from, to))) return undefined;
    ascii = false;
  }
  seekBackslash(0);
  const spans: number[] = [];
  if (s.charCodeAt(0) !== 0x7b || object(0, 1, spans) !== end) return undefined;
  const fields: Record<string, unknown> = {};
  for (let i = 0; i < spans.length; i += 4) {
    const key = s.slice(spans[i]!, spans[i + 1]!);
    if (!WANTED.has(key)) continue;
    const text = ascii ? s.slice(spans[i + 2]!, spans[i + 3]!) : utf8.decode(bytes.subarray(from + spans[i + 2]!, from + spans[i + 3]!));
    fields[key] = JSON.parse(text);
  }
  return fields;
}

/** An object at `i` (its `{`): the index after its `}`, or -1. At depth 1, each key's and value's span goes to `spans`. */
function object(i: number, depth: number, spans: number[] | undefined): number {
  if (depth > MAX_DEPTH) return -1;
  i++;
  if (s.charCodeAt(i) === 0x7d) return i + 1;
  let previous = '';
  for (let first = true; ; first = false) {
    if (s.charCodeAt(i) !== 0x22) return -1;
    const keyEnd = s.indexOf('"', i + 1);
    if (nextBackslash <= i) seekBackslash(i + 1);
    if (keyEnd < 0 || keyEnd > nextBackslash) return -1; // a key with an escape: the full path
    const key = s.slice(i + 1, keyEnd);
    // ASCII keys only (UTF-16 order is then byte order); strictly increasing.
    if (!first && !(previous < key)) return -1;
    for (let k = 0; k < key.length; k++) if (key.charCodeAt(k) > 0x7e) return -1;
    previous = key;
    i = keyEnd + 1;
    if (s.charCodeAt(i) !== 0x3a) return -1;
    const valueFrom = ++i;
    i = value(i, depth);
    if (i < 0) return -1;
    spans?.push(keyEnd - key.length, keyEnd, valueFrom, i);
    const c = s.charCodeAt(i++);
    if (c === 0x7d) return i;
    if (c !== 0x2c) return -1;
  }
}

function value(i: number, depth: number): number {
  const c = s.charCodeAt(i);
  if (c === 0x22) return string(i);
  if (c === 0x7b) return object(i, depth + 1, undefined);
  if (c === 0x5b) return array(i, depth + 1);
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return integer(i);
  if (c === 0x74) return s.startsWith('true', i) ? i + 4 : -1;
  if (c === 0x66) return s.startsWith('false', i) ? i + 5 : -1;
  if (c === 0x6e) return s.startsWith('null', i) ? i + 4 : -1;
  return -1;
}

/** Escapes JSON.stringify writes with a letter: `"`, `\`, b, f, n, r, t. */
function shortEscape(c: number): boolean {
  return c === 0x22 || c === 0x5c || c === 0x62 || c === 0x66 || c === 0x6e || c === 0x72 || c === 0x74;
}

/** A string at `i` (its opening quote): the index after its closing quote, or -1. */
function string(i: number): number {
  i++;
  for (;;) {
    const quote = s.indexOf('"', i);
    if (quote < 0) return -1;
    if (nextBackslash > quote) return quote + 1;
    if (nextBackslash < i) {
      seekBackslash(i); // behind the cursor: find the next one
      continue;
    }
    // An escape before the quote: only the short ones; the escaped character is skipped.
    if (!shortEscape(s.charCodeAt(nextBackslash + 1))) return -1;
    i = nextBackslash + 2;
    seekBackslash(i);
  }
}

function seekBackslash(from: number): void {
  nextBackslash = s.indexOf('\\', from);
  if (nextBackslash < 0) nextBackslash = end;
}

function array(i: number, depth: number): number {
  if (depth > MAX_DEPTH) return -1;
  i++;
  if (s.charCodeAt(i) === 0x5d) return i + 1;
  for (;;) {
    i = value(i, depth);
    if (i < 0) return -1;
    const c = s.charCodeAt(i++);
    if (c === 0x5d) return i;
    if (c !== 0x2c) return -1;
  }
}

/** `0`, or an optional `-` and 1–15 digits without a leading zero; no fraction or exponent. */
function integer(i: number): number {
  const negative = s.charCodeAt(i) === 0x2d;
  if (negative) i++;
  if (s.charCodeAt(i) === 0x30) {
    if (negative) return -1; // -0: canonical is 0
    i++;
  } else {
    const from = i;
    for (let c = s.charCodeAt(i); c >= 0x30 && c <= 0x39; c = s.charCodeAt(++i));
    if (i === from || i - from > 15) return -1;
  }
  // A fraction, an exponent, or a digit after a leading 0: the full path decides.
  const c = s.charCodeAt(i);
  return c === 0x2e || c === 0x65 || c === 0x45 || (c >= 0x30 && c <= 0x39) ? -1 : i;
}
