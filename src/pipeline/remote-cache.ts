import { verify as verifySignature, createPublicKey } from 'node:crypto';
import { cacheEntrySigningBytes } from '../formats/index.js';
import type { KeySigner, TrustedKey } from './keys.js';
import { publicKeyInfo } from './keys.js';
import { MANIFEST_VERSION, type EntryFile, type EntryManifest } from './manifest.js';

// The remote cache's wire format (docs/cache.md, "The remote cache"). An entry is the local manifest's
// content plus the producer's key id and public key, signed with Ed25519 over a domain-separated
// canonical form (RFC 8785) of everything but the signature. The server stores entries by cache key and
// producer key; it never vouches for them: trust is decided here, by the consumer, against the keys in
// .evident/keys/trusted/. The pipeline talks to the server only through `RemoteCacheStore`, which the CLI
// implements with the HTTP client (the pipeline layer is below the client layer).

export const REMOTE_ENTRY_VERSION = 1;
const HEX64 = /^[0-9a-f]{64}$/;

export interface RemoteEntry {
  v: typeof REMOTE_ENTRY_VERSION;
  key: string;
  step: string;
  duration_secs: number;
  outputs: EntryFile[];
  log: { sha256: string; size: number };
  producer: { key_id: string; public_key: string };
  /** Base64 Ed25519 signature over remoteEntrySigningBytes(entry). */
  signature: string;
}

/** The server's side of the remote cache, as the runner needs it. Errors are thrown (any kind). */
export interface RemoteCacheStore {
  /**
   * The entries stored under the key (one per producer key), or [] when there is none; with `keyIds`,
   * only those of these producers (so that entries of others, however many, cannot hide them).
   */
  entries(key: string, keyIds?: readonly string[]): Promise<unknown[]>;
  putEntry(entry: RemoteEntry): Promise<void>;
  /** Which of these object digests the server already holds. */
  hasObjects(digests: readonly string[]): Promise<Set<string>>;
  /** The object's bytes, as the server sends them (the caller verifies them). */
  getObject(digest: string, size: number): Promise<Uint8Array>;
  /** Uploads files (absolute paths); returns the digests the server computed, in order. */
  putObjects(files: readonly { abs: string; name: string }[]): Promise<string[]>;
}

/** The bytes an entry's signature covers (formats/cache-entry-signature.ts, shared with the server). */
export function remoteEntrySigningBytes(entry: Omit<RemoteEntry, 'signature'> & { signature?: string }): Uint8Array {
  return cacheEntrySigningBytes(entry as unknown as Record<string, unknown>);
}

/** The remote form of a local manifest, signed by `signer`. */
export function signRemoteEntry(manifest: EntryManifest, signer: KeySigner): RemoteEntry {
  const body: Omit<RemoteEntry, 'signature'> = {
    v: REMOTE_ENTRY_VERSION,
    key: manifest.key,
    step: manifest.step,
    duration_secs: manifest.duration_secs,
    outputs: manifest.files.map(({ path, sha256, size, executable }) => ({ path, sha256, size, executable })),
    log: { sha256: manifest.log.sha256, size: manifest.log.size },
    producer: { key_id: signer.keyId, public_key: signer.text },
  };
  return { ...body, signature: Buffer.from(signer.sign(remoteEntrySigningBytes(body))).toString('base64') };
}

export type EntryVerdict =
  | { ok: true; manifest: EntryManifest; keyId: string }
  | { ok: false; reason: string };

/**
 * Whether a remote entry (attacker-controlled JSON) for `key` may be used: well formed, signed, by a
 * trusted key, with a valid signature. The manifest it yields still goes through checkManifest() for the
 * step's declared outputs before anything is restored.
 */
export function verifyRemoteEntry(value: unknown, key: string, trusted: readonly TrustedKey[]): EntryVerdict {
  const e = value as Partial<RemoteEntry> | null;
  if (!e || typeof e !== 'object' || Array.isArray(e)) return { ok: false, reason: 'remote entry is not a JSON object' };
  if (e.v !== REMOTE_ENTRY_VERSION) return { ok: false, reason: `remote entry has unknown version ${JSON.stringify(e.v)}` };
  if (e.key !== key) return { ok: false, reason: 'remote entry is for another key' };
  if (typeof e.signature !== 'string' || e.signature === '' || !e.producer || typeof e.producer.key_id !== 'string') {
    return { ok: false, reason: 'remote entry is unsigned' };
  }
  const keyId = e.producer.key_id;
  if (!HEX64.test(keyId)) return { ok: false, reason: 'remote entry names a malformed producer key id' };
  const key8 = keyId.slice(0, 8);
  const signer = trusted.find((t) => t.keyId === keyId);
  if (!signer) return { ok: false, reason: `remote entry signed by untrusted key ${key8}` };
  let good = false;
  try {
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(signer.publicHex, 'hex')]);
    const publicKey = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    good = verifySignature(null, remoteEntrySigningBytes(e as RemoteEntry), publicKey, Buffer.from(e.signature, 'base64'));
  } catch {
    good = false;
  }
  if (!good) return { ok: false, reason: `remote entry has a bad signature (key ${key8})` };
  if (typeof e.producer.public_key === 'string' && e.producer.public_key !== publicKeyInfo(signer.publicHex).text) {
    return { ok: false, reason: `remote entry carries another public key than trusted key ${key8}` };
  }
  const manifest = {
    v: MANIFEST_VERSION,
    key,
    step: e.step,
    created_at: new Date().toISOString(),
    duration_secs: e.duration_secs,
    files: e.outputs,
    log: e.log,
  } as EntryManifest;
  return { ok: true, manifest, keyId };
}
