import { EvidentError, bytesEqual, fromHex } from '../../core/index.js';
import { checkWitnessPolicy, describeWitnessPolicy, verifyConsistency, type Checkpoint, type NoteVerifier } from '../../ledger/index.js';
import { checkCheckpoint, type Check, type LogSource } from './log-verifier.js';
import type { ChosenPolicy } from './witness-policy.js';

export interface WitnessedInput {
  chosen: ChosenPolicy | undefined;
  /** The signed checkpoint to accept, already checked against the log key. */
  note: string;
  checkpoint: Checkpoint;
  verifier: NoteVerifier;
  origin: string;
  /**
   * For a checkpoint carried by a file (package, VSA) that was not cosigned itself: the server of this log,
   * whose cosigned checkpoint may stand in for it once this one is proven a prefix of it.
   */
  source?: Pick<LogSource, 'checkpoint' | 'consistencyProof'>;
}

/**
 * The witness policy check (docs/log.md "Witnesses"): the checkpoint needs valid cosignatures by at least k
 * of the policy's n witnesses, else VERIFICATION_FAILED naming how many were valid of how many required.
 * Undefined when no policy applies.
 */
export async function checkWitnessed(input: WitnessedInput): Promise<Check | undefined> {
  const { chosen, note, checkpoint } = input;
  if (!chosen) return undefined;
  const from = chosen.source === 'package' ? ' (policy carried by the package)' : '';
  try {
    return { ok: true, message: `Witnessed: ${checkWitnessPolicy(note, chosen.policy).message}${from}` };
  } catch (err) {
    if (!input.source || !(err instanceof EvidentError) || err.code !== 'VERIFICATION_FAILED') throw err;
    const served = await input.source.checkpoint();
    const head = checkCheckpoint(served, input.verifier, input.origin);
    let verdict;
    try {
      verdict = checkWitnessPolicy(served, chosen.policy);
    } catch (inner) {
      throw new EvidentError('VERIFICATION_FAILED', `${err.message}; nor is the server's current checkpoint witnessed: ${(inner as Error).message}`, { cause: inner });
    }
    await provePrefix(input.source, checkpoint, head);
    return {
      ok: true,
      message: `Witnessed through the server's checkpoint of size ${head.size} (${verdict.message}${from}), of which size ${checkpoint.size} is a proven prefix`,
    };
  }
}

async function provePrefix(source: Pick<LogSource, 'consistencyProof'>, older: Checkpoint, newer: Checkpoint): Promise<void> {
  const fail = (why: string) => new EvidentError('VERIFICATION_FAILED', `the checkpoint of size ${older.size} is not a prefix of the witnessed checkpoint of size ${newer.size}: ${why}`);
  if (older.size > newer.size) throw fail('it is larger');
  if (older.size === newer.size) {
    if (!bytesEqual(older.root, newer.root)) throw fail('another root at the same size (a fork)');
    return;
  }
  if (older.size === 0) return;
  const proof = await source.consistencyProof(older.size, newer.size);
  try {
    verifyConsistency(older.size, newer.size, proof.hashes.map((h, i) => fromHex(h, `consistency proof hash ${i}`, 32)), older.root, newer.root);
  } catch (err) {
    throw fail((err as Error).message);
  }
}

export { describeWitnessPolicy };
