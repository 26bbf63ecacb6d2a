import fs from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EvidentError } from '../../src/core/index.js';
import { canonicalJson, parseSslibCanonicalJson, sslibCanonicalBytes, sslibCanonicalJson } from '../../src/formats/index.js';

const VECTORS = 'test/vectors/in-toto';

function refused(value: unknown): boolean {
  try {
    sslibCanonicalJson(value);
    return false;
  } catch (err) {
    return err instanceof EvidentError && err.code === 'INVALID_ARGUMENT';
  }
}

const key = fc.string({ unit: 'binary', maxLength: 6 });
const value = fc.letrec((tie) => ({
  json: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.maxSafeInteger(),
    fc.string({ unit: 'binary', maxLength: 12 }),
    fc.array(tie('json'), { maxLength: 4 }),
    fc.dictionary(key, tie('json'), { maxKeys: 4 }),
  ),
})).json;

describe('securesystemslib canonical JSON (in-toto pitfall 1)', () => {
  it('writes what encode_canonical writes: sorted keys, no whitespace, only \\ and " escaped', () => {
    expect(sslibCanonicalJson({ b: [1, -2, true, null], a: 'x"y\\z\n\té' })).toBe('{"a":"x\\"y\\\\z\n\té","b":[1,-2,true,null]}');
    expect(Buffer.from(sslibCanonicalBytes({ k: 'é' })).toString('hex')).toBe('7b226b223a22c3a9227d');
    expect(sslibCanonicalJson(-0)).toBe('0');
  });

  it('is not RFC 8785: control characters stay raw', () => {
    expect(sslibCanonicalJson({ a: '\n' })).not.toBe(canonicalJson({ a: '\n' }));
  });

  it('sorts keys by code point as Python does, not by UTF-16 code unit', () => {
    const astral = '\u{10000}';
    expect(sslibCanonicalJson({ [astral]: 1, '\uffff': 2 })).toBe(`{"\uffff":2,"${astral}":1}`);
  });

  it('refuses floats, unsafe integers and non-JSON values', () => {
    for (const bad of [1.5, NaN, Infinity, 2 ** 53, { a: 0.1 }, [undefined], { s: '\ud800' }, new Date(0), 1n]) {
      expect(refused(bad), String(bad)).toBe(true);
    }
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(refused(cyclic)).toBe(true);
  });

  it('property: its output parses back to the same value and re-encodes to the same text', () => {
    fc.assert(
      fc.property(value, (v) => {
        const text = sslibCanonicalJson(v);
        const back = parseSslibCanonicalJson(text);
        expect(back).toEqual(v);
        expect(sslibCanonicalJson(back)).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it('property: strings escape only backslash and double quote', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const text = sslibCanonicalJson(s);
        expect(text).toBe(`"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`);
        // every backslash in the body starts one of the two escapes
        expect(/\\[^\\"]/.test(text.slice(1, -1).replace(/\\[\\"]/g, ''))).toBe(false);
      }),
    );
  });

  it('the parser refuses what the encoder never writes', () => {
    for (const bad of ['{"b":1,"a":2}', '{"a":1,"a":1}', '{ "a":1}', '"\\n"', '1.0', '01', '-0', '[1,]', '{"a":1}x', 'nul', '"abc']) {
      expect(() => parseSslibCanonicalJson(bad), bad).toThrow(EvidentError);
    }
  });

  it('re-encodes the signed part of in-toto 1.3.1 metadata to the bytes it signed', () => {
    // The vectors' signatures are checked in in-toto-link.test.ts; here: the text is stable under our encoder.
    for (const file of ['intoto131-build.link', 'strict.layout']) {
      const block = JSON.parse(fs.readFileSync(`${VECTORS}/${file}`, 'utf8'));
      const text = sslibCanonicalJson(block.signed);
      expect(sslibCanonicalJson(parseSslibCanonicalJson(text))).toBe(text);
    }
  });
});
