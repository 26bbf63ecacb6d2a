import { describe, expect, it } from 'vitest';
import {
  EMPTY_ROOT, formatCheckpoint, generateSignerKey, openCheckpoint, parseCheckpoint, parseSignerKey, parseVerifierKey,
  signNote,
} from '../../src/ledger/index.js';
import { expectEvidentError, hex } from './helpers.js';

const ROOT8 = hex('5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328');
const ROOT8_B64 = 'XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=';

describe('C2SP tlog-checkpoint', () => {
  it('formats and parses origin, size, root and extension lines', () => {
    const text = formatCheckpoint({ origin: 'example.com/log', size: 8, root: ROOT8, extensions: ['ext one', 'two'] });
    expect(text).toBe(`example.com/log\n8\n${ROOT8_B64}\next one\ntwo\n`);
    const cp = parseCheckpoint(text);
    expect(cp).toEqual({ origin: 'example.com/log', size: 8, root: ROOT8, extensions: ['ext one', 'two'] });
    expect(parseCheckpoint(formatCheckpoint({ origin: 'o', size: 0, root: EMPTY_ROOT })).size).toBe(0);
    expect(parseCheckpoint(`o\n9007199254740991\n${ROOT8_B64}\n`).size).toBe(Number.MAX_SAFE_INTEGER);
  });

  it.each([
    ['a leading zero', `o\n08\n${ROOT8_B64}\n`],
    ['a signed size', `o\n+8\n${ROOT8_B64}\n`],
    ['a negative size', `o\n-1\n${ROOT8_B64}\n`],
    ['a size beyond 2^63', `o\n9223372036854775810\n${ROOT8_B64}\n`],
    ['the size 2^53', `o\n9007199254740992\n${ROOT8_B64}\n`],
    ['a fractional size', `o\n1.0\n${ROOT8_B64}\n`],
    ['an empty size', `o\n\n${ROOT8_B64}\n`],
    ['an empty origin', `\n8\n${ROOT8_B64}\n`],
    ['a 31-byte root', `o\n8\n${Buffer.alloc(31).toString('base64')}\n`],
    ['a 33-byte root', `o\n8\n${Buffer.alloc(33).toString('base64')}\n`],
    ['an unpadded root', `o\n8\n${ROOT8_B64.slice(0, -1)}\n`],
    ['a non-canonical root', `o\n8\n${ROOT8_B64.replace('yg=', 'yh=')}\n`],
    ['a missing root', 'o\n8\n'],
    ['no final newline', `o\n8\n${ROOT8_B64}`],
    ['an empty extension line', `o\n8\n${ROOT8_B64}\n\next\n`],
    ['a control character', `o\u0001\n8\n${ROOT8_B64}\n`],
  ])('rejects %s', (_what, text) => {
    expectEvidentError(() => parseCheckpoint(text), 'INVALID_ARGUMENT');
  });

  it('refuses to format bad checkpoints', () => {
    expectEvidentError(() => formatCheckpoint({ origin: '', size: 1, root: ROOT8 }), 'INVALID_ARGUMENT');
    expectEvidentError(() => formatCheckpoint({ origin: 'a\nb', size: 1, root: ROOT8 }), 'INVALID_ARGUMENT');
    expectEvidentError(() => formatCheckpoint({ origin: 'o', size: -1, root: ROOT8 }), 'INVALID_ARGUMENT');
    expectEvidentError(() => formatCheckpoint({ origin: 'o', size: 2 ** 53, root: ROOT8 }), 'INVALID_ARGUMENT');
    expectEvidentError(() => formatCheckpoint({ origin: 'o', size: 1, root: new Uint8Array(31) }), 'INVALID_ARGUMENT');
    expectEvidentError(() => formatCheckpoint({ origin: 'o', size: 1, root: ROOT8, extensions: [''] }), 'INVALID_ARGUMENT');
  });

  it('opens only signed, well-formed checkpoints', () => {
    const signer = parseSignerKey(generateSignerKey('example.com/log').signerKey);
    const verifier = parseVerifierKey(signer.verifierKey);
    const note = signNote(formatCheckpoint({ origin: 'example.com/log/acme', size: 3, root: ROOT8 }), [signer]);
    const cp = openCheckpoint(note, [verifier]);
    expect(cp).toMatchObject({ origin: 'example.com/log/acme', size: 3, extensions: [], note });
    expectEvidentError(() => openCheckpoint(note.replace('\n3\n', '\n4\n'), [verifier]), 'VERIFICATION_FAILED');
    const notACheckpoint = signNote('just text\n', [signer]);
    expectEvidentError(() => openCheckpoint(notACheckpoint, [verifier]), 'INVALID_ARGUMENT');
  });
});
