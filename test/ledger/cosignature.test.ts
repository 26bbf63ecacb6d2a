import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  checkCosignatures, checkWitnessPolicy, formatCheckpoint, generateCosignerKey, generateSignerKey, makeWitnessPolicy, openCheckpoint,
  parseCosignatureVerifierKey, parseCosignerKey, parseSignerKey, parseVerifierKey, signNote, splitNote, validCosignatureLines,
} from '../../src/ledger/index.js';
import { expectEvidentError } from './helpers.js';

const seed = (n: number) => new Uint8Array(32).fill(n);
const log = parseSignerKey(generateSignerKey('example.com/log/acme', seed(1)).signerKey);
const logVerifier = parseVerifierKey(log.verifierKey);
const witnesses = [2, 3, 4].map((n) => generateCosignerKey(`witness.example/w${n}`, seed(n)));
const cosigners = witnesses.map((w) => parseCosignerKey(w.signerKey));
const root = new Uint8Array(32).fill(7);
const text = formatCheckpoint({ origin: 'example.com/log/acme', size: 42, root, extensions: ['map Zm9v'] });
const note = signNote(text, [log]);

describe('cosignature/v1 keys (C2SP tlog-cosignature)', () => {
  it('computes the key ID as SHA-256(name || 0x0A || 0x04 || pub)[:4] and writes type 0x04 keys', () => {
    const v = parseCosignatureVerifierKey(witnesses[0]!.verifierKey);
    const expected = createHash('sha256').update('witness.example/w2').update(Buffer.from([0x0a, 0x04])).update(v.publicKey).digest().readUInt32BE(0);
    expect(v.keyId).toBe(expected);
    expect(Buffer.from(witnesses[0]!.verifierKey.split('+')[2]!, 'base64')[0]).toBe(0x04);
    expect(cosigners[0]!.verifierKey).toBe(witnesses[0]!.verifierKey);
  });

  it('refuses a note key (type 0x01) as a witness key, a wrong key ID, and a witness key as a log key', () => {
    expectEvidentError(() => parseCosignatureVerifierKey(log.verifierKey), 'INVALID_ARGUMENT');
    const [name, , b64] = witnesses[0]!.verifierKey.split('+');
    expectEvidentError(() => parseCosignatureVerifierKey(`${name}+00000000+${b64}`), 'INVALID_ARGUMENT');
    expectEvidentError(() => parseVerifierKey(witnesses[0]!.verifierKey), 'INVALID_ARGUMENT');
  });
});

describe('cosignatures', () => {
  const line = cosigners[0]!.cosign(text, 1_700_000_000);
  const cosigned = note + line;

  it('signs "cosignature/v1\\ntime T\\n" + the note text, with the timestamp before the signature', () => {
    const parsed = splitNote(cosigned).lines[1]!;
    expect(parsed.signature.length).toBe(72);
    expect(Buffer.from(parsed.signature.subarray(0, 8)).readBigUInt64BE()).toBe(1_700_000_000n);
    const w = parseCosignatureVerifierKey(witnesses[0]!.verifierKey);
    expect(checkCosignatures(cosigned, [w])).toEqual([{ witness: w.verifierKey, status: 'valid', timestamp: 1_700_000_000 }]);
  });

  it('leaves the log signature check untouched (cosignature lines are unknown keys to it)', () => {
    const cp = openCheckpoint(cosigned, [logVerifier]);
    expect(cp.size).toBe(42);
    expect(cp.extensions).toEqual(['map Zm9v']);
  });

  it('does not verify over a tampered checkpoint, a changed timestamp, or under another key', () => {
    const w = parseCosignatureVerifierKey(witnesses[0]!.verifierKey);
    const other = signNote(formatCheckpoint({ origin: 'example.com/log/acme', size: 43, root }), [log]);
    expect(checkCosignatures(other + line, [w])[0]!.status).toBe('invalid');
    const sig = Buffer.from(line.slice(line.lastIndexOf(' ') + 1, -1), 'base64');
    sig.writeBigUInt64BE(1_700_000_001n, 4);
    expect(checkCosignatures(`${note}\u2014 witness.example/w2 ${sig.toString('base64')}\n`, [w])[0]!.status).toBe('invalid');
    // Same name and key ID claimed by another key: the signature does not verify under the configured key.
    const impostor = parseCosignerKey(generateCosignerKey('witness.example/w2', seed(9)).signerKey);
    const forged = impostor.cosign(text, 1).replace(impostor.keyId.toString(), '');
    const body = Buffer.from(forged.slice(forged.lastIndexOf(' ') + 1, -1), 'base64');
    body.writeUInt32BE(w.keyId, 0);
    expect(checkCosignatures(`${note}\u2014 witness.example/w2 ${body.toString('base64')}\n`, [w])[0]!.status).toBe('invalid');
    // A cosignature by another witness is missing, not valid, for w.
    expect(checkCosignatures(note + cosigners[1]!.cosign(text, 5), [w])[0]!.status).toBe('missing');
  });

  it('keeps only valid lines of the configured witness from an add-checkpoint answer', () => {
    const w = parseCosignatureVerifierKey(witnesses[0]!.verifierKey);
    const answer = [line.slice(0, -1), cosigners[1]!.cosign(text, 1).slice(0, -1), 'garbage'];
    expect(validCosignatureLines(text, answer, w)).toEqual([line]);
  });
});

describe('witness policy: k of n', () => {
  const keys = witnesses.map((w) => w.verifierKey);

  it('accepts k valid cosignatures and refuses fewer, naming valid of required', () => {
    const policy = makeWitnessPolicy(keys, 2);
    const two = note + cosigners[0]!.cosign(text, 1) + cosigners[2]!.cosign(text, 2);
    expect(checkWitnessPolicy(two, policy).valid).toBe(2);
    const one = note + cosigners[0]!.cosign(text, 1);
    const err = expectEvidentError(() => checkWitnessPolicy(one, policy), 'VERIFICATION_FAILED');
    expect(err.message).toContain('1 valid witness cosignature of 2 required');
  });

  it('counts a witness once however many lines it has', () => {
    const policy = makeWitnessPolicy(keys, 2);
    const twice = note + cosigners[0]!.cosign(text, 1) + cosigners[0]!.cosign(text, 2);
    expectEvidentError(() => checkWitnessPolicy(twice, policy), 'VERIFICATION_FAILED');
  });

  it('defaults to all witnesses and refuses bad thresholds and repeated public keys', () => {
    expect(makeWitnessPolicy(keys).threshold).toBe(3);
    expectEvidentError(() => makeWitnessPolicy(keys, 0), 'INVALID_ARGUMENT');
    expectEvidentError(() => makeWitnessPolicy(keys, 4), 'INVALID_ARGUMENT');
    expectEvidentError(() => makeWitnessPolicy([]), 'INVALID_ARGUMENT');
    const renamed = generateCosignerKey('witness.example/other', seed(2)).verifierKey;
    expectEvidentError(() => makeWitnessPolicy([keys[0]!, renamed]), 'INVALID_ARGUMENT');
  });
});

describe('note parser with extra signature lines (property)', () => {
  it('opens the same checkpoint whatever unknown and cosignature lines follow, and counts cosignatures exactly', () => {
    const policyAll = makeWitnessPolicy(witnesses.map((w) => w.verifierKey), 1);
    const unknown = fc.tuple(fc.stringMatching(/^[a-z][a-z0-9./-]{0,20}$/), fc.uint8Array({ minLength: 5, maxLength: 80 }))
      .map(([name, bytes]) => `\u2014 ${name} ${Buffer.from(bytes).toString('base64')}\n`);
    const cosig = fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 ** 40 })).map(([i, t]) => ({ i, line: cosigners[i]!.cosign(text, t) }));
    const extra = fc.array(fc.oneof(unknown.map((line) => ({ i: -1, line })), cosig), { maxLength: 20 });
    fc.assert(
      fc.property(extra, (lines) => {
        const full = note + lines.map((l) => l.line).join('');
        const cp = openCheckpoint(full, [logVerifier]);
        expect(cp.size).toBe(42);
        expect(cp.extensions).toEqual(['map Zm9v']);
        const distinct = new Set(lines.filter((l) => l.i >= 0).map((l) => l.i)).size;
        const results = checkCosignatures(full, policyAll.witnesses);
        expect(results.filter((r) => r.status === 'valid').length).toBe(distinct);
      }),
      { numRuns: 200 },
    );
  });
});
