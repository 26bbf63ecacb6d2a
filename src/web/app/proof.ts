// The proof checks the browser makes itself (no DOM here): the checkpoint's signature with the log's key,
// and an entry's inclusion in that checkpoint (RFC 9162 §2.1.3.2). Used by the log page and by every
// "entry N" link's in-place check.
import type { Api } from './api.js';
import { fromHex, toHex } from './verify/bytes.js';
import { leafHash, verifyInclusion } from './verify/merkle.js';
import { parseCheckpointText, parseVerifierKey, verifyNote, type Checkpoint } from './verify/note.js';
import { checkWitnessPolicy, parseWitnessPolicy, type WitnessVerdict } from './verify/witness.js';
import { savedWitnessPolicy } from './pages/witness-policy.js';

export interface CheckpointState {
  note: string;
  verifierKey: string;
  checkpoint: Checkpoint;
  signature: { verified: boolean; reason?: string };
  /** Set when the user saved a witness policy in this browser (docs/log.md "Witnesses"). */
  witnesses?: WitnessVerdict | { error: string };
}

/** Fetches the key and the checkpoint and checks the signature (and the witness policy, if any) here, in the browser. */
export async function loadCheckpoint(api: Api): Promise<CheckpointState> {
  const [{ verifier_key }, note] = await Promise.all([api.logKey(), api.checkpoint()]);
  const key = await parseVerifierKey(verifier_key);
  const opened = await verifyNote(note, key);
  const saved = savedWitnessPolicy();
  let witnesses: CheckpointState['witnesses'];
  if (saved) {
    try {
      witnesses = await checkWitnessPolicy(note, await parseWitnessPolicy(saved.keys, saved.threshold));
    } catch (err) {
      witnesses = { error: (err as Error).message };
    }
  }
  return { note, verifierKey: verifier_key, checkpoint: parseCheckpointText(opened.text), signature: { verified: opened.verified, reason: opened.reason }, witnesses };
}

export function witnessLine(w: NonNullable<CheckpointState['witnesses']>): { ok: boolean; text: string } {
  if ('error' in w) return { ok: false, text: `Witness policy unusable: ${w.error}` };
  const who = w.results.map((r) => `${r.name}: ${r.status}`).join(', ');
  return { ok: w.ok, text: `${w.valid} valid witness cosignature${w.valid === 1 ? '' : 's'} of ${w.required} required (${who})` };
}

export interface Step {
  label: string;
  ok: boolean;
  detail?: string;
}

export interface InclusionResult {
  index: number;
  entry: string;
  steps: Step[];
  verified: boolean;
}

/** RFC 9162 §2.1.3.2 in the browser: leaf hash from the entry's bytes, proof from the server, root from the checkpoint. */
export async function checkInclusion(api: Api, cp: CheckpointState, index: number, tamper: boolean): Promise<InclusionResult> {
  const size = cp.checkpoint.size;
  const steps: Step[] = [];
  const page = await api.logEntries(index, index + 1);
  const item = page.items[0];
  if (!item) throw new Error(`the log has no entry ${index}`);
  const leaf = await leafHash(new TextEncoder().encode(item.entry));
  steps.push({ label: 'Leaf hash SHA-256(0x00 ‖ entry) matches the server’s', ok: toHex(leaf) === item.leaf_hash, detail: toHex(leaf) });
  const proof = await api.inclusionProof(index, size);
  const hashes = proof.hashes.map(fromHex);
  if (tamper && hashes[0]) hashes[0] = hashes[0].map((b, i) => (i === 0 ? b ^ 0x01 : b));
  const included = await verifyInclusion(index, size, leaf, hashes, cp.checkpoint.root);
  steps.push({
    label: `Inclusion proof (${hashes.length} hashes${tamper ? ', first one tampered with' : ''}) leads to the checkpoint’s root`,
    ok: included,
    detail: `tree size ${size}, root ${toHex(cp.checkpoint.root)}`,
  });
  steps.push({ label: 'The checkpoint’s signature verifies with the log’s key', ok: cp.signature.verified, detail: cp.signature.reason });
  if (cp.witnesses) {
    const w = witnessLine(cp.witnesses);
    steps.push({ label: 'The checkpoint is cosigned by enough of your witnesses', ok: w.ok, detail: w.text });
  }
  return { index, entry: item.entry, steps, verified: steps.every((s) => s.ok) };
}


/** One checkpoint per API binding for a short while: every "entry N" check on a page shares it. */
const recent = new WeakMap<Api, { at: number; cp: Promise<CheckpointState> }>();
const CHECKPOINT_REUSE_MS = 30_000;

export function currentCheckpoint(api: Api, now = Date.now()): Promise<CheckpointState> {
  const hit = recent.get(api);
  if (hit && now - hit.at < CHECKPOINT_REUSE_MS) return hit.cp;
  const cp = loadCheckpoint(api);
  recent.set(api, { at: now, cp });
  cp.catch(() => recent.delete(api));
  return cp;
}

/** The in-place check of an "entry N" link: the entry is in the signed checkpoint the browser just verified. */
export async function checkEntry(api: Api, index: number): Promise<InclusionResult & { size: number }> {
  const cp = await currentCheckpoint(api);
  if (index >= cp.checkpoint.size) throw new Error(`entry ${index} is not in the checkpoint of ${cp.checkpoint.size} entries yet`);
  return { ...(await checkInclusion(api, cp, index, false)), size: cp.checkpoint.size };
}
