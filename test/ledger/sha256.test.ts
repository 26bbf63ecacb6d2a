import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mapKey } from '../../src/ledger/index.js';
import { sha256Js } from '../../src/ledger/sha256.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('sha256Js (the subject map hash)', () => {
  it('equals node:crypto SHA-256 for every length 0–300, across the one/two/three-block padding edges', () => {
    for (let n = 0; n <= 300; n++) {
      const data = crypto.randomBytes(n);
      expect(hex(sha256Js(data)), `length ${n}`).toBe(crypto.createHash('sha256').update(data).digest('hex'));
    }
  });

  it('matches the FIPS 180-4 examples', () => {
    expect(hex(sha256Js(new Uint8Array(0)))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(hex(sha256Js(Buffer.from('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hex(sha256Js(Buffer.from('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')))).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
  });

  it('hashes only the prefix it is told to, and leaves the input untouched', () => {
    const data = crypto.randomBytes(100);
    const copy = Buffer.from(data);
    expect(hex(sha256Js(data, 37))).toBe(crypto.createHash('sha256').update(data.subarray(0, 37)).digest('hex'));
    expect(Buffer.compare(data, copy)).toBe(0);
  });

  it('a long input (many blocks) and a large one after a short one reuse the scratch correctly', () => {
    const big = crypto.randomBytes(70_000);
    expect(hex(sha256Js(big))).toBe(crypto.createHash('sha256').update(big).digest('hex'));
    const small = crypto.randomBytes(3);
    expect(hex(sha256Js(small))).toBe(crypto.createHash('sha256').update(small).digest('hex'));
  });

  it('mapKey is SHA-256 of the UTF-8 bytes, non-ASCII and lone surrogates as Buffer.from encodes them', () => {
    for (const s of ['["artifact","abc"]', '["trail","flöw/ü🙂"]', 'x\uD800y', 'é'.repeat(500)]) {
      expect(hex(mapKey(s))).toBe(crypto.createHash('sha256').update(Buffer.from(s, 'utf8')).digest('hex'));
    }
  });
});
