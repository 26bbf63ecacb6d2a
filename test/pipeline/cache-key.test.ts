import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cacheKey, encodeKeyComponents, type KeyComponents } from '../../src/pipeline/index.js';

// The cache key (issue #6 item 3; docs/cache.md): SHA-256 over a length-prefixed canonical encoding of the
// command, the declared env (sorted), each input's path + content hash + executable bit, the keys of the
// steps it needs, and the declared outputs.

const hex = fc.stringMatching(/^[0-9a-f]{64}$/);
const text = fc.string({ maxLength: 12, unit: 'grapheme' });
const name = fc.stringMatching(/^[a-z][a-z0-9_.-]{0,6}$/);
const components: fc.Arbitrary<KeyComponents> = fc.record({
  command: text,
  env: fc.dictionary(fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,5}$/), text, { maxKeys: 4 }),
  inputs: fc.uniqueArray(fc.record({ path: fc.stringMatching(/^[a-z]{1,3}(\/[a-z]{1,3}){0,2}$/), sha256: hex, executable: fc.boolean() }), { selector: (f) => f.path, maxLength: 5 }),
  needs: fc.dictionary(name, hex, { maxKeys: 3 }),
  outputs: fc.uniqueArray(fc.stringMatching(/^[a-z]{1,4}\/?$/), { maxLength: 3 }),
});

/** Everything the key is a function of, in a form where "equal" means "same key expected". */
const canonical = (c: KeyComponents) =>
  JSON.stringify([
    c.command,
    Object.entries(c.env).sort(([a], [b]) => (a < b ? -1 : 1)),
    [...c.inputs].sort((a, b) => (a.path < b.path ? -1 : 1)),
    Object.entries(c.needs).sort(([a], [b]) => (a < b ? -1 : 1)),
    [...c.outputs].sort(),
  ]);

const base: KeyComponents = {
  command: 'npm run build',
  env: { BUILD_ENV: 'production' },
  inputs: [{ path: 'src/main.js', sha256: 'a'.repeat(64), executable: false }],
  needs: { lint: 'b'.repeat(64) },
  outputs: ['dist/'],
};

describe('cacheKey', () => {
  it('is the SHA-256 of the documented encoding', () => {
    const bytes = encodeKeyComponents({ command: 'ab', env: {}, inputs: [], needs: {}, outputs: [] });
    const str = (s: string) => Buffer.concat([Buffer.from([0, 0, 0, Buffer.byteLength(s)]), Buffer.from(s)]);
    const u32 = (n: number) => Buffer.from([0, 0, 0, n]);
    const expected = Buffer.concat([str('evident-cache-key/v1'), str('command'), str('ab'), str('env'), u32(0), str('inputs'), u32(0), str('needs'), u32(0), str('outputs'), u32(0)]);
    expect(bytes.equals(expected)).toBe(true);
    expect(cacheKey({ command: 'ab', env: {}, inputs: [], needs: {}, outputs: [] })).toBe(createHash('sha256').update(expected).digest('hex'));
  });

  it('keeps its values: non-ASCII strings are length-prefixed by their UTF-8 bytes, lengths above 255 and 65535 in four bytes', () => {
    // Keys computed by the Buffer-based encoder this encoding replaced: existing caches must still hit.
    const unicode: KeyComponents = {
      command: 'échó "ünïcode" 🚀 > out/ß.txt',
      env: { LANG: 'de_DE.UTF-8', GREETING: 'grüß dich' },
      inputs: [{ path: 'src/naïve.txt', sha256: 'c'.repeat(64), executable: true }, { path: 'src/a.txt', sha256: 'd'.repeat(64), executable: false }],
      needs: { 'bau-étape': 'e'.repeat(64) },
      outputs: ['out/ß.txt', 'out/'],
    };
    expect(cacheKey(unicode)).toBe('b8eb166f844ab4185541b2a226a86ca4e330f53bd57fc3041a198b24538019e2');
    const long: KeyComponents = { command: 'x'.repeat(70000) + '\u0000\u007f\u0080\uffff', env: {}, inputs: [], needs: {}, outputs: [] };
    expect(cacheKey(long)).toBe('e6edc4ffb39bb8abdf35388da7f48e6d3268295a4817d9f9798ded2c349dcd46');
  });

  it('is the SHA-256 of the encoding built with Buffers, on random full-Unicode components', () => {
    const str = (s: string) => {
      const bytes = Buffer.from(s, 'utf8');
      const n = Buffer.alloc(4);
      n.writeUInt32BE(bytes.length);
      return Buffer.concat([n, bytes]);
    };
    const u32 = (n: number) => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(n);
      return b;
    };
    const sorted = (xs: string[]) => [...xs].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const reference = (c: KeyComponents) => {
      const env = sorted(Object.keys(c.env));
      const inputs = [...c.inputs].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
      const needs = sorted(Object.keys(c.needs));
      const outputs = sorted(c.outputs);
      return Buffer.concat([
        str('evident-cache-key/v1'), str('command'), str(c.command),
        str('env'), u32(env.length), ...env.flatMap((k) => [str(k), str(c.env[k]!)]),
        str('inputs'), u32(inputs.length), ...inputs.flatMap((f) => [str(f.path), str(f.sha256), str(f.executable ? 'x' : '-')]),
        str('needs'), u32(needs.length), ...needs.flatMap((k) => [str(k), str(c.needs[k]!)]),
        str('outputs'), u32(outputs.length), ...outputs.map(str),
      ]);
    };
    const unicode = fc.string({ maxLength: 20, unit: 'binary' });
    const anyComponents: fc.Arbitrary<KeyComponents> = fc.record({
      command: unicode,
      env: fc.dictionary(unicode, unicode, { maxKeys: 3 }),
      inputs: fc.uniqueArray(fc.record({ path: unicode, sha256: hex, executable: fc.boolean() }), { selector: (f) => f.path, maxLength: 3 }),
      needs: fc.dictionary(unicode, hex, { maxKeys: 3 }),
      outputs: fc.uniqueArray(unicode, { maxLength: 3 }),
    });
    fc.assert(fc.property(anyComponents, (c) => {
      const expected = reference(c);
      expect(encodeKeyComponents(c).equals(expected)).toBe(true);
      expect(cacheKey(c)).toBe(createHash('sha256').update(expected).digest('hex'));
    }));
  });

  it('length-prefixes every string: ("ab","c") and ("a","bc") differ', () => {
    const env = (k: string, v: string) => cacheKey({ ...base, env: { [k]: v } });
    expect(env('AB', 'C')).not.toBe(env('A', 'BC'));
    const input = (p: string, sha: string) => cacheKey({ ...base, inputs: [{ path: p, sha256: sha, executable: false }] });
    expect(input('ab', 'c')).not.toBe(input('a', 'bc'));
    expect(cacheKey({ ...base, command: 'a', outputs: ['b'] })).not.toBe(cacheKey({ ...base, command: 'ab', outputs: [] }));
  });

  it('changes with each component: command, env name or value, input path, content, executable bit, upstream key, outputs', () => {
    const k = cacheKey(base);
    const variants: KeyComponents[] = [
      { ...base, command: 'npm run build ' },
      { ...base, env: { BUILD_ENV: 'staging' } },
      { ...base, env: { BUILD_ENVX: 'production' } },
      { ...base, env: {} },
      { ...base, inputs: [{ ...base.inputs[0]!, path: 'src/main.ts' }] },
      { ...base, inputs: [{ ...base.inputs[0]!, sha256: 'c'.repeat(64) }] },
      { ...base, inputs: [{ ...base.inputs[0]!, executable: true }] },
      { ...base, inputs: [] },
      { ...base, needs: { lint: 'd'.repeat(64) } },
      { ...base, needs: { test: 'b'.repeat(64) } },
      { ...base, outputs: ['dist/', 'docs/'] },
    ];
    const keys = variants.map(cacheKey);
    expect(new Set([k, ...keys]).size).toBe(variants.length + 1);
  });

  it('does not depend on the order env, inputs, needs and outputs are given in', () => {
    fc.assert(
      fc.property(components, (c) => {
        const shuffled: KeyComponents = {
          command: c.command,
          env: Object.fromEntries(Object.entries(c.env).reverse()),
          inputs: [...c.inputs].reverse(),
          needs: Object.fromEntries(Object.entries(c.needs).reverse()),
          outputs: [...c.outputs].reverse(),
        };
        expect(cacheKey(shuffled)).toBe(cacheKey(c));
      }),
    );
  });

  it('changes when and only when a component changes (on random pairs)', () => {
    fc.assert(
      fc.property(components, components, (a, b) => {
        expect(cacheKey(a) === cacheKey(b)).toBe(canonical(a) === canonical(b));
      }),
      { numRuns: 500 },
    );
    // Pairs that differ in exactly one place, which random pairs rarely produce.
    fc.assert(
      fc.property(components, fc.nat(4), text, (c, which, extra) => {
        const d: KeyComponents = structuredClone(c);
        if (which === 0) d.command += extra || 'x';
        else if (which === 1) d.env = { ...d.env, ZZ_NEW: extra };
        else if (which === 2) d.inputs = [...d.inputs, { path: 'zz/new', sha256: '0'.repeat(64), executable: false }];
        else if (which === 3) d.needs = { ...d.needs, 'zz-new': '1'.repeat(64) };
        else d.outputs = [...d.outputs, 'zz-new/'];
        expect(cacheKey(d)).not.toBe(cacheKey(c));
        expect(encodeKeyComponents(d).equals(encodeKeyComponents(c))).toBe(false);
      }),
    );
  });

  it('encodes different component lists to different bytes (injective on random inputs)', () => {
    fc.assert(
      fc.property(components, components, (a, b) => {
        if (canonical(a) !== canonical(b)) expect(encodeKeyComponents(a).equals(encodeKeyComponents(b))).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});
