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
//                  str("outputs") u32(n) { str(pattern) }                     sorted
//                  [str("global") u32(n) { str(path) str(sha256) str(x|-) }]  sorted, when any
//                  [str("env_mode") str("strict")]                            when strict
//                  [str("isolation") str("sandbox")]                          when sandboxed
//                  [str("isolation") str("container") str("image") str(id)]   in a container: its image ID
//                  [str("working_dir") str(dir)]                              when set (ATTEST) )
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
  /**
   * The run's global inputs (global_inputs, or the lockfiles present and attest.yaml), issue 14 finding 4.
   * The three optional parts are encoded only when present, so the key of a step that has none of them
   * is the one of before they existed.
   */
  global?: FileDigest[];
  /** `strict` when only declared variables reach the step (env_mode: strict). */
  envMode?: 'strict';
  /** `sandbox` (bubblewrap) or `container` (Podman): a different environment, a different result. */
  isolation?: 'sandbox' | 'container';
  /** A container step's image ID (`sha256:…`): another image is another result, whatever its tag. */
  image?: string;
  /** ATTEST `working_dir`: the same command in another directory is another result. */
  workingDir?: string;
}

/**
 * The encoding as a "binary" string: one character per byte (latin1), so that the key is one hash update
 * of a string built by concatenation, with no buffer written field by field. It is the warm run's path
 * (200 keys: ~12 ms through a Buffer, ~5 ms this way, measured in a fresh process — the code runs once
 * per step, mostly unoptimised; docs/performance.md "The runner"). The bytes are the same: an ASCII
 * string's characters are its UTF-8 bytes; any other string goes through its UTF-8 bytes.
 */
const ASCII = /^[\x00-\x7f]*$/;

class Encoder {
  text = '';

  u32(n: number): void {
    this.text += String.fromCharCode(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
  }

  str(s: string): void {
    if (ASCII.test(s)) {
      this.u32(s.length);
      this.text += s;
    } else {
      const bytes = Buffer.from(s, 'utf8');
      this.u32(bytes.length);
      this.text += bytes.toString('latin1');
    }
  }
}

const sortedKeys = (o: Record<string, string>) => Object.keys(o).sort(compareBytes);

/** A labelled file list (step inputs, global inputs): path, content digest and executable bit, by path. */
function encodeFiles(e: Encoder, label: string, files: readonly FileDigest[]): void {
  const sorted = [...files].sort((a, b) => compareBytes(a.path, b.path));
  e.str(label);
  e.u32(sorted.length);
  for (const f of sorted) {
    e.str(f.path);
    e.str(f.sha256);
    e.str(f.executable ? 'x' : '-');
  }
}

function encode(c: KeyComponents): string {
  const e = new Encoder();
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
  encodeFiles(e, 'inputs', c.inputs);
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
  if (c.global && c.global.length > 0) encodeFiles(e, 'global', c.global);
  if (c.envMode === 'strict') {
    e.str('env_mode');
    e.str('strict');
  }
  if (c.isolation === 'sandbox') {
    e.str('isolation');
    e.str('sandbox');
  }
  if (c.isolation === 'container') {
    e.str('isolation');
    e.str('container');
    e.str('image');
    e.str(c.image ?? '');
  }
  if (c.workingDir !== undefined) {
    e.str('working_dir');
    e.str(c.workingDir);
  }
  return e.text;
}

/** The canonical bytes the key hashes (exported for tests and for documentation). */
export function encodeKeyComponents(c: KeyComponents): Buffer {
  return Buffer.from(encode(c), 'latin1');
}

/** Hex SHA-256 cache key. */
export function cacheKey(c: KeyComponents): string {
  return createHash('sha256').update(encode(c), 'latin1').digest('hex');
}
