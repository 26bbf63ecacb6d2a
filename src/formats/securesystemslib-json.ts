import { EvidentError } from '../core/index.js';

// securesystemslib's canonical JSON (securesystemslib.formats.encode_canonical), the bytes every in-toto
// v0.9 link and layout signature covers. It is NOT RFC 8785 (see canonical-json.ts): strings escape only
// `\` and `"` (control characters and non-ASCII are written raw), keys are sorted by code point, there is
// no whitespace, and only integers are numbers — a float is an error. shared/vectors/in-toto/README.md,
// pitfall 1.

export type SslibJson = null | boolean | number | string | SslibJson[] | { [key: string]: SslibJson };

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const encoder = new TextEncoder();

function refuse(path: string, message: string): EvidentError {
  const at = path === '' ? '/' : path;
  return new EvidentError('INVALID_ARGUMENT', `cannot encode securesystemslib canonical JSON at ${at}: ${message}`, {
    details: [{ path: at, message }],
  });
}

/** Python sorts str keys by code point; JavaScript's default sort compares UTF-16 code units. */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx - cy;
  }
}

function encodeString(value: string, path: string): string {
  if (LONE_SURROGATE.test(value)) throw refuse(path, 'the string contains a lone surrogate');
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function encode(value: unknown, path: string, ancestors: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return encodeString(value, path);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      // encode_canonical raises on float; a JavaScript integer beyond 2^53 is no longer exact either.
      if (!Number.isSafeInteger(value)) throw refuse(path, `${String(value)} is not an integer (floats are not canonical)`);
      return String(value === 0 ? 0 : value);
    case 'object':
      break;
    default:
      throw refuse(path, `a ${typeof value} is not a JSON value`);
  }
  if (value === null) return 'null';
  if (ancestors.has(value)) throw refuse(path, 'the structure is cyclic');
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return `[${value.map((item, i) => encode(item, `${path}/${i}`, ancestors)).join(',')}]`;
    if (!isPlainObject(value)) throw refuse(path, 'not a plain JSON object');
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).sort(compareCodePoints);
    return `{${keys.map((k) => `${encodeString(k, path)}:${encode(record[k], `${path}/${k}`, ancestors)}`).join(',')}}`;
  } finally {
    ancestors.delete(value);
  }
}

/** The canonical text of `value`, exactly as securesystemslib.formats.encode_canonical writes it. */
export function sslibCanonicalJson(value: unknown): string {
  return encode(value, '', new Set());
}

/** The UTF-8 bytes in-toto signs. */
export function sslibCanonicalBytes(value: unknown): Uint8Array {
  return encoder.encode(sslibCanonicalJson(value));
}

/**
 * Parses canonical text back, accepting only what sslibCanonicalJson can write (so
 * `sslibCanonicalJson(parseSslibCanonicalJson(t)) === t`): no whitespace, keys strictly in code-point
 * order, integers without leading zeros, strings whose only escapes are `\\` and `\"`.
 */
export function parseSslibCanonicalJson(text: string): SslibJson {
  let pos = 0;
  const fail = (message: string): never => {
    throw new EvidentError('INVALID_ARGUMENT', `not securesystemslib canonical JSON at offset ${pos}: ${message}`);
  };
  const literal = (word: string, result: SslibJson): SslibJson => {
    if (!text.startsWith(word, pos)) fail(`unexpected character ${JSON.stringify(text[pos] ?? 'end of input')}`);
    pos += word.length;
    return result;
  };
  const str = (): string => {
    pos++; // opening quote
    let out = '';
    for (;;) {
      const c = text[pos];
      if (c === undefined) return fail('unterminated string');
      pos++;
      if (c === '"') return out;
      if (c === '\\') {
        const e = text[pos];
        if (e !== '\\' && e !== '"') fail('only \\\\ and \\" are escaped');
        out += e;
        pos++;
      } else out += c;
    }
  };
  const num = (): number => {
    const m = /^-?(?:0|[1-9][0-9]*)/.exec(text.slice(pos, pos + 20));
    if (!m || m[0] === '-0') return fail('not a canonical integer');
    pos += m[0].length;
    const n = Number(m[0]);
    if (!Number.isSafeInteger(n) || /^[.eE]/.test(text[pos] ?? '')) fail('not an integer');
    return n;
  };
  const value = (depth: number): SslibJson => {
    if (depth > 200) fail('nested too deeply');
    const c = text[pos];
    if (c === '"') return str();
    if (c === '{') {
      pos++;
      const obj: Record<string, SslibJson> = {};
      let previous: string | undefined;
      if (text[pos] === '}') return (pos++, obj);
      for (;;) {
        if (text[pos] !== '"') fail('expected a key');
        const key = str();
        if (previous !== undefined && compareCodePoints(previous, key) >= 0) fail('keys are not sorted or repeat');
        previous = key;
        if (text[pos++] !== ':') fail('expected ":"');
        // defineProperty: a "__proto__" key must stay data, not become the prototype.
        Object.defineProperty(obj, key, { value: value(depth + 1), enumerable: true, writable: true, configurable: true });
        const sep = text[pos++];
        if (sep === '}') return obj;
        if (sep !== ',') fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      pos++;
      const arr: SslibJson[] = [];
      if (text[pos] === ']') return (pos++, arr);
      for (;;) {
        arr.push(value(depth + 1));
        const sep = text[pos++];
        if (sep === ']') return arr;
        if (sep !== ',') fail('expected "," or "]"');
      }
    }
    if (c === 't') return literal('true', true);
    if (c === 'f') return literal('false', false);
    if (c === 'n') return literal('null', null);
    return num();
  };
  const result = value(0);
  if (pos !== text.length) fail('trailing characters');
  if (LONE_SURROGATE.test(text)) fail('lone surrogate');
  return result;
}
