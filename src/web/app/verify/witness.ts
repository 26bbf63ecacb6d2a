// C2SP tlog-cosignature (Ed25519 cosignature/v1) and the "k of n witnesses" policy, in the browser with
// WebCrypto (the reference is src/ledger/cosignature.ts and witness-policy.ts; docs/log.md "Witnesses").
import { fromBase64 } from './bytes.js';
import { ed25519Verify, parseVerifierKey, type VerifierKey } from './note.js';

const ALG_COSIGNATURE_V1 = 0x04;
const SIG_PREFIX = '\u2014 ';

export interface WitnessPolicy {
  witnesses: VerifierKey[];
  threshold: number;
}

export interface WitnessVerdict {
  valid: number;
  required: number;
  /** Per witness, by name: valid, invalid or missing. */
  results: { name: string; status: 'valid' | 'invalid' | 'missing' }[];
  ok: boolean;
}

/** Witness verifier keys (type 0x04) separated by commas or white space, and k (default: all). */
export async function parseWitnessPolicy(keys: string, threshold?: number): Promise<WitnessPolicy> {
  const texts = keys.split(/[\s,]+/).filter((k) => k !== '');
  if (texts.length === 0) throw new Error('a witness policy needs at least one witness key');
  const witnesses = await Promise.all(texts.map((t) => parseVerifierKey(t, ALG_COSIGNATURE_V1)));
  const distinct = new Set(witnesses.map((w) => w.publicKey.join(','))).size;
  if (distinct !== witnesses.length) throw new Error('the same witness public key is given twice');
  const k = threshold ?? witnesses.length;
  if (!Number.isSafeInteger(k) || k < 1 || k > witnesses.length) throw new Error(`the threshold must be from 1 to ${witnesses.length}`);
  return { witnesses, threshold: k };
}

/** Counts the note's valid cosignatures by the policy's witnesses; lines by other keys are ignored. */
export async function checkWitnessPolicy(note: string, policy: WitnessPolicy): Promise<WitnessVerdict> {
  const split = note.lastIndexOf('\n\n');
  const text = split < 0 ? '' : note.slice(0, split + 1);
  const lines = split < 0 ? [] : note.slice(split + 2).split('\n').filter((l) => l.startsWith(SIG_PREFIX));
  const results: WitnessVerdict['results'] = [];
  for (const w of policy.witnesses) {
    let status: 'valid' | 'invalid' | 'missing' = 'missing';
    for (const line of lines) {
      const [name, b64 = ''] = line.slice(SIG_PREFIX.length).split(' ', 2);
      if (name !== w.name) continue;
      let sig: Uint8Array;
      try {
        sig = fromBase64(b64);
      } catch {
        continue;
      }
      if (sig.length !== 4 + 8 + 64 || new DataView(sig.buffer, sig.byteOffset, 4).getUint32(0) !== w.keyId) continue;
      const timestamp = new DataView(sig.buffer, sig.byteOffset + 4, 8).getBigUint64(0);
      const message = new TextEncoder().encode(`cosignature/v1\ntime ${timestamp}\n${text}`);
      if (await ed25519Verify(w.publicKey, sig.slice(12), message)) {
        status = 'valid';
        break;
      }
      status = 'invalid';
    }
    results.push({ name: w.name, status });
  }
  const valid = results.filter((r) => r.status === 'valid').length;
  return { valid, required: policy.threshold, results, ok: valid >= policy.threshold };
}
