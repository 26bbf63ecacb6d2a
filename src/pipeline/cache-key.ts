import { createHash } from 'node:crypto';
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

/** Collects the encoding's strings and counts, then writes them into one buffer (one allocation). */
class Encoder {
  private readonly parts: (string | number)[] = [];
  private length = 0;

  u32(n: number): this {
    this.parts.push(n);
    this.length += 4;
    return this;
  }

  str(s: string): this {
    this.parts.push(s);
    this.length += 4 + Buffer.byteLength(s, 'utf8');
    return this;
  }

  bytes(): Buffer {
    const out = Buffer.allocUnsafe(this.length);
    let at = 0;
    for (const p of this.parts) {
      if (typeof p === 'number') at = out.writeUInt32BE(p, at);
      else {
        const n = out.write(p, at + 4, 'utf8');
        out.writeUInt32BE(n, at);
        at += 4 + n;
      }
    }
    return out;
  }
}

const sortedKeys = (o: Record<string, string>) => Object.keys(o).sort(compareBytes);

function encode(c: KeyComponents): Encoder {
  const e = new Encoder().str(KEY_DOMAIN).str('command').str(c.command);
  const env = sortedKeys(c.env);
  e.str('env').u32(env.length);
  for (const name of env) e.str(name).str(c.env[name]!);
  const inputs = [...c.inputs].sort((a, b) => compareBytes(a.path, b.path));
  e.str('inputs').u32(inputs.length);
  for (const f of inputs) e.str(f.path).str(f.sha256).str(f.executable ? 'x' : '-');
  const needs = sortedKeys(c.needs);
  e.str('needs').u32(needs.length);
  for (const name of needs) e.str(name).str(c.needs[name]!);
  const outputs = [...c.outputs].sort(compareBytes);
  e.str('outputs').u32(outputs.length);
  for (const o of outputs) e.str(o);
  return e;
}

/** The canonical bytes the key hashes (exported for tests and for documentation). */
export function encodeKeyComponents(c: KeyComponents): Buffer {
  return encode(c).bytes();
}

/** Hex SHA-256 cache key. */
export function cacheKey(c: KeyComponents): string {
  return createHash('sha256').update(encode(c).bytes()).digest('hex');
}
