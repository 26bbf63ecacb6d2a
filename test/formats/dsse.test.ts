import { createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EvidentError } from '../../src/core/index.js';
import {
  decodeDsseBase64, dsseVerifierForKey, pae, parseEnvelope, parseEnvelopeJson, signEnvelope, verifyEnvelope,
} from '../../src/formats/index.js';

// test/vectors/dsse.md
const TYPE = 'http://example.com/HelloWorld';
const BODY = new TextEncoder().encode('hello world');
const P256_SIG = 'A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA==';
const P256_JWK = { kty: 'EC', crv: 'P-256', x: 'Z805D3eqNZywjCI19lInBJOp7YMrCrzAH3CVTAOQ0jg', y: 'DHgr1U4mkSWkT0Qzr_FDLOlOErynOqZ6yAzqEmCN33Q' };

function derFromP1363(raw: Buffer): Buffer {
  const int = (b: Buffer): Buffer => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    let v = b.subarray(i);
    if (v[0]! & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
    return Buffer.concat([Buffer.from([0x02, v.length]), v]);
  };
  const body = Buffer.concat([int(raw.subarray(0, 32)), int(raw.subarray(32))]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

function envelopeWith(sig: string, payload = Buffer.from(BODY).toString('base64')) {
  return { payload, payloadType: TYPE, signatures: [{ keyid: '', sig }] };
}

function ed25519() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { publicKey, signer: { keyid: 'k1', sign: (m: Uint8Array) => new Uint8Array(sign(null, m, privateKey)) } };
}

describe('DSSE v1', () => {
  it('PAE is the spec vector', () => {
    expect(Buffer.from(pae(TYPE, BODY)).toString()).toBe('DSSEv1 29 http://example.com/HelloWorld 11 hello world');
  });

  it('PAE lengths count UTF-8 bytes, not characters', () => {
    expect(Buffer.from(pae('é', new Uint8Array([0xff]))).toString('latin1')).toBe('DSSEv1 2 \u00c3\u00a9 1 \u00ff');
    expect(Buffer.from(pae('t', new Uint8Array(0))).toString()).toBe('DSSEv1 1 t 0 ');
  });

  it("verifies the spec's ECDSA P-256 signature, raw (P1363) and DER-encoded", () => {
    const verifier = dsseVerifierForKey(createPublicKey({ key: P256_JWK, format: 'jwk' }));
    const raw = parseEnvelope(envelopeWith(P256_SIG));
    expect(verifyEnvelope(raw, [verifier])).toHaveLength(1);
    const der = derFromP1363(Buffer.from(P256_SIG, 'base64')).toString('base64');
    expect(verifyEnvelope(parseEnvelope(envelopeWith(der)), [verifier])).toHaveLength(1);
    const other = parseEnvelope(envelopeWith(P256_SIG, Buffer.from('hello world!').toString('base64')));
    expect(verifyEnvelope(other, [verifier])).toEqual([]);
  });

  it('accepts standard and URL-safe base64, padded or not', () => {
    const urlSafe = P256_SIG.replace(/\+/g, '-').replace(/\//g, '_');
    const verifier = dsseVerifierForKey(createPublicKey({ key: P256_JWK, format: 'jwk' }));
    for (const sig of [urlSafe, urlSafe.replace(/=+$/, ''), P256_SIG.replace(/=+$/, '')]) {
      expect(verifyEnvelope(parseEnvelope(envelopeWith(sig)), [verifier]), sig).toHaveLength(1);
    }
  });

  it('refuses malformed base64 (bad characters, mixed alphabets, stray bits)', () => {
    for (const bad of ['a+b_', 'abc$', 'a', 'ab=c', 'YR==', 'YWJj=']) {
      expect(() => decodeDsseBase64(bad, 'x'), bad).toThrow(EvidentError);
    }
  });

  it('property: both alphabets decode to the same bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const b = Buffer.from(bytes);
        expect(decodeDsseBase64(b.toString('base64'), 'x')).toEqual(new Uint8Array(b));
        expect(decodeDsseBase64(b.toString('base64url'), 'x')).toEqual(new Uint8Array(b));
      }),
    );
  });

  it('Ed25519: signs PAE, and rejects a tampered payload, type or signature and a wrong key', () => {
    const { publicKey, signer } = ed25519();
    const envelope = signEnvelope('application/vnd.in-toto+json', BODY, [signer]);
    const verifier = dsseVerifierForKey(publicKey, 'k1');
    expect(verifyEnvelope(parseEnvelope(envelope), [verifier])).toEqual(['k1']);
    const tampered = { ...envelope, payload: Buffer.from('hello worle').toString('base64') };
    expect(verifyEnvelope(parseEnvelope(tampered), [verifier])).toEqual([]);
    expect(verifyEnvelope(parseEnvelope({ ...envelope, payloadType: 'text/plain' }), [verifier])).toEqual([]);
    const sig = Buffer.from(envelope.signatures[0]!.sig, 'base64');
    sig[0]! ^= 1;
    const badSig = { ...envelope, signatures: [{ keyid: 'k1', sig: sig.toString('base64') }] };
    expect(verifyEnvelope(parseEnvelope(badSig), [verifier])).toEqual([]);
    expect(verifyEnvelope(parseEnvelope(envelope), [dsseVerifierForKey(ed25519().publicKey, 'k1')])).toEqual([]);
    // keyid is a hint: a verifier with another id does not try the signature
    expect(verifyEnvelope(parseEnvelope(envelope), [dsseVerifierForKey(publicKey, 'other')])).toEqual([]);
  });

  it('an unsigned envelope verifies with nobody', () => {
    const { publicKey } = ed25519();
    const envelope = signEnvelope('t', BODY, []);
    expect(envelope.signatures).toEqual([]);
    expect(verifyEnvelope(parseEnvelope(envelope), [dsseVerifierForKey(publicKey)])).toEqual([]);
  });

  it('refuses malformed envelopes', () => {
    for (const bad of [null, [], {}, { payload: 'aGk=', signatures: [] }, { payload: 1, payloadType: 't', signatures: [] },
      { payload: 'aGk=', payloadType: 't', signatures: {} }, { payload: 'aGk=', payloadType: 't', signatures: [{ sig: '' }] },
      { payload: 'aGk=', payloadType: 't', signatures: [{ keyid: 3, sig: 'aGk=' }] }, { payload: 'a', payloadType: 't', signatures: [] }]) {
      expect(() => parseEnvelope(bad), JSON.stringify(bad)).toThrow(EvidentError);
    }
    expect(() => parseEnvelopeJson('{not json')).toThrow(/not JSON/);
  });
});
