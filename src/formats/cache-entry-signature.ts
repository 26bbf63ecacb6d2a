import { createPublicKey, verify } from 'node:crypto';
import { canonicalJsonBytes } from './canonical-json.js';
import { ed25519InTotoKey, inTotoKeyId } from './in-toto-link.js';

// The signature of a remote cache entry (docs/cache.md "The remote cache"): Ed25519 over
// "evident-remote-cache-entry/v1\n" ‖ RFC 8785 canonical JSON of the entry without `signature`. Shared by
// the runner (which also decides trust) and the server (which refuses an entry whose signature does not
// verify against the public key it carries, or whose key id is not that key's: issue 14, finding 2).

const SIGNING_CONTEXT = 'evident-remote-cache-entry/v1\n';
const TEXT_KEY = /^ed25519:([0-9a-f]{64})$/;
const HEX64 = /^[0-9a-f]{64}$/;
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function cacheEntrySigningBytes(entry: { signature?: unknown; [field: string]: unknown }): Uint8Array {
  const { signature: _signature, ...body } = entry;
  const canonical = canonicalJsonBytes(body);
  const prefix = new TextEncoder().encode(SIGNING_CONTEXT);
  const out = new Uint8Array(prefix.length + canonical.length);
  out.set(prefix, 0);
  out.set(canonical, prefix.length);
  return out;
}

export type SignatureVerdict = { ok: true; keyId: string; publicHex: string } | { ok: false; reason: string };

/**
 * Whether the entry is signed by the key it names: `producer.public_key` is `ed25519:<hex>`,
 * `producer.key_id` is that key's securesystemslib id, and `signature` verifies with it. Says nothing
 * about whether the key is trusted.
 */
export function verifyCacheEntrySignature(value: unknown): SignatureVerdict {
  const e = value as { producer?: { key_id?: unknown; public_key?: unknown }; signature?: unknown } | null;
  if (!e || typeof e !== 'object' || Array.isArray(e)) return { ok: false, reason: 'remote entry is not a JSON object' };
  if (typeof e.signature !== 'string' || e.signature === '' || !e.producer || typeof e.producer !== 'object') return { ok: false, reason: 'remote entry is unsigned' };
  const { key_id: keyId, public_key: publicKey } = e.producer;
  if (typeof keyId !== 'string' || !HEX64.test(keyId)) return { ok: false, reason: 'remote entry names a malformed producer key id' };
  const hex = typeof publicKey === 'string' ? TEXT_KEY.exec(publicKey)?.[1] : undefined;
  if (!hex) return { ok: false, reason: 'remote entry carries no ed25519:<hex> public key' };
  if (inTotoKeyId(ed25519InTotoKey(hex)) !== keyId) return { ok: false, reason: `remote entry's key id ${keyId.slice(0, 8)} is not the id of the public key it carries` };
  let good: boolean;
  try {
    const key = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, Buffer.from(hex, 'hex')]), format: 'der', type: 'spki' });
    good = verify(null, cacheEntrySigningBytes(e as Record<string, unknown>), key, Buffer.from(e.signature, 'base64'));
  } catch {
    good = false;
  }
  return good ? { ok: true, keyId, publicHex: hex } : { ok: false, reason: `remote entry has a bad signature (key ${keyId.slice(0, 8)})` };
}
