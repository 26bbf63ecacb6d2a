import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EvidentError } from '../../src/core/index.js';
import { canonicalJson, canonicalJsonBytes, canonicalMembers, mergeCanonicalMembers } from '../../src/formats/index.js';

function double(bits: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${bits}`));
  return view.getFloat64(0);
}

function expectRefused(value: unknown): void {
  let caught: unknown;
  try {
    canonicalJson(value);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(EvidentError);
  expect((caught as EvidentError).code).toBe('INVALID_ARGUMENT');
}

describe('RFC 8785 canonical JSON', () => {
  it('serialises the §3.2.2 example', () => {
    const input = {
      numbers: [333333333.33333329, 1e30, 4.5, 2e-3, 0.000000000000000000000000001],
      string: '\u20ac$\u000F\u000aA\'\u0042\u0022\u005c\\"/',
      literals: [null, true, false],
    };
    const expected =
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
      '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}';
    expect(canonicalJson(input)).toBe(expected);
    // §3.2.4: the UTF-8 bytes of that output.
    const bytes = canonicalJsonBytes(input);
    expect(Buffer.from(bytes).toString('hex')).toBe(
      '7b226c69746572616c73223a5b6e756c6c2c747275652c66616c73655d2c226e756d62657273223a5b33333333333333' +
        '33332e333333333333332c31652b33302c342e352c302e3030322c31652d32375d2c22737472696e67223a22e282ac' +
        '245c75303030665c6e4127425c225c5c5c5c5c222f227d',
    );
  });

  it('sorts members by UTF-16 code units (§3.2.3)', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    expect(canonicalJson(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it.each([
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ])('Appendix B: %s is %s', (bits, expected) => {
    expect(canonicalJson(double(bits))).toBe(expected);
    expect(canonicalJson([double(bits)])).toBe(`[${expected}]`);
  });

  it('refuses NaN and Infinity (Appendix B) and other non-JSON values', () => {
    expectRefused(double('7fffffffffffffff'));
    expectRefused(double('7ff0000000000000'));
    expectRefused(-Infinity);
    expectRefused(undefined);
    expectRefused({ a: undefined });
    expectRefused([1, undefined]);
    expectRefused([1, , 3]);
    expectRefused(() => 1);
    expectRefused({ f: () => 1 });
    expectRefused(Symbol('s'));
    expectRefused({ [Symbol('k')]: 1 });
    expectRefused(10n);
    expectRefused({ n: 10n });
    expectRefused('lone \ud800 surrogate');
    expectRefused('lone \udc00 surrogate');
    expectRefused({ 'key \ud83d': 1 });
    expectRefused(new Date(0));
    expectRefused(new Map());
    expectRefused(new Uint8Array(2));
  });

  it('refuses cycles but accepts shared references', () => {
    const a: Record<string, unknown> = { x: 1 };
    a.self = a;
    expectRefused(a);
    const list: unknown[] = [];
    list.push({ back: list });
    expectRefused(list);
    const shared = { v: [1, 2] };
    expect(canonicalJson({ b: shared, a: shared })).toBe('{"a":{"v":[1,2]},"b":{"v":[1,2]}}');
  });

  it('writes nested values without whitespace and -0 as 0', () => {
    expect(canonicalJson({ z: [{}, [], -0, 'a"b'], a: { c: null, b: false } })).toBe(
      '{"a":{"b":false,"c":null},"z":[{},[],0,"a\\"b"]}',
    );
    expect(canonicalJson(Object.create(null) as object)).toBe('{}');
    expect(canonicalJson('\u2028\u007f\u001f')).toBe('"\u2028\u007f\\u001f"');
  });

  it('agrees with JSON.parse and is idempotent on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
        expect(canonicalJson(JSON.parse(text))).toBe(text);
        expect(new TextDecoder().decode(canonicalJsonBytes(value))).toBe(text);
      }),
      { numRuns: 300 },
    );
  });
});

describe('canonicalMembers and mergeCanonicalMembers', () => {
  it('give the same bytes as canonicalJson of the merged object', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.dictionary(fc.string(), fc.jsonValue()), (a, b) => {
        for (const k of Object.keys(a)) delete (b as Record<string, unknown>)[k];
        const merged = mergeCanonicalMembers(canonicalMembers(a), canonicalMembers(b));
        expect(merged).toBe(canonicalJson({ ...a, ...b }));
      }),
    );
    expect(() => mergeCanonicalMembers(canonicalMembers({ a: 1 }), canonicalMembers({ a: 2 }))).toThrow(/same member twice/);
  });

  it('merge one extra member in its place, as canonicalJson of the three merged', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.dictionary(fc.string(), fc.jsonValue()), fc.string(), fc.jsonValue(), (a, b, key, value) => {
        for (const k of Object.keys(a)) delete (b as Record<string, unknown>)[k];
        delete (a as Record<string, unknown>)[key];
        delete (b as Record<string, unknown>)[key];
        const extra = { key, member: canonicalMembers({ [key]: value }).members[0]! };
        expect(mergeCanonicalMembers(canonicalMembers(a), canonicalMembers(b), extra)).toBe(canonicalJson({ ...a, ...b, [key]: value }));
      }),
    );
    const one = { key: 'a', member: '"a":3' };
    expect(() => mergeCanonicalMembers(canonicalMembers({ a: 1 }), canonicalMembers({ b: 2 }), one)).toThrow(/same member twice/);
    expect(() => mergeCanonicalMembers(canonicalMembers({ c: 1 }), canonicalMembers({ a: 2 }), one)).toThrow(/same member twice/);
    expect(mergeCanonicalMembers(canonicalMembers({}), canonicalMembers({}), one)).toBe('{"a":3}');
    expect(() => canonicalMembers([] as unknown as Record<string, unknown>)).toThrow(/plain JSON object/);
  });
});
