// C2SP signed-note v1.0.0 and tlog-checkpoint v1.0.0, verified with WebCrypto's Ed25519 (the server-side
// reference is src/ledger/note.ts, keys.ts and checkpoint.ts).
import { concat, equalBytes, fromBase64, sha256 } from './bytes.js';

const ALG_ED25519 = 0x01;
const SIG_PREFIX = '\u2014 ';

export interface VerifierKey {
  name: string;
  keyId: number;
  publicKey: Uint8Array;
}

/**
 * signed-note §"Verifier keys": `<name>+<8 hex key ID>+<base64(alg || 32-byte key)>`, its ID checked; alg 0x01 for
 * note keys, 0x04 for witness (cosignature/v1) keys.
 */
export async function parseVerifierKey(text: string, alg = ALG_ED25519): Promise<VerifierKey> {
  const first = text.indexOf('+');
  const second = first < 0 ? -1 : text.indexOf('+', first + 1);
  if (first <= 0 || second < 0) throw new Error('a verifier key is NAME+KEYID+KEY');
  const name = text.slice(0, first);
  const idHex = text.slice(first + 1, second);
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw new Error('the key ID is not 8 hex digits');
  const body = fromBase64(text.slice(second + 1));
  if (body.length !== 33 || body[0] !== alg) throw new Error(`not an Ed25519 key (0x0${alg} and 32 bytes)`);
  const publicKey = body.slice(1);
  const keyId = await keyIdFor(name, publicKey, alg);
  if (keyId !== parseInt(idHex, 16)) throw new Error(`the key ID ${idHex} does not match the key`);
  return { name, keyId, publicKey };
}

/** signed-note: key ID = the first 4 bytes (big-endian) of SHA-256(name || 0x0A || alg || public key). */
export async function keyIdFor(name: string, publicKey: Uint8Array, alg = ALG_ED25519): Promise<number> {
  const digest = await sha256(concat(new TextEncoder().encode(name), new Uint8Array([0x0a, alg]), publicKey));
  return new DataView(digest.buffer, digest.byteOffset, 4).getUint32(0);
}

export interface NoteCheck {
  /** The signed text: everything up to and including the newline before the last blank line. */
  text: string;
  /** True iff a signature by the given key verifies. */
  verified: boolean;
  /** Why not, when not. */
  reason?: string;
}

/**
 * Checks a note's signature by one key. The text ends at the last "\n\n"; each signature line is
 * "— <name> <base64(4-byte key ID || signature)>". Lines by other keys are ignored (signed-note rules).
 */
export async function verifyNote(note: string, key: VerifierKey): Promise<NoteCheck> {
  const split = note.lastIndexOf('\n\n');
  if (split < 0) return { text: note, verified: false, reason: 'no blank line before the signatures' };
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (!block.endsWith('\n')) return { text, verified: false, reason: 'the signature lines must end with a newline' };
  const message = new TextEncoder().encode(text);
  let seen = false;
  for (const line of block.slice(0, -1).split('\n')) {
    if (!line.startsWith(SIG_PREFIX)) return { text, verified: false, reason: 'a signature line must start with "— "' };
    const [name, b64 = ''] = line.slice(SIG_PREFIX.length).split(' ', 2);
    if (name !== key.name) continue;
    let sig: Uint8Array;
    try {
      sig = fromBase64(b64);
    } catch {
      return { text, verified: false, reason: 'a signature is not standard base64' };
    }
    if (sig.length < 5 || new DataView(sig.buffer, sig.byteOffset, 4).getUint32(0) !== key.keyId) continue;
    seen = true;
    if (await ed25519Verify(key.publicKey, sig.slice(4), message)) return { text, verified: true };
  }
  return { text, verified: false, reason: seen ? `the signature by ${key.name} does not verify` : `no signature by ${key.name}` };
}

export async function ed25519Verify(publicKey: Uint8Array, signature: Uint8Array, message: Uint8Array): Promise<boolean> {
  if (signature.length !== 64) return false;
  const key = await crypto.subtle.importKey('raw', publicKey as Uint8Array<ArrayBuffer>, { name: 'Ed25519' }, false, ['verify']);
  return crypto.subtle.verify({ name: 'Ed25519' }, key, signature as Uint8Array<ArrayBuffer>, message as Uint8Array<ArrayBuffer>);
}

export interface Checkpoint {
  origin: string;
  size: number;
  root: Uint8Array;
  extensions: string[];
}

/** tlog-checkpoint: `<origin>\n<decimal size>\n<base64 root>\n[extension lines]`. */
export function parseCheckpointText(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw new Error('a checkpoint text ends with a newline');
  const [origin = '', sizeLine = '', rootLine = '', ...extensions] = text.slice(0, -1).split('\n');
  if (!origin) throw new Error('the checkpoint has no origin line');
  if (!/^(?:0|[1-9][0-9]*)$/.test(sizeLine) || !Number.isSafeInteger(Number(sizeLine))) throw new Error(`bad tree size ${JSON.stringify(sizeLine)}`);
  const root = fromBase64(rootLine);
  if (root.length !== 32) throw new Error('the root hash is not 32 bytes');
  return { origin, size: Number(sizeLine), root, extensions };
}

export { equalBytes };
