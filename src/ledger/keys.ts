import { createHash, createPrivateKey, createPublicKey, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { EvidentError, fromBase64, toBase64 } from '../core/index.js';

// Ed25519 note keys of C2SP signed-note v1.0.0 (signature type 0x01), in the string formats of
// golang.org/x/mod/sumdb/note: verifier keys `<name>+<hex key ID>+<base64(0x01 || public key)>` and
// signer keys `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || 32-byte seed)>`.

export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  sign(message: Uint8Array): Uint8Array;
  readonly verifierKey: string;
}

export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  verify(message: Uint8Array, signature: Uint8Array): boolean;
  readonly verifierKey: string;
}

const ALG_ED25519 = 0x01;
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const WHITE_SPACE = /\p{White_Space}/u;
const CONTROL = /[\u0000-\u001f]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function badKey(message: string): EvidentError {
  return new EvidentError('INVALID_ARGUMENT', message);
}

/** C2SP signed-note: key names are non-empty, without Unicode spaces or '+' (and here without controls). */
export function isValidKeyName(name: unknown): name is string {
  return (
    typeof name === 'string' && name !== '' && !name.includes('+') && !WHITE_SPACE.test(name) &&
    !CONTROL.test(name) && !LONE_SURROGATE.test(name)
  );
}

function checkKeyName(name: string): void {
  if (!isValidKeyName(name)) {
    throw badKey(`invalid key name ${JSON.stringify(name)}: it must be non-empty, without spaces or '+'`);
  }
}

/** C2SP signed-note key ID: SHA-256(name || 0x0A || alg || public key)[:4] as a big-endian uint32 (alg 0x01; 0x04 for cosignatures). */
export function keyIdFor(name: string, publicKey: Uint8Array, alg = ALG_ED25519): number {
  const digest = createHash('sha256').update(name, 'utf8').update(new Uint8Array([0x0a, alg])).update(publicKey).digest();
  return digest.readUInt32BE(0);
}

export function hex8(keyId: number): string {
  return keyId.toString(16).padStart(8, '0');
}

/** `<name>+<hex8>+<base64(alg || key)>` (C2SP signed-note verifier key; also the seed form of signer keys). */
export function formatKey(name: string, keyId: number, key: Uint8Array, alg = ALG_ED25519): string {
  const body = new Uint8Array(1 + key.length);
  body[0] = alg;
  body.set(key, 1);
  return `${name}+${hex8(keyId)}+${toBase64(body)}`;
}

/**
 * Splits `<name>+<hex8>+<base64(alg || 32-byte key)>` on its first two '+' (the base64 part may contain '+').
 * `alg` is the signature type: 0x01 for note signatures, 0x04 for Ed25519 cosignatures (C2SP tlog-cosignature).
 */
export function splitKey(text: string, what: string, alg = ALG_ED25519): { name: string; keyId: number; key: Uint8Array } {
  const first = text.indexOf('+');
  const second = first < 0 ? -1 : text.indexOf('+', first + 1);
  if (second < 0) throw badKey(`malformed ${what}`);
  const name = text.slice(0, first);
  const id = text.slice(first + 1, second);
  const b64 = text.slice(second + 1);
  checkKeyName(name);
  if (!/^[0-9a-fA-F]{8}$/.test(id)) throw badKey(`malformed ${what}: the key ID must be 8 hex digits`);
  let body: Uint8Array;
  try {
    body = fromBase64(b64);
    if (toBase64(body) !== b64) throw badKey('non-canonical base64');
  } catch {
    throw badKey(`malformed ${what}: the key is not standard base64`);
  }
  if (body.length !== 33 || body[0] !== alg) {
    throw badKey(`unsupported ${what}: only Ed25519 keys (type 0x0${alg}, 32 bytes) are supported here`);
  }
  return { name, keyId: Number.parseInt(id, 16), key: body.subarray(1) };
}

export function publicKeyObject(publicKey: Uint8Array): KeyObject {
  try {
    return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]), format: 'der', type: 'spki' });
  } catch (err) {
    throw new EvidentError('INVALID_ARGUMENT', 'invalid Ed25519 public key', { cause: err });
  }
}

export function privateKeyObject(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

export function rawPublicKey(privateKey: KeyObject): Uint8Array {
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return new Uint8Array(spki.subarray(SPKI_ED25519_PREFIX.length));
}

/** A note verifier for a raw 32-byte Ed25519 public key under `name`. */
export function verifierFromPublicKey(name: string, publicKey: Uint8Array): NoteVerifier {
  checkKeyName(name);
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) {
    throw badKey('an Ed25519 public key is 32 bytes');
  }
  const pub = new Uint8Array(publicKey);
  const key = publicKeyObject(pub);
  const keyId = keyIdFor(name, pub);
  return {
    name,
    keyId,
    verifierKey: formatKey(name, keyId, pub),
    verify(message: Uint8Array, signature: Uint8Array): boolean {
      if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
      try {
        return verify(null, message, key, signature);
      } catch {
        return false;
      }
    },
  };
}

/**
 * The same public key under another key name (which gives it another key ID: signed-note key IDs hash the
 * name with the key). A signature is over the note text only, so it verifies under any name of its key.
 */
export function renamedVerifier(verifier: NoteVerifier, name: string): NoteVerifier {
  if (name === verifier.name) return verifier;
  return verifierFromPublicKey(name, splitKey(verifier.verifierKey, 'verifier key').key);
}

/** Parses a verifier key string; its key ID must match the name and key. */
export function parseVerifierKey(verifierKey: string): NoteVerifier {
  if (typeof verifierKey !== 'string') throw badKey('a verifier key must be a string');
  const { name, keyId, key } = splitKey(verifierKey, 'verifier key');
  const verifier = verifierFromPublicKey(name, key);
  if (verifier.keyId !== keyId) throw badKey(`verifier key for ${name}: key ID ${hex8(keyId)} does not match the key`);
  return verifier;
}

function signerFromSeed(name: string, seed: Uint8Array): NoteSigner {
  const privateKey = privateKeyObject(seed);
  const pub = rawPublicKey(privateKey);
  const keyId = keyIdFor(name, pub);
  return {
    name,
    keyId,
    verifierKey: formatKey(name, keyId, pub),
    sign: (message: Uint8Array): Uint8Array => new Uint8Array(sign(null, message, privateKey)),
  };
}

/** Parses a Go-format signer key `PRIVATE+KEY+<name>+<hex8>+<base64(0x01 || seed)>`. */
export function parseSignerKey(signerKey: string): NoteSigner {
  const prefix = 'PRIVATE+KEY+';
  if (typeof signerKey !== 'string' || !signerKey.startsWith(prefix)) {
    throw badKey("a signer key must start with 'PRIVATE+KEY+'");
  }
  const { name, keyId, key } = splitKey(signerKey.slice(prefix.length), 'signer key');
  const signer = signerFromSeed(name, key);
  if (signer.keyId !== keyId) throw badKey(`signer key for ${name}: key ID ${hex8(keyId)} does not match the key`);
  return signer;
}

/**
 * A new Ed25519 key pair for `name`, as Go's note.GenerateKey formats it. `seed` (32 bytes) makes it
 * deterministic; by default it is random.
 */
export function generateSignerKey(name: string, seed?: Uint8Array): { signerKey: string; verifierKey: string } {
  checkKeyName(name);
  const s = seed === undefined ? new Uint8Array(randomBytes(32)) : seed;
  if (!(s instanceof Uint8Array) || s.length !== 32) throw badKey('an Ed25519 seed is 32 bytes');
  const signer = signerFromSeed(name, s);
  return { signerKey: `PRIVATE+KEY+${formatKey(name, signer.keyId, s)}`, verifierKey: signer.verifierKey };
}

/**
 * The same Ed25519 key under another name: each org's log signs with a key named after its checkpoint
 * origin (C2SP tlog-checkpoint: the key name SHOULD match the origin line). The key ID changes with the name
 * (C2SP signed-note: it hashes the name), the signatures do not.
 */
export function renamedSigner(signer: NoteSigner, name: string): NoteSigner {
  checkKeyName(name);
  const { key } = splitKey(signer.verifierKey, 'verifier key');
  const keyId = keyIdFor(name, key);
  return { name, keyId, verifierKey: formatKey(name, keyId, key), sign: (message) => signer.sign(message) };
}

/** A raw 32-byte Ed25519 public key as a SubjectPublicKeyInfo PEM (RFC 8410 §4), for openssl and cosign. */
export function publicKeyPem(publicKey: Uint8Array): string {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) throw badKey('an Ed25519 public key is 32 bytes');
  return publicKeyObject(publicKey).export({ format: 'pem', type: 'spki' }).toString();
}

/** The Ed25519 public key of a verifier key string as a SubjectPublicKeyInfo PEM. */
export function verifierKeyPem(verifierKey: string): string {
  return publicKeyPem(splitKey(verifierKey, 'verifier key').key);
}
