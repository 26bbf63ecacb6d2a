import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { EvidentError, type ErrorCode } from '../../src/core/index.js';
import { leafHash, nodeHash, type Hash } from '../../src/ledger/index.js';

const here = fileURLToPath(new URL('.', import.meta.url));

/** test/vectors: a copy of the project's shared/vectors kept in the repository, so a clone anywhere can run them. */
export const VECTORS = path.resolve(here, '../vectors');
export const MERKLE_VECTORS = path.join(VECTORS, 'merkle');

export const hex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
export const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
export const toB64 = (h: Uint8Array): string => Buffer.from(h).toString('base64');

/** The 8-leaf reference tree of shared/vectors/merkle/README.md. */
export const REFERENCE_LEAF_DATA = [
  '', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f',
].map(hex);
export const REFERENCE_LEAVES: Hash[] = REFERENCE_LEAF_DATA.map(leafHash);
export const REFERENCE_ROOTS: string[] = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

/** Every *.json file under dir, recursively, sorted. */
export function walkJson(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walkJson(full));
    else if (entry.name.endsWith('.json')) out.push(full);
  }
  return out.sort();
}

/**
 * Reads a probe file. Integer literals are taken from the raw text through BigInt, so a value beyond
 * 2^53 - 1 (such as 9223372036854775810) is not silently rounded: it is handed on as a number >= 2^53,
 * which every ledger function must refuse as not a safe integer.
 */
export function readProbe(file: string): Record<string, unknown> {
  const raw = fs.readFileSync(file, 'utf8').replace(/(:\s*)(\d{16,})/g, '$1"#big:$2"');
  const parsed = JSON.parse(raw) as Record<string, unknown>;
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value === 'string' && value.startsWith('#big:')) {
      const big = BigInt(value.slice(5));
      expect(big > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
      parsed[key] = Number(big);
      expect(Number.isSafeInteger(parsed[key])).toBe(false);
    }
  }
  return parsed;
}

/** MTH of a list of leaf hashes by the recursive definition of RFC 9162 §2.1.1 (a slow reference). */
export function referenceRoot(leaves: readonly Hash[]): Hash {
  if (leaves.length === 0) return new Uint8Array(Buffer.from('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'hex'));
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(referenceRoot(leaves.slice(0, k)), referenceRoot(leaves.slice(k)));
}

/** Deterministic distinct leaf hashes. */
export function makeLeaves(n: number, salt = 0): Hash[] {
  return Array.from({ length: n }, (_, i) => leafHash(new TextEncoder().encode(`leaf ${salt}:${i}`)));
}

export function flipBit(h: Uint8Array, bit: number): Uint8Array {
  const copy = new Uint8Array(h);
  copy[bit >> 3]! ^= 1 << (bit & 7);
  return copy;
}

/** Expects fn to throw an EvidentError, with one of the given codes when given. */
export function expectEvidentError(fn: () => unknown, ...codes: ErrorCode[]): EvidentError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected an EvidentError').toBeInstanceOf(EvidentError);
  const err = caught as EvidentError;
  if (codes.length > 0) expect(codes).toContain(err.code);
  return err;
}
