import { EvidentError, bytesEqual, fromBase64, toBase64 } from '../core/index.js';
import {
  EMPTY_ROOT, openNote, parseAddCheckpoint, parseCheckpoint, parseVerifierKey, splitNote, verifyConsistency, type Checkpoint, type Cosigner,
  type NoteVerifier,
} from '../ledger/index.js';
import type { WitnessStore } from '../store/index.js';
import { systemClock, type Clock } from './clock.js';

export interface WitnessOptions {
  store: WitnessStore;
  cosigner: Cosigner;
  /** The log verifier keys this witness cosigns for; each log's origin is its key's name (C2SP tlog-checkpoint). */
  logs: readonly string[];
  clock?: Clock;
}

/** A refusal with the size the witness knows, for a 409 answer (C2SP tlog-witness: text/x.tlog.size). */
export function conflictSize(err: unknown): number | undefined {
  const details = err instanceof EvidentError ? (err.details as { size?: unknown } | undefined) : undefined;
  return typeof details?.size === 'number' ? details.size : undefined;
}

/**
 * A C2SP tlog-witness: it cosigns a log's checkpoint only when it is signed by the configured log key and
 * proven (RFC 6962 §2.1.2 consistency proof) to extend the last checkpoint it cosigned for that log, so it
 * never cosigns two views of one log that contradict each other. Errors carry the code of the HTTP status
 * the specification asks for: INVALID_ARGUMENT 400, FORBIDDEN 403, NOT_FOUND 404, CONFLICT 409 (with
 * `details.size`), VERIFICATION_FAILED 422.
 */
export class WitnessService {
  private readonly logs: NoteVerifier[];
  private readonly clock: Clock;

  constructor(private readonly options: WitnessOptions) {
    this.logs = options.logs.map((k) => parseVerifierKey(k));
    if (this.logs.length === 0) throw new EvidentError('INVALID_ARGUMENT', 'a witness needs at least one log verifier key (--log)');
    this.clock = options.clock ?? systemClock;
  }

  get verifierKey(): string {
    return this.options.cosigner.verifierKey;
  }

  get logKeys(): string[] {
    return this.logs.map((l) => l.verifierKey);
  }

  /** Handles one add-checkpoint request body; returns the cosignature line(s) of the answer. */
  addCheckpoint(body: string | Uint8Array): string {
    const req = parseAddCheckpoint(body);
    const { text, lines } = splitNote(req.note);
    const cp = parseCheckpoint(text);
    const known = this.logs.filter((l) => l.name === cp.origin);
    if (known.length === 0) throw new EvidentError('NOT_FOUND', `this witness does not know the log ${JSON.stringify(cp.origin)}`);
    try {
      openNote(req.note, known);
    } catch (err) {
      throw new EvidentError('FORBIDDEN', `the checkpoint is not signed by the key this witness trusts for ${cp.origin}: ${(err as Error).message}`, { cause: err });
    }
    // The verifying key: signatures by the other keys of this origin were absent or would have failed above.
    const log = known.find((k) => lines.some((l) => l.name === k.name && l.keyId === k.keyId))!;
    if (req.oldSize > cp.size) throw new EvidentError('INVALID_ARGUMENT', `old size ${req.oldSize} is larger than the checkpoint size ${cp.size}`);
    const store = this.options.store;
    const current = store.latest(cp.origin, log.verifierKey);
    const knownSize = current?.size ?? 0;
    if (req.oldSize !== knownSize) {
      throw new EvidentError('CONFLICT', `old size ${req.oldSize} is not the size ${knownSize} this witness last cosigned for ${cp.origin}`, { details: { size: knownSize } });
    }
    const at = this.clock.now();
    this.checkExtends(cp, req.proof, current, log, String(req.note));
    const next = { origin: cp.origin, logKey: log.verifierKey, size: cp.size, root: toBase64(cp.root), note: req.note };
    const set = store.compareAndSet(current && { size: current.size, root: current.root }, next, at.toISOString());
    if (!set.ok) {
      const size = set.current?.size ?? 0;
      throw new EvidentError('CONFLICT', `another request moved ${cp.origin} to size ${size} meanwhile`, { details: { size } });
    }
    return this.options.cosigner.cosign(text, Math.floor(at.getTime() / 1000));
  }

  /** The checkpoint must be the same tree as the recorded one, or provably extend it. */
  private checkExtends(cp: Checkpoint, proof: Uint8Array[], current: { size: number; root: string } | undefined, log: NoteVerifier, request: string): void {
    const refuse = (code: 'CONFLICT' | 'VERIFICATION_FAILED', message: string): never => {
      // Kept: a validly signed checkpoint that contradicts the recorded one is evidence of a fork.
      this.options.store.refuse(cp.origin, log.verifierKey, message, request, this.clock.now().toISOString());
      throw new EvidentError(code, message, code === 'CONFLICT' ? { details: { size: current?.size ?? 0 } } : {});
    };
    if (!current) {
      if (cp.size === 0 && !bytesEqual(cp.root, EMPTY_ROOT)) refuse('VERIFICATION_FAILED', 'a checkpoint of size 0 must carry the empty tree\'s root');
      return; // the first checkpoint seen for a log is trusted on first use (old size 0, empty proof)
    }
    const root = fromBase64(current.root, 'recorded root', 32);
    if (cp.size === current.size) {
      if (!bytesEqual(cp.root, root)) refuse('CONFLICT', `a different root for size ${cp.size} than the one this witness cosigned: the log forked`);
      if (proof.length > 0) throw new EvidentError('VERIFICATION_FAILED', 'a consistency proof between equal sizes must be empty');
      return;
    }
    if (current.size === 0) return; // every tree extends the empty one (RFC 9162 §2.1.4 has no proof from 0)
    try {
      verifyConsistency(current.size, cp.size, proof, root, cp.root);
    } catch (err) {
      refuse('VERIFICATION_FAILED', `no valid consistency proof from size ${current.size} to ${cp.size}: ${(err as Error).message}`);
    }
  }
}
