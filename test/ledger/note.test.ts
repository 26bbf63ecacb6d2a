import { describe, expect, it } from 'vitest';
import {
  formatCheckpoint, generateSignerKey, keyIdFor, openCheckpoint, openNote, parseSignerKey, parseVerifierKey,
  signNote, verifierFromPublicKey, type NoteSigner, type NoteVerifier,
} from '../../src/ledger/index.js';
import { b64, expectEvidentError, hex } from './helpers.js';

// shared/vectors/checkpoints.md
const V1 = {
  verifierKey: 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k',
  note:
    'This is an example message.\n\n' +
    '\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n',
};
const V2 = {
  signerKey: 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz',
  verifierKey: 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
  text: "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n",
  sigLine: '\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n',
};
const V3 = {
  seedKey: 'PRIVATE+KEY+Log+2271c621+AdEIq9FLRQni54Wg68T96VJO+iayOaulswav2DUMKgvQ',
  name: 'example.com/evidence-log',
  verifierKey: 'example.com/evidence-log+21d600ff+AemuH5ooBpEPcr+W8onrjA1NfuzBVHdezakU81Ekarvs',
  note:
    'example.com/evidence-log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n' +
    '\u2014 example.com/evidence-log IdYA/wnV6QRhS8z4XUq6s7ulRgur9f5+69bPNHNBebbnmCe9q9Ayl8m2ZPrWrKnsCTJKbNtuSrMeR0rzYCuCCShVTgo=\n',
};
const V4 = {
  spki: 'MCowBQYDK2VwAyEAt8rlp1knGwjfbcXAYPYAkn0XiLz1x8O4t0YkEhie244=',
  origin: 'log2025-1.rekor.sigstore.dev',
  note:
    'log2025-1.rekor.sigstore.dev\n544347\nCb1hDcAcD3Q0OwFe8Vd3P2do41U0YnncMmvoT1FZPlE=\n\n' +
    '\u2014 log2025-1.rekor.sigstore.dev zxGZFVb1jBW5+nJB4Ln89igt/deGo1sx4MYlt+wmMyX2obZXmkB4FDnmUCKqmKny3TT+dS/PP/oIA3HIX23mOdnZjAs=\n',
};

const ROOT8 = hex('5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328');

function v3Signer(): NoteSigner {
  const seed = b64(V3.seedKey.split('+').slice(4).join('+')).subarray(1);
  return parseSignerKey(generateSignerKey(V3.name, seed).signerKey);
}

function v4Verifier(): NoteVerifier {
  const der = b64(V4.spki);
  expect(Buffer.from(der.subarray(0, 12)).toString('hex')).toBe('302a300506032b6570032100');
  return verifierFromPublicKey(V4.origin, der.subarray(12));
}

const vectors = (): [string, string, NoteVerifier][] => [
  ['vector 1', V1.note, parseVerifierKey(V1.verifierKey)],
  ['vector 2', V2.text + '\n' + V2.sigLine, parseVerifierKey(V2.verifierKey)],
  ['vector 3', V3.note, parseVerifierKey(V3.verifierKey)],
  ['vector 4', V4.note, v4Verifier()],
];

describe('C2SP signed-note vectors', () => {
  it('opens vector 1, the signed-note specification example', () => {
    const opened = openNote(V1.note, [parseVerifierKey(V1.verifierKey)]);
    expect(opened.text).toBe('This is an example message.\n');
    expect(opened.signatures).toEqual([{ name: 'example.com/foo', keyId: 0x530d903a, verified: true }]);
  });

  it('reproduces vector 2 (Go note tests) byte for byte', () => {
    const signer = parseSignerKey(V2.signerKey);
    expect(signer.name).toBe('PeterNeumann');
    expect(signer.keyId).toBe(0xc74f20a3);
    expect(signer.verifierKey).toBe(V2.verifierKey);
    const note = signNote(V2.text, [signer]);
    expect(note).toBe(V2.text + '\n' + V2.sigLine);
    expect(openNote(note, [parseVerifierKey(V2.verifierKey)]).text).toBe(V2.text);
  });

  it('reproduces the vector 3 checkpoint byte for byte and opens it', () => {
    const signer = v3Signer();
    expect(signer.verifierKey).toBe(V3.verifierKey);
    const note = signNote(formatCheckpoint({ origin: V3.name, size: 8, root: ROOT8 }), [signer]);
    expect(note).toBe(V3.note);
    const cp = openCheckpoint(V3.note, [parseVerifierKey(V3.verifierKey)]);
    expect(cp.origin).toBe(V3.name);
    expect(cp.size).toBe(8);
    expect(Buffer.from(cp.root).equals(Buffer.from(ROOT8))).toBe(true);
    expect(cp.extensions).toEqual([]);
    expect(cp.note).toBe(V3.note);
    expect(openCheckpoint(new TextEncoder().encode(V3.note), [parseVerifierKey(signer.verifierKey)]).size).toBe(8);
  });

  it('opens the vector 4 Rekor v2 checkpoint with a verifier from its SPKI key', () => {
    const verifier = v4Verifier();
    const sig = b64(V4.note.split(' ').pop()!.trim());
    expect(keyIdFor(V4.origin, b64(V4.spki).subarray(12))).toBe(Buffer.from(sig).readUInt32BE(0));
    const cp = openCheckpoint(V4.note, [verifier]);
    expect(cp.origin).toBe(V4.origin);
    expect(cp.size).toBe(544347);
    expect(parseVerifierKey(verifier.verifierKey).keyId).toBe(verifier.keyId);
  });

  it.each(vectors())('any changed byte of %s fails to open', (_name, note, verifier) => {
    const bytes = new TextEncoder().encode(note);
    expect(() => openNote(bytes, [verifier])).not.toThrow();
    for (let i = 0; i < bytes.length; i++) {
      for (const mask of [0x01, 0x20]) {
        const bad = new Uint8Array(bytes);
        bad[i]! ^= mask;
        expectEvidentError(() => openNote(bad, [verifier]), 'INVALID_ARGUMENT', 'VERIFICATION_FAILED');
      }
    }
  });

  it('fails when only unknown keys signed', () => {
    const err = expectEvidentError(() => openNote(V1.note, [parseVerifierKey(V2.verifierKey)]), 'VERIFICATION_FAILED');
    expect(err.message).toMatch(/no signature by a known key/);
    expectEvidentError(() => openNote(V1.note, []), 'VERIFICATION_FAILED');
  });

  it('ignores signatures whose key ID is not the known one, and lists them unverified', () => {
    const real = parseSignerKey(V2.signerKey);
    const impostor = parseSignerKey(generateSignerKey('PeterNeumann').signerKey);
    expect(impostor.keyId).not.toBe(real.keyId);
    const verifiers = [parseVerifierKey(V2.verifierKey)];
    const both = signNote(V2.text, [impostor, real]);
    expect(openNote(both, verifiers).signatures).toEqual([
      { name: 'PeterNeumann', keyId: impostor.keyId, verified: false },
      { name: 'PeterNeumann', keyId: real.keyId, verified: true },
    ]);
    expectEvidentError(() => openNote(signNote(V2.text, [impostor]), verifiers), 'VERIFICATION_FAILED');
  });

  it('rejects a bad signature by a known key even next to a good one', () => {
    const real = parseSignerKey(V2.signerKey);
    const forger: NoteSigner = { ...real, sign: (m) => impostorSign(m) };
    const other = parseSignerKey(generateSignerKey('other.example/key').signerKey);
    const note = signNote(V2.text, [other, forger]);
    expectEvidentError(() => openNote(note, [parseVerifierKey(V2.verifierKey), parseVerifierKey(other.verifierKey)]), 'VERIFICATION_FAILED');
  });

  it('signs with several keys and opens with any of them', () => {
    const a = parseSignerKey(generateSignerKey('a.example/log').signerKey);
    const b = parseSignerKey(generateSignerKey('b.example/witness').signerKey);
    const note = signNote('hello\n\nworld\n', [a, b]);
    expect(openNote(note, [parseVerifierKey(b.verifierKey)]).text).toBe('hello\n\nworld\n');
    expect(openNote(note, [parseVerifierKey(a.verifierKey), parseVerifierKey(b.verifierKey)]).signatures.every((s) => s.verified)).toBe(true);
  });
});

const throwaway = parseSignerKey(generateSignerKey('throwaway').signerKey);
function impostorSign(message: Uint8Array): Uint8Array {
  return throwaway.sign(message);
}

describe('malformed notes and keys', () => {
  const signer = parseSignerKey(V2.signerKey);
  const verifier = parseVerifierKey(V2.verifierKey);
  const good = signNote(V2.text, [signer]);
  const sigLine = good.slice(V2.text.length + 1);

  it.each([
    ['no blank line', V2.text + sigLine],
    ['no final newline', good.slice(0, -1)],
    ['a control character', good.replace('If you', 'If\tyou')],
    ['a carriage return', good.replace('\n\n', '\r\n\n')],
    ['a lone surrogate', good.replace('If', 'I\ud800f')],
    ['a signature line without the em dash', V2.text + '\n' + sigLine.replace('\u2014 ', '- ')],
    ['a signature line with a hyphen', V2.text + '\n' + sigLine.replace('\u2014', '\u2013')],
    ['an empty signature block', V2.text + '\n'],
    ['a signature without base64', V2.text + '\n\u2014 PeterNeumann\n'],
    ['a short signature', V2.text + '\n\u2014 PeterNeumann AAAAAA==\n'],
    ['non-canonical base64', good.replace('JnAM=', 'JnAN=')],
    ['101 signatures', V2.text + '\n' + sigLine.repeat(101)],
  ])('rejects a note with %s', (_what, note) => {
    expectEvidentError(() => openNote(note, [verifier]));
  });

  it('accepts 100 signatures (repeats count once)', () => {
    const opened = openNote(V2.text + '\n' + sigLine.repeat(100), [verifier]);
    expect(opened.signatures).toHaveLength(1);
  });

  it('rejects non-UTF-8 bytes', () => {
    const bytes = Buffer.concat([Buffer.from([0xff]), Buffer.from(good)]);
    expectEvidentError(() => openNote(new Uint8Array(bytes), [verifier]), 'INVALID_ARGUMENT');
  });

  it('refuses to sign malformed text', () => {
    expectEvidentError(() => signNote('no newline', [signer]), 'INVALID_ARGUMENT');
    expectEvidentError(() => signNote('bell\u0007\n', [signer]), 'INVALID_ARGUMENT');
    expectEvidentError(() => signNote('ok\n', []), 'INVALID_ARGUMENT');
  });

  it.each([
    'PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
    'PeterNeumann+c74f20a3+AhpcWcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
    'PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
    'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T',
    'Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
    '+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
    'PeterNeumann',
    'PeterNeumann+c74f20a3',
  ])('rejects verifier key %s', (key) => {
    expectEvidentError(() => parseVerifierKey(key), 'INVALID_ARGUMENT');
  });

  it('rejects bad signer keys and names', () => {
    expectEvidentError(() => parseSignerKey(V2.signerKey.replace('c74f20a3', 'c74f20a4')), 'INVALID_ARGUMENT');
    expectEvidentError(() => parseSignerKey(V2.signerKey.replace('PRIVATE+KEY+', '')), 'INVALID_ARGUMENT');
    expectEvidentError(() => parseSignerKey('PRIVATE+KEY+x+00000000+AQ=='), 'INVALID_ARGUMENT');
    for (const name of ['', 'a b', 'a+b', 'tab\there', 'nbsp\u00a0x']) {
      expectEvidentError(() => generateSignerKey(name), 'INVALID_ARGUMENT');
    }
    expectEvidentError(() => generateSignerKey('ok', new Uint8Array(31)), 'INVALID_ARGUMENT');
    expectEvidentError(() => verifierFromPublicKey('ok', new Uint8Array(31)), 'INVALID_ARGUMENT');
  });

  it('generates Go-format keys that round-trip', () => {
    const { signerKey, verifierKey } = generateSignerKey('example.com/new');
    expect(signerKey).toMatch(/^PRIVATE\+KEY\+example\.com\/new\+[0-9a-f]{8}\+A[Q-Za-f]/);
    expect(verifierKey).toMatch(/^example\.com\/new\+[0-9a-f]{8}\+A[Q-Za-f]/);
    const s = parseSignerKey(signerKey);
    expect(s.verifierKey).toBe(verifierKey);
    expect(openNote(signNote('x\n', [s]), [parseVerifierKey(verifierKey)]).text).toBe('x\n');
  });
});
