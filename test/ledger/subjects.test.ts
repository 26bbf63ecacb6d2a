import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SUBJECT_KINDS, subjectKey } from '../../src/ledger/index.js';

// subjectKey writes names without escapable characters directly (issue #21: it runs for every entry a
// verifier streams); it must give exactly the text JSON.stringify gives, which is what the map keys hash.
describe('subjectKey', () => {
  const name = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 40 }), // any code unit sequence, lone surrogates included
    fc.string({ unit: fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', '\u007f', '\u2028', 'é', '\ud800', '\udc00', 'a', '😀'), maxLength: 8 }),
    fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }),
  );

  it('is JSON.stringify of [kind, ...names] for any names', () => {
    fc.assert(fc.property(fc.constantFrom(...SUBJECT_KINDS), fc.array(name, { minLength: 1, maxLength: 3 }), (kind, names) => {
      expect(subjectKey(kind, ...names)).toBe(JSON.stringify([kind, ...names]));
    }), { numRuns: 2000 });
  });

  it('writes the usual keys as before', () => {
    expect(subjectKey('trail', 'bench', 't1')).toBe('["trail","bench","t1"]');
    expect(subjectKey('artifact', 'a"b')).toBe('["artifact","a\\"b"]');
  });
});
