import crypto from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mapKey, mapLeafHash, mapNodeHash } from '../../src/ledger/index.js';
import { binaryToHash, mapLeafHashBinary, mapNodeHashBinary } from '../../src/ledger/map-hash.js';

// The map's hashes are defined byte by byte in docs/log.md ("The subject map"): these recompute each one with
// createHash over the documented layout, independently of the one-shot latin1 path map-hash.ts takes.
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const sha = (...parts: Uint8Array[]) => crypto.createHash('sha256').update(Buffer.concat(parts)).digest('hex');
const u64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};
const hash32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const binary = (h: Uint8Array) => String.fromCharCode(...h);

describe('the subject map hashes', () => {
  it('mapKey is SHA-256 of the UTF-8 bytes, non-ASCII and lone surrogates as Buffer.from encodes them', () => {
    for (const s of ['', '["artifact","abc"]', '["trail","flöw/ü🙂"]', 'x\uD800y', '\uDC00', 'é'.repeat(500), 'a'.repeat(70_000)]) {
      expect(hex(mapKey(s))).toBe(sha(Buffer.from(s, 'utf8')));
    }
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => hex(mapKey(s)) === sha(Buffer.from(s, 'utf8'))));
  });

  it('a leaf is SHA-256(0x02 || key || uint64 big-endian index), as bytes and as a binary string', () => {
    const index = fc.oneof(fc.integer({ min: 0, max: 2 ** 32 + 5 }), fc.constantFrom(0, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER));
    fc.assert(fc.property(hash32, index, (key, i) => {
      const want = sha(Uint8Array.of(0x02), key, u64(i));
      expect(hex(mapLeafHash(key, i))).toBe(want);
      expect(hex(binaryToHash(mapLeafHashBinary(key, i)))).toBe(want);
    }));
    expect(() => mapLeafHash(new Uint8Array(32), -1)).toThrow(/non-negative integer/);
    expect(() => mapLeafHashBinary(new Uint8Array(32), 1.5)).toThrow(/non-negative integer/);
  });

  it('a node is SHA-256(0x03 || left || right), an empty side 32 zero bytes, as bytes and as a binary string', () => {
    const zero = new Uint8Array(32);
    fc.assert(fc.property(fc.option(hash32), fc.option(hash32), (l, r) => {
      const want = sha(Uint8Array.of(0x03), l ?? zero, r ?? zero);
      expect(hex(binaryToHash(mapNodeHashBinary(l && binary(l), r && binary(r))))).toBe(want);
      expect(hex(mapNodeHash(l ?? zero, r ?? zero))).toBe(want);
    }));
  });

  it('each digest is a fresh value: an earlier result is not overwritten by a later call', () => {
    const a = mapNodeHash(new Uint8Array(32).fill(1), new Uint8Array(32).fill(2));
    const before = hex(a);
    mapNodeHash(new Uint8Array(32).fill(3), new Uint8Array(32).fill(4));
    expect(hex(a)).toBe(before);
  });
});
