import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { EvidentError } from '../core/index.js';
import { ed25519InTotoKey, inTotoKeyId, type InTotoPublicKey } from '../formats/index.js';

// The Ed25519 keys of `evident run` (docs/receipts.md, "Keys and trust"), kept in the workspace:
//   .evident/keys/private.key          PKCS#8 PEM, mode 0600 (seed 003 §4.3 names the files private.key
//   .evident/keys/public.key           and public.key); the public key as `ed25519:<hex>`
//   .evident/keys/trusted/<name>.pub   one trusted public key per file, `ed25519:<hex>`
// A key's id is its securesystemslib key id (hex SHA-256 of its canonical JSON, in-toto pitfall 3), so the
// same id names it in `evident keys list`, DSSE signatures and in-toto links.

export interface PublicKeyInfo {
  /** securesystemslib key id: 64 hex. */
  keyId: string;
  /** Raw 32-byte Ed25519 public key in hex. */
  publicHex: string;
  /** `ed25519:<hex>`, the form of seed 003's `signer_public_key`. */
  text: string;
  inToto: InTotoPublicKey;
}

export interface KeySigner extends PublicKeyInfo {
  sign(message: Uint8Array): Uint8Array;
}

export interface TrustedKey extends PublicKeyInfo {
  name: string;
  file: string;
}

const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const TEXT_KEY = /^ed25519:([0-9a-f]{64})$/;

export function keysDir(workspace: string): string {
  return path.join(workspace, '.evident', 'keys');
}

export function trustedDir(workspace: string): string {
  return path.join(keysDir(workspace), 'trusted');
}

export function publicKeyInfo(publicHex: string): PublicKeyInfo {
  const inToto = ed25519InTotoKey(publicHex);
  return { keyId: inTotoKeyId(inToto), publicHex, text: `ed25519:${publicHex}`, inToto };
}

function rawPublicHex(key: KeyObject): string {
  const pub = key.type === 'public' ? key : createPublicKey(key);
  return pub.export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519_PREFIX.length).toString('hex');
}

export function checkKeyName(name: string): string {
  if (!KEY_NAME.test(name)) {
    throw new EvidentError('INVALID_ARGUMENT', `invalid key name ${JSON.stringify(name)}: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
  return name;
}

/** A default name for a new key: this machine's host name, made safe. */
export function defaultKeyName(): string {
  const host = os.hostname().replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64);
  return KEY_NAME.test(host) ? host : 'workspace';
}

/**
 * Reads a public key in any of the forms Evident meets: `ed25519:<hex>` (receipts, public.key),
 * securesystemslib JSON (in-toto `*.pub`), or a PEM/SPKI public key (openssl). Ed25519 only.
 */
export function parsePublicKeyText(text: string, what = 'public key'): PublicKeyInfo {
  const trimmed = text.trim();
  const plain = TEXT_KEY.exec(trimmed);
  if (plain) return publicKeyInfo(plain[1]!);
  if (trimmed.startsWith('{')) {
    let value: { keytype?: unknown; keyval?: { public?: unknown } };
    try {
      value = JSON.parse(trimmed);
    } catch {
      throw new EvidentError('INVALID_ARGUMENT', `${what}: not valid JSON`);
    }
    if (value.keytype !== 'ed25519' || typeof value.keyval?.public !== 'string' || !/^[0-9a-f]{64}$/.test(value.keyval.public)) {
      throw new EvidentError('INVALID_ARGUMENT', `${what}: only securesystemslib Ed25519 keys (keytype "ed25519", keyval.public hex) are supported`);
    }
    return publicKeyInfo(value.keyval.public);
  }
  if (trimmed.startsWith('-----BEGIN PUBLIC KEY-----')) {
    let key: KeyObject;
    try {
      key = createPublicKey(trimmed);
    } catch (err) {
      throw new EvidentError('INVALID_ARGUMENT', `${what}: unreadable PEM public key`, { cause: err });
    }
    if (key.asymmetricKeyType !== 'ed25519') throw new EvidentError('INVALID_ARGUMENT', `${what}: an ${String(key.asymmetricKeyType)} key; Ed25519 only`);
    return publicKeyInfo(rawPublicHex(key));
  }
  throw new EvidentError('INVALID_ARGUMENT', `${what}: expected "ed25519:<64 hex>", securesystemslib JSON or a PEM public key`);
}

function readText(file: string, what: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new EvidentError('INVALID_ARGUMENT', `cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}

export function readPublicKeyFile(file: string): PublicKeyInfo {
  return parsePublicKeyText(readText(file, 'public key'), `public key ${file}`);
}

function signerFor(key: KeyObject): KeySigner {
  return { ...publicKeyInfo(rawPublicHex(key)), sign: (message) => new Uint8Array(sign(null, message, key)) };
}

/** A private key must not be readable (or writable) by group or others: refuse it rather than use it. */
function checkPrivateKeyMode(file: string): void {
  let mode: number;
  try {
    mode = fs.statSync(file).mode;
  } catch (err) {
    throw new EvidentError('INVALID_ARGUMENT', `cannot read private key ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  if ((mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(4, '0');
    throw new EvidentError('INVALID_ARGUMENT', `private key ${file} is accessible by group or others (mode ${octal}); refusing to use it. Run: chmod 600 ${file}`);
  }
}

/**
 * Loads an Ed25519 private key file: PKCS#8 PEM (what `evident keys generate` and openssl write) or an
 * unencrypted securesystemslib JSON key (what `in-toto-keygen -t ed25519` writes). Mode must be 0600 or
 * stricter.
 */
export function loadSignerFromFile(file: string): KeySigner {
  checkPrivateKeyMode(file);
  const text = readText(file, 'private key').trim();
  if (text.startsWith('{')) {
    let value: { keytype?: unknown; keyval?: { public?: unknown; private?: unknown } };
    try {
      value = JSON.parse(text);
    } catch {
      throw new EvidentError('INVALID_ARGUMENT', `private key ${file}: not valid JSON`);
    }
    const seed = value.keyval?.private;
    if (value.keytype !== 'ed25519' || typeof seed !== 'string' || !/^[0-9a-f]{64}$/.test(seed)) {
      throw new EvidentError('INVALID_ARGUMENT', `private key ${file}: not an unencrypted securesystemslib Ed25519 key`);
    }
    const signer = signerFor(createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, Buffer.from(seed, 'hex')]), format: 'der', type: 'pkcs8' }));
    if (value.keyval?.public !== undefined && value.keyval.public !== signer.publicHex) {
      throw new EvidentError('INVALID_ARGUMENT', `private key ${file}: keyval.public does not belong to keyval.private`);
    }
    return signer;
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(text);
  } catch (err) {
    throw new EvidentError('INVALID_ARGUMENT', `private key ${file}: not a PEM private key (or it is encrypted)`, { cause: err });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new EvidentError('INVALID_ARGUMENT', `private key ${file}: an ${String(key.asymmetricKeyType)} key; Ed25519 only`);
  return signerFor(key);
}

/** Writes `text` to `file` through a temporary file and a rename, so readers never see half a key. */
function writeAtomic(file: string, text: string, mode: number, overwrite: boolean): void {
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  fs.writeFileSync(temp, text, { mode, flag: 'wx' });
  try {
    fs.chmodSync(temp, mode);
    if (!overwrite && fs.existsSync(file)) throw new EvidentError('CONFLICT', `${file} already exists`);
    fs.renameSync(temp, file);
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

export function workspaceKeyExists(workspace: string): boolean {
  return fs.existsSync(path.join(keysDir(workspace), 'private.key'));
}

/** The workspace signing key, or undefined when none was generated yet. */
export function loadWorkspaceSigner(workspace: string): KeySigner | undefined {
  return workspaceKeyExists(workspace) ? loadSignerFromFile(path.join(keysDir(workspace), 'private.key')) : undefined;
}

/**
 * `evident keys generate`: a new key pair under .evident/keys/, also trusted under `name` (one's own key
 * verifies one's own receipts with --trusted-only). Refuses to replace an existing key unless `force`.
 */
export function generateWorkspaceKey(workspace: string, options: { name?: string; force?: boolean } = {}): KeySigner & { name: string } {
  const name = checkKeyName(options.name ?? defaultKeyName());
  const dir = keysDir(workspace);
  if (!options.force && workspaceKeyExists(workspace)) {
    throw new EvidentError('CONFLICT', `a key already exists in ${dir}; use --force to replace it (receipts it signed stay verifiable with its public key)`);
  }
  const trustedFile = path.join(trustedDir(workspace), `${name}.pub`);
  if (fs.existsSync(trustedFile)) {
    throw new EvidentError('CONFLICT', `another key is already trusted as "${name}" (${trustedFile}); choose another --name`);
  }
  fs.mkdirSync(trustedDir(workspace), { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ed25519');
  const signer = signerFor(privateKey);
  writeAtomic(path.join(dir, 'private.key'), privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 0o600, true);
  writeAtomic(path.join(dir, 'public.key'), `${signer.text}\n`, 0o644, true);
  trustPublicKey(workspace, signer, name);
  return { ...signer, name };
}

/** The workspace key, generated on first use (seed 003 §4.3: "Ed25519 key pair created automatically"). */
export function loadOrCreateWorkspaceSigner(workspace: string, log?: (line: string) => void): KeySigner {
  const existing = loadWorkspaceSigner(workspace);
  if (existing) return existing;
  try {
    const created = generateWorkspaceKey(workspace);
    log?.(`Generated a signing key in ${keysDir(workspace)} (key id ${created.keyId}, trusted as "${created.name}")`);
    return created;
  } catch (err) {
    // Another process of the same run may have created it first.
    const raced = loadWorkspaceSigner(workspace);
    if (raced) return raced;
    throw err;
  }
}

/** Every trusted key of the workspace; a malformed file is an error naming it. */
export function trustedKeys(workspace: string): TrustedKey[] {
  const dir = trustedDir(workspace);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.pub') && KEY_NAME.test(f.slice(0, -4)))
    .sort()
    .map((f) => ({ ...readPublicKeyFile(path.join(dir, f)), name: f.slice(0, -4), file: path.join(dir, f) }));
}

/** `evident keys trust`: adds a public key under `name`; the same key again is a no-op, another key under a taken name a conflict. */
export function trustPublicKey(workspace: string, key: PublicKeyInfo, name: string): { name: string; added: boolean } {
  checkKeyName(name);
  const already = trustedKeys(workspace).find((t) => t.keyId === key.keyId);
  if (already) return { name: already.name, added: false };
  fs.mkdirSync(trustedDir(workspace), { recursive: true, mode: 0o700 });
  const file = path.join(trustedDir(workspace), `${name}.pub`);
  if (fs.existsSync(file)) throw new EvidentError('CONFLICT', `another key is already trusted as "${name}" (${file}); choose another --name`);
  writeAtomic(file, `${key.text}\n`, 0o644, false);
  return { name, added: true };
}
