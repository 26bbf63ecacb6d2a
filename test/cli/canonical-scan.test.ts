import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/formats/index.js';
import { scanCanonicalEntry } from '../../src/cli/verify/canonical-scan.js';

// The one-pass canonical check of `verify log --full` (issue #21) may only ever vouch for bytes that the full
// check (parse, canonicalise, compare) also finds canonical, and must hand back the fields JSON.parse gives.

const encoder = new TextEncoder();
const WANTED = ['org', 'v', 'type', 'prev', 'fingerprint', 'artifact_fingerprint', 'environment', 'flow', 'trail'];

function scan(text: string): Record<string, unknown> | undefined {
  const bytes = encoder.encode(text);
  return scanCanonicalEntry(bytes, 0, bytes.length);
}

/** What the full path says: is `text` canonical JSON (RFC 8785)? */
function canonical(text: string): boolean {
  try {
    return canonicalJson(JSON.parse(text)) === text;
  } catch {
    return false;
  }
}

function wantedOf(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(WANTED.filter((k) => Object.hasOwn(value, k)).map((k) => [k, value[k]]));
}

/** Whatever the scan vouches for is canonical, with the fields JSON.parse gives. */
function holds(text: string): void {
  const fields = scan(text);
  if (fields === undefined) return;
  expect(canonical(text)).toBe(true);
  expect(fields).toEqual(wantedOf(JSON.parse(text) as Record<string, unknown>));
}

const unicode = fc.string({ unit: 'binary' });
const entry = fc.record({
  v: fc.oneof(fc.constant(1), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })),
  type: fc.oneof(fc.constantFrom('artifact.reported', 'trail.begun'), unicode),
  org: fc.oneof(fc.constant('acme'), unicode),
  flow: fc.oneof(fc.constant('runner'), unicode),
  trail: unicode,
  fingerprint: fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }),
  prev: fc.oneof(fc.constant(null), fc.dictionary(fc.constantFrom('artifact', 'trail', 'flow'), fc.oneof(fc.constant(null), fc.nat()))),
  payload: fc.jsonValue(),
}, { requiredKeys: ['v', 'type', 'org'] });

describe('the one-pass canonical scan of verify log --full', () => {
  it('vouches for the canonical form of ordinary entries, with the fields JSON.parse gives', () => {
    const text = canonicalJson({
      v: 1, type: 'artifact.reported', org: 'acme', flow: 'runner', trail: 'main-1', fingerprint: 'ab'.repeat(32),
      prev: { artifact: null, trail: 4 }, name: 'app\n"quoted" \\ tab\t', commit: 'é✓ 😀', n: -120, ok: true, none: null, list: [1, [], {}, 'x'],
    });
    expect(scan(text)).toEqual({ v: 1, type: 'artifact.reported', org: 'acme', flow: 'runner', trail: 'main-1', fingerprint: 'ab'.repeat(32), prev: { artifact: null, trail: 4 } });
  });

  it('never vouches for what the full check refuses (generated entries, canonical and not)', () => {
    fc.assert(
      fc.property(entry, fc.boolean(), (value, pretty) => {
        const text = canonicalJson(value);
        holds(text);
        holds(pretty ? JSON.stringify(value, null, 1) : JSON.stringify(value));
        holds(JSON.stringify(Object.fromEntries(Object.entries(value).reverse())));
      }),
      { numRuns: 500 },
    );
  });

  it('never vouches for a canonical entry edited by one byte', () => {
    fc.assert(
      fc.property(entry, fc.nat(), fc.integer({ min: 0, max: 255 }), (value, at, byte) => {
        const bytes = encoder.encode(canonicalJson(value));
        bytes[at % bytes.length] = byte;
        const fields = scanCanonicalEntry(bytes, 0, bytes.length);
        if (fields === undefined) return;
        const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes); // throws (failing the test) on bad UTF-8
        expect(canonical(text)).toBe(true);
        expect(fields).toEqual(wantedOf(JSON.parse(text) as Record<string, unknown>));
      }),
      { numRuns: 2000 },
    );
  });

  it('leaves to the full check what it does not cover', () => {
    for (const text of [
      '{"org":"acme","type":"t","v":1,"x":-0}', // -0 (canonical: 0)
      '{"org":"acme","type":"t","v":1,"x":1.5}', // fractions: Number#toString decides
      '{"org":"acme","type":"t","v":1,"x":1e3}',
      '{"org":"acme","type":"t","v":1,"x":0123}',
      '{"org":"acme","type":"t","v":1,"x":1234567890123456}', // 16 digits
      '{"org":"acme","type":"t","v":1,"x":"\\u0001"}', // canonical, but a \\u escape
      '{"org":"acme","type":"t","v":1,"x":"\\/"}',
      '{"org":"acme","type":"t","v":1,"x":"a\tb"}', // a raw control character
      '{"org":"acme","type":"t","v":1,"é":1}', // a non-ASCII key
      '{"org":"acme","type":"t","v":1,"v":1}', // a repeated key
      '{"type":"t","org":"acme","v":1}', // keys out of order
      '{"org":"acme","type":"t","v":1} ', // trailing bytes
      '{"org": "acme","type":"t","v":1}', // whitespace
      '{"org":"acme","type":"t","v":1,"x":tru}',
      '{"org":"acme","type":"t","v":1,"x":[1,]}',
      '{"org":"acme","type":"t","v":1,"x":"open}',
      '[1]',
      `{"x":${'['.repeat(100)}${']'.repeat(100)}}`,
    ]) {
      expect(scan(text), text).toBeUndefined();
    }
    const bad = new Uint8Array([...encoder.encode('{"org":"acme","type":"t","v":1,"x":"'), 0xc3, 0x28, ...encoder.encode('"}')]);
    expect(scanCanonicalEntry(bad, 0, bad.length)).toBeUndefined(); // not UTF-8
    expect(scan('{"org":"acme","type":"t","v":1,"x":{"10":1,"9":2}}')).toEqual({ org: 'acme', type: 't', v: 1 }); // integer-like keys in UTF-16 order
  });
});
