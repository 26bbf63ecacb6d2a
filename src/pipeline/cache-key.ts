import { createHash, type Hash } from 'node:crypto';
import type { FileDigest } from './types.js';
import { compareBytes } from './expand.js';

// The cache key of a step (issue #6 item 3, DESIGN.md §3): SHA-256 over a length-prefixed canonical
// encoding of what decides the step's result. Pure: the file digests come in already computed.
//
//   key = SHA-256( str("evident-cache-key/v1")
//                  str("command") str(run)
//                  str("env")     u32(n) { str(name) str(value) }             sorted by name
//                  str("inputs")  u32(n) { str(path) str(sha256) str(x|-) }   sorted by path
//                  str("needs")   u32(n) { str(step) str(key) }               sorted by step
//                  str("outputs") u32(n) { str(pattern) }                     sorted )
//   str(s) = u32(byte length of UTF-8 s) ‖ UTF-8 s;  u32 = 4 bytes big-endian;  sorted = by UTF-8 bytes.
//
// Every string carries its length, so no two different component lists encode to the same bytes
// (("ab","c") and ("a","bc") differ). The declared outputs are in the key so that a hit never restores
// a set of paths other than the one the step now declares.

export const KEY_DOMAIN = 'evident-cache-key/v1';

export interface KeyComponents {
  command: string;
  /** The step's effective declared env: pipeline env merged with step env. */
  env: Record<string, string>;
  /** One digest per input file (paths unique). */
  inputs: FileDigest[];
  /** The keys of the steps it needs, by step name. */
  needs: Record<string, string>;
  /** The step's declared output patterns. */
  outputs: string[];
}

/**
 * Where the encoding goes: a list of pieces (to make the bytes for tests and documentation) or straight
 * into a hash. The hash sink is the warm run's path: one update per field, with no buffer of the whole
 * encoding built first (docs/performance.md "The runner"). Both see the same bytes in the same order.
 */
interface Sink {
  u32(n: number): void;
  str(s: string): void;
}

/** Four big-endian bytes of `n`, in a buffer reused by every call (hash.update copies what it is given). */
const U32 = Buffer.alloc(4);
const u32Bytes = (n: number): Buffer => {
  U32.writeUInt32BE(n, 0);
  return U32;
};

class HashSink implements Sink {
  constructor(private readonly hash: Hash) {}

  u32(n: number): void {
    this.hash.update(u32Bytes(n));
  }

  str(s: string): void {
    this.hash.update(u32Bytes(Buffer.byteLength(s, 'utf8')));
    this.hash.update(s, 'utf8');
  }
}

class BytesSink implements Sink {
  readonly parts: Buffer[] = [];

  u32(n: number): void {
    this.parts.push(Buffer.from(u32Bytes(n)));
  }

  str(s: string): void {
    const bytes = Buffer.from(s, 'utf8');
    this.parts.push(Buffer.from(u32Bytes(bytes.length)), bytes);
  }
}

const sortedKeys = (o: Record<string, string>) => Object.keys(o).sort(compareBytes);

function encode(c: KeyComponents, e: Sink): void {
  e.str(KEY_DOMAIN);
  e.str('command');
  e.str(c.command);
  const env = sortedKeys(c.env);
  e.str('env');
  e.u32(env.length);
  for (const name of env) {
    e.str(name);
    e.str(c.env[name]!);
  }
  const inputs = [...c.inputs].sort((a, b) => compareBytes(a.path, b.path));
  e.str('inputs');
  e.u32(inputs.length);
  for (const f of inputs) {
    e.str(f.path);
    e.str(f.sha256);
    e.str(f.executable ? 'x' : '-');
  }
  const needs = sortedKeys(c.needs);
  e.str('needs');
  e.u32(needs.length);
  for (const name of needs) {
    e.str(name);
    e.str(c.needs[name]!);
  }
  const outputs = [...c.outputs].sort(compareBytes);
  e.str('outputs');
  e.u32(outputs.length);
  for (const o of outputs) e.str(o);
}

/** The canonical bytes the key hashes (exported for tests and for documentation). */
export function encodeKeyComponents(c: KeyComponents): Buffer {
  const sink = new BytesSink();
  encode(c, sink);
  return Buffer.concat(sink.parts);
}

/** Hex SHA-256 cache key. */
export function cacheKey(c: KeyComponents): string {
  const hash = createHash('sha256');
  encode(c, new HashSink(hash));
  return hash.digest('hex');
}
