import { EvidentError, fromHex, toHex } from '../../core/index.js';
import { openCheckpoint, verifyConsistency, type Checkpoint, type NoteVerifier } from '../../ledger/index.js';
import type { Printer } from '../output.js';
import { checkAgainstPrevious, checkCheckpoint, logVerifiers, type Check, type LogSource } from './log-verifier.js';
import type { VerifierState } from './state.js';

/** Two checkpoints signed by the same key that cannot both be true: the proof of a rollback or a fork. */
export interface CheckpointConflict {
  kind: 'rollback' | 'fork';
  previous: string;
  current: string;
}

export interface RememberedCheckpointInput {
  /** Where the last checkpoint seen per origin is kept (~/.evident/checkpoints/). */
  state: VerifierState;
  /** The origin the note must carry (the log this client means). */
  origin: string;
  /** The trusted log key; the note and the remembered note must both be signed by it. */
  verifier: NoteVerifier;
  /** The signed checkpoint to check: served by the server now, or carried by a package or a VSA. */
  note: string;
  /** Where consistency proofs come from; undefined offline (then only a same-size comparison is possible). */
  source?: Pick<LogSource, 'consistencyProof'>;
  /**
   * True when `note` is what the server serves as its current head: a size below the remembered one is
   * then a rollback. False for a checkpoint carried by a file (package, VSA), which may be older than what
   * this client saw since: it must then be proven a prefix of the remembered tree.
   */
  served: boolean;
  /**
   * The witness policy check (witnessed.ts), run on the signed checkpoint before it is compared or
   * remembered: a checkpoint refused for too few cosignatures is never saved as seen.
   */
  witnessed?: (checkpoint: Checkpoint) => Promise<Check | undefined>;
}

export interface RememberedCheckpoint {
  /** The verified checkpoint of `note`. */
  checkpoint: Checkpoint;
  /** The checkpoint remembered before this call, if any. */
  previous: { size: number; root: string; note: string } | null;
  /** The outcome, as one line for a verifier's report. */
  check: Check;
  /** Set on a fork or rollback: both signed notes. */
  conflict: CheckpointConflict | null;
  /** Whether `note` was saved as the newest checkpoint seen for `origin`. */
  saved: boolean;
  /** The witness policy's verdict, when a policy applies. */
  witness: Check | null;
}

/**
 * The checkpoint memory every verifier command shares (DESIGN.md §2, like Go's sumdb client): `note` must
 * be signed by `verifier` for `origin`, and be consistent with the last checkpoint this client saw for that
 * origin (RFC 9162 §2.1.4 consistency proof, in whichever direction the sizes need). A checkpoint that
 * extends what was seen is saved; one that contradicts it is reported as a conflict and never saved.
 * Throws VERIFICATION_FAILED when the note itself is not validly signed for `origin`.
 */
export async function checkRememberedCheckpoint(input: RememberedCheckpointInput): Promise<RememberedCheckpoint> {
  const { state, origin, verifier, note, source, served } = input;
  const checkpoint = checkCheckpoint(note, verifier, origin);
  const witness = (await input.witnessed?.(checkpoint)) ?? null;
  const previousNote = state.latestCheckpoint(origin);
  if (previousNote === undefined) {
    state.saveCheckpoint(origin, note);
    return { checkpoint, previous: null, conflict: null, saved: true, witness, check: { ok: true, message: `First checkpoint seen for ${origin}: remembered for next time` } };
  }
  let previous: Checkpoint;
  try {
    previous = openCheckpoint(previousNote, logVerifiers(verifier, origin));
  } catch (err) {
    throw new EvidentError(
      'VERIFICATION_FAILED',
      `the checkpoint remembered for ${origin} (${state.checkpointFile(origin)}) is not signed by the trusted key: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const prev = { size: previous.size, root: toHex(previous.root), note: previousNote };
  const result = (check: Check & { kind?: 'rollback' | 'fork' }, save: boolean): RememberedCheckpoint => {
    const conflict = check.kind ? { kind: check.kind, previous: previousNote, current: note } : null;
    const saved = save && check.ok && conflict === null;
    if (saved) state.saveCheckpoint(origin, note);
    return { checkpoint, previous: prev, check: { ok: check.ok, message: check.message }, conflict, saved, witness };
  };

  if (checkpoint.size >= previous.size || served) {
    if (checkpoint.size > previous.size && !source) {
      return result({ ok: true, message: `Newer than the checkpoint seen before (size ${previous.size} -> ${checkpoint.size}); consistency not checked offline` }, false);
    }
    const unused: Pick<LogSource, 'consistencyProof'> = {
      consistencyProof: () => Promise.reject(new EvidentError('UNAVAILABLE', 'no log server to ask for a consistency proof')),
    };
    return result(await checkAgainstPrevious(source ?? unused, previous, checkpoint), checkpoint.size > previous.size);
  }
  // An older checkpoint carried by a file: it must be a prefix of the tree seen before.
  if (!source) {
    return result({ ok: true, message: `Older than the checkpoint seen before (size ${checkpoint.size} < ${previous.size}); consistency not checked offline` }, false);
  }
  return result(await olderPrefix(source, checkpoint, previous), false);
}

async function olderPrefix(source: Pick<LogSource, 'consistencyProof'>, older: Checkpoint, newer: Checkpoint): Promise<Check & { kind?: 'fork' }> {
  if (older.size === 0) return { ok: true, message: `The empty tree is a prefix of the checkpoint seen before (size ${newer.size})` };
  try {
    const proof = await source.consistencyProof(older.size, newer.size);
    verifyConsistency(older.size, newer.size, proof.hashes.map((h, i) => fromHex(h, `consistency proof hash ${i}`, 32)), older.root, newer.root);
  } catch (err) {
    if (err instanceof EvidentError && (err.code === 'VERIFICATION_FAILED' || err.code === 'INVALID_ARGUMENT')) {
      return { ok: false, kind: 'fork', message: `log forked: no valid consistency proof from size ${older.size} to the ${newer.size} seen before (${err.message})` };
    }
    throw err;
  }
  return { ok: true, message: `Consistent with the checkpoint seen before (size ${older.size} is a prefix of ${newer.size})` };
}

/** Prints both signed notes of a conflict, as proof for whoever the user reports the fork to. */
export function printConflict(printer: Printer, keyText: string, conflict: CheckpointConflict): void {
  printer.text(`\nThe log contradicts itself (${conflict.kind}). Both checkpoints are signed by ${keyText}:\n`);
  printer.text(`--- previously seen ---\n${conflict.previous}--- now served ---\n${conflict.current}`);
}
