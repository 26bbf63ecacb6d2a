import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { leafHash, leafHashOfText } from '../../src/ledger/index.js';

const encoder = new TextEncoder();
const hex = (h: Uint8Array) => Buffer.from(h).toString('hex');

// leafHashOfText writes a text's UTF-8 straight into a scratch buffer (the writer's hot path): it must hash
// exactly the bytes TextEncoder makes of it, whatever the text.
describe('leafHashOfText', () => {
  it('is leafHash of the text as TextEncoder encodes it, for any text (lone surrogates included)', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
      expect(hex(leafHashOfText(text))).toBe(hex(leafHash(encoder.encode(text))));
    }), { numRuns: 2000 });
  });

  it('is the same around and past the scratch buffer (64 KiB), where the bytes per character matter', () => {
    const texts = [
      '', 'a', '\ud800', 'x\udfffy', '😀'.repeat(10),
      'a'.repeat(65535), 'a'.repeat(65536), 'a'.repeat(65537), // one byte a character: past the 3-bytes guess
      'é'.repeat(21845), 'é'.repeat(32768), 'é'.repeat(32769), // two
      '€'.repeat(21845), '€'.repeat(21846), // three: the first fills the buffer exactly
      '😀'.repeat(16384), '😀'.repeat(16385), // four bytes for two code units
    ];
    for (const text of texts) expect(hex(leafHashOfText(text)), `${text.length} units`).toBe(hex(leafHash(encoder.encode(text))));
  });

  it('leaves no trace of a longer text in a shorter one', () => {
    const short = '{"a":1}';
    const before = hex(leafHashOfText(short));
    leafHashOfText('z'.repeat(5000));
    expect(hex(leafHashOfText(short))).toBe(before);
  });
});
