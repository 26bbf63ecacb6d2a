import { verify, type KeyObject } from 'node:crypto';
import { EvidentError } from '../core/index.js';

// DSSE v1 (Dead Simple Signing Envelope, github.com/secure-systems-lab/dsse, protocol.md and
// envelope.md): signatures cover PAE(payloadType, payload), never the JSON of the envelope.

export const DSSE_MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

/** The JSON envelope as it is written: payload and signatures in standard base64. */
export interface DsseEnvelope {
  payload: string;
  payloadType: string;
  signatures: { keyid: string; sig: string }[];
}

export interface ParsedEnvelope {
  payloadType: string;
  payload: Uint8Array;
  signatures: { keyid: string; sig: Uint8Array }[];
}

export interface DsseSigner {
  /** An unauthenticated hint for verifiers (DSSE protocol.md); Evident uses the securesystemslib key id. */
  keyid: string;
  sign(message: Uint8Array): Uint8Array;
}

export interface DsseVerifier {
  keyid?: string;
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

const encoder = new TextEncoder();

function invalid(message: string, path = '/'): EvidentError {
  return new EvidentError('INVALID_ARGUMENT', `invalid DSSE envelope: ${message}`, { details: [{ path, message }] });
}

/**
 * PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, where LEN is the decimal byte
 * length without leading zeros (DSSE protocol.md, "Signature definition").
 */
export function pae(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = encoder.encode(payloadType);
  const head = encoder.encode(`DSSEv1 ${type.length} `);
  const mid = encoder.encode(` ${payload.length} `);
  const out = new Uint8Array(head.length + type.length + mid.length + payload.length);
  out.set(head, 0);
  out.set(type, head.length);
  out.set(mid, head.length + type.length);
  out.set(payload, head.length + type.length + mid.length);
  return out;
}

/**
 * Decodes base64 in either alphabet DSSE verifiers must accept (envelope.md): standard (RFC 4648 §4) or
 * URL-safe (§5), padded or not, but not a mix, and only in its canonical form (no stray bits).
 */
export function decodeDsseBase64(text: string, what: string): Uint8Array {
  const standard = /^[A-Za-z0-9+/]*={0,2}$/.test(text);
  const urlSafe = /^[A-Za-z0-9_-]*={0,2}$/.test(text);
  const bare = text.replace(/=+$/, '');
  if ((!standard && !urlSafe) || bare.length % 4 === 1 || (text.length !== bare.length && text.length % 4 !== 0)) {
    throw invalid(`${what} is not base64`, what);
  }
  const bytes = Buffer.from(bare, urlSafe && !standard ? 'base64url' : 'base64');
  const again = bytes.toString(urlSafe && !standard ? 'base64url' : 'base64').replace(/=+$/, '');
  if (again !== bare) throw invalid(`${what} is not canonical base64`, what);
  return new Uint8Array(bytes);
}

/** An envelope over `payload`, signed by each signer (none: `signatures: []`, an unsigned envelope). */
export function signEnvelope(payloadType: string, payload: Uint8Array, signers: DsseSigner[]): DsseEnvelope {
  const message = pae(payloadType, payload);
  return {
    payload: Buffer.from(payload).toString('base64'),
    payloadType,
    signatures: signers.map((s) => ({ keyid: s.keyid, sig: Buffer.from(s.sign(message)).toString('base64') })),
  };
}

/** Checks the envelope's shape (attacker-controlled input) and decodes its base64 fields. */
export function parseEnvelope(value: unknown): ParsedEnvelope {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('not a JSON object');
  const env = value as Record<string, unknown>;
  if (typeof env.payloadType !== 'string' || env.payloadType === '') throw invalid('payloadType must be a non-empty string', '/payloadType');
  if (typeof env.payload !== 'string') throw invalid('payload must be a base64 string', '/payload');
  if (env.payload.length > (DSSE_MAX_PAYLOAD_BYTES / 3) * 4 + 4) throw invalid('payload is too large', '/payload');
  if (!Array.isArray(env.signatures)) throw invalid('signatures must be an array', '/signatures');
  const signatures = env.signatures.map((s: unknown, i) => {
    const at = `/signatures/${i}`;
    if (typeof s !== 'object' || s === null || Array.isArray(s)) throw invalid('a signature must be an object', at);
    const { keyid, sig } = s as Record<string, unknown>;
    if (keyid !== undefined && typeof keyid !== 'string') throw invalid('keyid must be a string', `${at}/keyid`);
    if (typeof sig !== 'string' || sig === '') throw invalid('sig must be a base64 string', `${at}/sig`);
    return { keyid: keyid ?? '', sig: decodeDsseBase64(sig, `${at}/sig`) };
  });
  return { payloadType: env.payloadType, payload: decodeDsseBase64(env.payload, '/payload'), signatures };
}

/** Parses envelope JSON text; malformed JSON is INVALID_ARGUMENT like any other malformed envelope. */
export function parseEnvelopeJson(text: string): ParsedEnvelope {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new EvidentError('INVALID_ARGUMENT', `invalid DSSE envelope: not JSON (${(err as Error).message})`, { cause: err });
  }
  return parseEnvelope(value);
}

/**
 * DSSE protocol.md verification: the key ids of the verifiers that accepted a signature over PAE. A
 * signature's keyid is only a hint — a verifier with a different keyid is skipped, one without is tried.
 * Each verifier counts once, however many signatures it accepts (so one key cannot meet a threshold twice).
 */
export function verifyEnvelope(envelope: ParsedEnvelope, verifiers: DsseVerifier[]): string[] {
  const message = pae(envelope.payloadType, envelope.payload);
  const accepted: string[] = [];
  verifiers.forEach((v, index) => {
    const ok = envelope.signatures.some(
      (s) => (s.keyid === '' || v.keyid === undefined || s.keyid === v.keyid) && v.verify(message, s.sig),
    );
    if (ok) accepted.push(v.keyid ?? `#${index}`);
  });
  return accepted;
}

/**
 * A verifier for a public KeyObject: Ed25519 (RFC 8032), or ECDSA with SHA-256 whose signatures may be
 * raw r‖s (IEEE P1363, as the DSSE spec's own vector) or DER (as Sigstore and most tools write them).
 */
export function dsseVerifierForKey(key: KeyObject, keyid?: string): DsseVerifier {
  const type = key.asymmetricKeyType;
  const attempt = (run: () => boolean): boolean => {
    try {
      return run();
    } catch {
      return false; // a malformed signature is a failed verification, not an error
    }
  };
  const check = (message: Uint8Array, signature: Uint8Array): boolean =>
    type === 'ed25519'
      ? signature.length === 64 && attempt(() => verify(null, message, key, signature))
      : attempt(() => verify('sha256', message, { key, dsaEncoding: 'ieee-p1363' }, signature)) ||
        attempt(() => verify('sha256', message, { key, dsaEncoding: 'der' }, signature));
  if (type !== 'ed25519' && type !== 'ec') {
    throw new EvidentError('INVALID_ARGUMENT', `unsupported key type ${String(type)}: Ed25519 and ECDSA keys are supported`);
  }
  return keyid === undefined ? { verify: check } : { keyid, verify: check };
}
