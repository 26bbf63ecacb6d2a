import { EvidentError } from '../core/index.js';

// RFC 8785 JSON Canonicalization Scheme (JCS). Values are limited to the I-JSON data model: null,
// booleans, finite numbers, well-formed strings, arrays and plain objects. Anything else (undefined,
// functions, symbols, bigint, NaN/Infinity, lone surrogates, class instances, cycles) is refused rather
// than silently dropped or converted, since the bytes are hashed into the log.

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const encoder = new TextEncoder();

function refuse(path: string, message: string): EvidentError {
  const at = path === '' ? '/' : path;
  return new EvidentError('INVALID_ARGUMENT', `cannot canonicalise JSON at ${at}: ${message}`, {
    details: [{ path: at, message }],
  });
}

/** JSON-pointer escaping for error paths (RFC 6901). */
function pointer(path: string, key: string | number): string {
  return `${path}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

/** RFC 8785 §3.2.2.3: ECMAScript Number::toString; -0 becomes 0. */
function serializeNumber(value: number, path: string): string {
  if (!Number.isFinite(value)) throw refuse(path, `${String(value)} is not a JSON number`);
  if (Object.is(value, -0)) return '0';
  return String(value);
}

/** RFC 8785 §3.2.2.2: strings as ECMAScript JSON.stringify writes them; lone surrogates are refused. */
function serializeString(value: string, path: string): string {
  if (LONE_SURROGATE.test(value)) throw refuse(path, 'the string contains a lone surrogate');
  return JSON.stringify(value);
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function serialize(value: unknown, path: string, ancestors: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return serializeString(value, path);
    case 'number':
      return serializeNumber(value, path);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      throw refuse(path, 'undefined is not a JSON value');
    case 'bigint':
      throw refuse(path, 'bigint is not a JSON value; use a number or a string');
    case 'function':
    case 'symbol':
      throw refuse(path, `a ${typeof value} is not a JSON value`);
  }
  if (value === null) return 'null';
  const obj = value as object;
  if (ancestors.has(obj)) throw refuse(path, 'the structure is cyclic');
  ancestors.add(obj);
  try {
    if (Array.isArray(obj)) {
      const items: string[] = [];
      for (let i = 0; i < obj.length; i++) items.push(serialize(obj[i], pointer(path, i), ancestors));
      return `[${items.join(',')}]`;
    }
    if (!isPlainObject(obj)) {
      const kind = (obj as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      throw refuse(path, `a ${kind} is not a plain JSON object`);
    }
    if (Object.getOwnPropertySymbols(obj).length > 0) throw refuse(path, 'symbol keys are not JSON');
    // RFC 8785 §3.2.3: members sorted by their names as arrays of UTF-16 code units, which is what the
    // default sort() comparison of JavaScript strings does.
    const keys = Object.keys(obj).sort();
    const members: string[] = [];
    for (const key of keys) {
      const child = pointer(path, key);
      members.push(`${serializeString(key, child)}:${serialize((obj as Record<string, unknown>)[key], child, ancestors)}`);
    }
    return `{${members.join(',')}}`;
  } finally {
    ancestors.delete(obj);
  }
}

/** The RFC 8785 canonical JSON text of `value`. */
export function canonicalJson(value: unknown): string {
  return serialize(value, '', new Set());
}

/** The UTF-8 bytes of the RFC 8785 canonical JSON text of `value`. */
export function canonicalJsonBytes(value: unknown): Uint8Array {
  return encoder.encode(canonicalJson(value));
}

/** A plain object's members, each already serialised as `"key":value`, in RFC 8785 §3.2.3 order. */
export interface CanonicalMembers {
  readonly keys: readonly string[];
  readonly members: readonly string[];
}

/** Serialises an object's members once, so it can later be merged with other members without redoing it. */
export function canonicalMembers(value: Record<string, unknown>): CanonicalMembers {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !isPlainObject(value)) throw refuse('', 'not a plain JSON object');
  if (Object.getOwnPropertySymbols(value).length > 0) throw refuse('', 'symbol keys are not JSON');
  const keys = Object.keys(value).sort();
  const ancestors = new Set<object>([value]);
  const members = keys.map((key) => {
    const child = pointer('', key);
    return `${serializeString(key, child)}:${serialize(value[key], child, ancestors)}`;
  });
  return { keys, members };
}

/** One member already serialised as `"key":value` (`key` unescaped, for ordering). */
export interface CanonicalMember {
  readonly key: string;
  readonly member: string;
}

/**
 * The canonical text of the union of two member sets and, optionally, one more member (all keys must differ),
 * merged in RFC 8785 §3.2.3 order. The extra member saves the log's writer a union per entry (its `prev`).
 */
export function mergeCanonicalMembers(a: CanonicalMembers, b: CanonicalMembers, extra?: CanonicalMember): string {
  let out = '{';
  let i = 0;
  let j = 0;
  let pending = extra;
  while (i < a.keys.length || j < b.keys.length) {
    let key: string;
    let member: string;
    if (j >= b.keys.length || (i < a.keys.length && a.keys[i]! < b.keys[j]!)) {
      key = a.keys[i]!;
      member = a.members[i++]!;
    } else if (i >= a.keys.length || b.keys[j]! < a.keys[i]!) {
      key = b.keys[j]!;
      member = b.members[j++]!;
    } else throw refuse(`/${a.keys[i]}`, 'the same member twice');
    if (pending !== undefined && pending.key <= key) {
      if (pending.key === key) throw refuse(`/${key}`, 'the same member twice');
      out += out.length > 1 ? `,${pending.member}` : pending.member;
      pending = undefined;
    }
    out += out.length > 1 ? `,${member}` : member;
  }
  if (pending !== undefined) out += out.length > 1 ? `,${pending.member}` : pending.member;
  return `${out}}`;
}
