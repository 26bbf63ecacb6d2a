import { randomBytes, sign, verify } from 'node:crypto';
import { EvidentError } from '../core/index.js';
import {
  formatKey, hex8, isValidKeyName, keyIdFor, privateKeyObject, publicKeyObject, rawPublicKey, splitKey,
} from './keys.js';
import { formatSignatureLine, splitNote } from './note.js';

// C2SP tlog-cosignature, Ed25519 type (cosignature/v1): a note signature line whose key ID is
// SHA-256(name || "\n" || 0x04 || public key)[:4] and whose signature is a timestamped_signature
// (u64 big-endian POSIX timestamp || 64-byte Ed25519 signature) over
//   "cosignature/v1\ntime <timestamp>\n" || the checkpoint's whole note text (extension lines included).
// Keys are written like note keys with signature type 0x04: verifier `<name>+<hex8>+<base64(0x04 || pub)>`,
// signer `PRIVATE+KEY+<name>+<hex8>+<base64(0x04 || seed)>`.

export const ALG_COSIGNATURE_V1 = 0x04;
const MAX_TIMESTAMP = 2n ** 63n - 1n;
const encoder = new TextEncoder();

export interface Cosigner {
  readonly name: string;
  readonly keyId: number;
  readonly verifierKey: string;
  /** The signature line (with its newline) cosigning the note text `text` at `timestamp` (seconds). */
  cosign(text: string, timestamp: number): string;
}

export interface CosignatureVerifier {
  readonly name: string;
  readonly keyId: number;
  readonly verifierKey: string;
  /** The 32-byte Ed25519 public key (two verifiers with one key must not both count: the message omits the name). */
  readonly publicKey: Uint8Array;
  /** The cosignature's timestamp when `signature` (the bytes after the key ID) cosigns `text`, else undefined. */
  verify(text: string, signature: Uint8Array): number | undefined;
}

/** The message a cosignature/v1 signs (C2SP tlog-cosignature, "Ed25519 signed message"). */
export function cosignedMessage(text: string, timestamp: number): Uint8Array {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new EvidentError('INVALID_ARGUMENT', 'a cosignature timestamp is a non-negative integer');
  if (!text.endsWith('\n')) throw new EvidentError('INVALID_ARGUMENT', "a checkpoint text ends with '\\n'");
  return encoder.encode(`cosignature/v1\ntime ${timestamp}\n${text}`);
}

function cosignerFromSeed(name: string, seed: Uint8Array): Cosigner {
  const privateKey = privateKeyObject(seed);
  const pub = rawPublicKey(privateKey);
  const keyId = keyIdFor(name, pub, ALG_COSIGNATURE_V1);
  return {
    name, keyId, verifierKey: formatKey(name, keyId, pub, ALG_COSIGNATURE_V1),
    cosign(text: string, timestamp: number): string {
      const sig = sign(null, cosignedMessage(text, timestamp), privateKey);
      const body = new Uint8Array(8 + sig.length);
      new DataView(body.buffer).setBigUint64(0, BigInt(timestamp));
      body.set(sig, 8);
      return formatSignatureLine(name, keyId, body);
    },
  };
}

/** A new witness key pair for `name` (random unless `seed`, 32 bytes, is given). */
export function generateCosignerKey(name: string, seed?: Uint8Array): { signerKey: string; verifierKey: string } {
  if (!isValidKeyName(name)) throw new EvidentError('INVALID_ARGUMENT', `invalid key name ${JSON.stringify(name)}: it must be non-empty, without spaces or '+'`);
  const s = seed ?? new Uint8Array(randomBytes(32));
  if (!(s instanceof Uint8Array) || s.length !== 32) throw new EvidentError('INVALID_ARGUMENT', 'an Ed25519 seed is 32 bytes');
  const cosigner = cosignerFromSeed(name, s);
  return { signerKey: `PRIVATE+KEY+${formatKey(name, cosigner.keyId, s, ALG_COSIGNATURE_V1)}`, verifierKey: cosigner.verifierKey };
}

/** Parses a witness signer key `PRIVATE+KEY+<name>+<hex8>+<base64(0x04 || seed)>`. */
export function parseCosignerKey(signerKey: string): Cosigner {
  const prefix = 'PRIVATE+KEY+';
  if (typeof signerKey !== 'string' || !signerKey.startsWith(prefix)) throw new EvidentError('INVALID_ARGUMENT', "a witness signer key must start with 'PRIVATE+KEY+'");
  const { name, keyId, key } = splitKey(signerKey.slice(prefix.length), 'witness signer key', ALG_COSIGNATURE_V1);
  const cosigner = cosignerFromSeed(name, key);
  if (cosigner.keyId !== keyId) throw new EvidentError('INVALID_ARGUMENT', `witness signer key for ${name}: key ID ${hex8(keyId)} does not match the key`);
  return cosigner;
}

/** Parses a witness verifier key `<name>+<hex8>+<base64(0x04 || public key)>`; its key ID must match. */
export function parseCosignatureVerifierKey(verifierKey: string): CosignatureVerifier {
  if (typeof verifierKey !== 'string') throw new EvidentError('INVALID_ARGUMENT', 'a witness key must be a string');
  const { name, keyId, key } = splitKey(verifierKey.trim(), 'witness verifier key', ALG_COSIGNATURE_V1);
  const pub = new Uint8Array(key);
  if (keyIdFor(name, pub, ALG_COSIGNATURE_V1) !== keyId) {
    throw new EvidentError('INVALID_ARGUMENT', `witness verifier key for ${name}: key ID ${hex8(keyId)} does not match the key`);
  }
  const object = publicKeyObject(pub);
  return {
    name, keyId, publicKey: pub, verifierKey: formatKey(name, keyId, pub, ALG_COSIGNATURE_V1),
    verify(text: string, signature: Uint8Array): number | undefined {
      if (!(signature instanceof Uint8Array) || signature.length !== 72) return undefined;
      const stamp = new DataView(signature.buffer, signature.byteOffset, 8).getBigUint64(0);
      if (stamp > MAX_TIMESTAMP || stamp > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
      const timestamp = Number(stamp);
      try {
        return verify(null, cosignedMessage(text, timestamp), object, signature.subarray(8)) ? timestamp : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

/** One configured witness's verdict on a note. */
export interface CosignatureResult {
  witness: string;
  /** `valid`: a cosignature by this key verifies; `invalid`: lines by this key exist but none verifies; `missing`: none. */
  status: 'valid' | 'invalid' | 'missing';
  timestamp?: number;
}

/**
 * Checks a note's cosignatures by each of `witnesses` (lines by other keys are ignored, C2SP tlog-witness:
 * "The client MUST ignore any cosignatures from unknown keys"). A line matches a witness by name and key ID.
 */
export function checkCosignatures(note: string, witnesses: readonly CosignatureVerifier[]): CosignatureResult[] {
  const { text, lines } = splitNote(note);
  return witnesses.map((w) => {
    const mine = lines.filter((l) => l.name === w.name && l.keyId === w.keyId);
    if (mine.length === 0) return { witness: w.verifierKey, status: 'missing' };
    for (const l of mine) {
      const timestamp = w.verify(text, l.signature);
      if (timestamp !== undefined) return { witness: w.verifierKey, status: 'valid', timestamp };
    }
    return { witness: w.verifierKey, status: 'invalid' };
  });
}

/** The signature lines of `lines` (a witness's add-checkpoint answer) that are valid cosignatures of `text` by `witness`. */
export function validCosignatureLines(text: string, lines: readonly string[], witness: CosignatureVerifier): string[] {
  const out: string[] = [];
  for (const line of lines) {
    let parsed;
    try {
      parsed = splitNote(`x\n\n${line}\n`).lines[0]!;
    } catch {
      continue;
    }
    if (parsed.name === witness.name && parsed.keyId === witness.keyId && witness.verify(text, parsed.signature) !== undefined) out.push(`${line}\n`);
  }
  return out;
}
