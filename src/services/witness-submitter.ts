import { EvidentError, bytesEqual, fromHex } from '../core/index.js';
import {
  formatAddCheckpoint, parseCheckpoint, parseConflictSize, parseCosignatureVerifierKey, parseVerifierKey, splitNote, validCosignatureLines,
  verifyConsistency, EMPTY_ROOT, type Checkpoint, type CosignatureVerifier,
} from '../ledger/index.js';
import type { LogHead, OrgRecord, Store } from '../store/index.js';
import type { LogService } from './log-service.js';

/** A witness the server asks for cosignatures: its submission prefix and its verifier key. */
export interface WitnessEndpoint {
  url: string;
  verifier: CosignatureVerifier;
}

/** `URL=KEY`: the witness's submission prefix (http or https, without '='), then its verifier key (type 0x04). */
export function parseWitnessEndpoint(text: string): WitnessEndpoint {
  const eq = text.indexOf('=');
  const url = eq < 0 ? '' : text.slice(0, eq).replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s=]+$/.test(url)) {
    throw new EvidentError('INVALID_ARGUMENT', `a witness is given as URL=VERIFIER_KEY (e.g. http://127.0.0.1:8081=witness.example/w1+1234abcd+BA…), not ${JSON.stringify(text.slice(0, 80))}`);
  }
  return { url, verifier: parseCosignatureVerifierKey(text.slice(eq + 1)) };
}

export interface WitnessSubmitterOptions {
  /** Longest wait for one witness answer, in ms (default 5000). */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Where refusals and unreachable witnesses are reported (default: nowhere). */
  warn?: (message: string) => void;
}

interface Cosigned {
  size: number;
  root: Uint8Array;
  note: string;
}

interface OrgState {
  running: Promise<void> | undefined;
  again: boolean;
  /** The size each witness last said it has for this log (from a 200 or a 409). */
  known: Map<string, number>;
  /** The newest checkpoint that gathered at least one cosignature, with the cosignature lines appended. */
  cosigned?: Cosigned;
  /** The last head submitted and how many cosignatures it gathered. */
  attempted?: { size: number; root: Uint8Array; cosignatures: number };
  /** The head size at which the recorded cosigned checkpoint (migration 0023) was last read. */
  restoredAt?: number;
}

/**
 * Submits each org's new checkpoints to the configured witnesses (C2SP tlog-witness) in the background —
 * an append never waits for a witness — and keeps the cosigned checkpoint to serve. One submission round
 * per org at a time; appends during a round cause one more round after it.
 */
export class WitnessSubmitter {
  private readonly states = new Map<number, OrgState>();
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;
  private readonly warn: (message: string) => void;
  private closed = false;

  constructor(
    private readonly log: LogService, private readonly store: Store, readonly witnesses: readonly WitnessEndpoint[], options: WitnessSubmitterOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.warn = options.warn ?? (() => undefined);
  }

  private state(org: OrgRecord): OrgState {
    let st = this.states.get(org.id);
    if (!st) this.states.set(org.id, (st = { running: undefined, again: false, known: new Map() }));
    return st;
  }

  /** Schedules a submission of the org's current checkpoint (returns at once). */
  notify(org: OrgRecord): void {
    if (this.closed || this.witnesses.length === 0) return;
    const st = this.state(org);
    if (st.running) {
      st.again = true;
      return;
    }
    st.running = this.rounds(org, st).finally(() => (st.running = undefined));
  }

  /** Resolves when no submission is in flight (for tests and shutdown). */
  async idle(): Promise<void> {
    for (const st of this.states.values()) await st.running;
  }

  close(): void {
    this.closed = true;
  }

  /**
   * The checkpoint to serve: the head with its cosignatures once witnesses have answered; until then the
   * newest cosigned checkpoint (a prefix of the head), unless the witnesses gave nothing for the head.
   */
  async served(org: OrgRecord): Promise<string> {
    const logHead = await this.store.log.head(org.id);
    const head = this.log.noteFor(org, logHead);
    if (this.witnesses.length === 0) return head;
    const cp = parseCheckpoint(splitNote(head).text);
    const st = this.state(org);
    const atHead = () => st.cosigned !== undefined && st.cosigned.size === cp.size && bytesEqual(st.cosigned.root, cp.root);
    if (atHead()) return st.cosigned!.note;
    if (st.restoredAt !== cp.size) {
      // After a restart, or written by another server on the same database: the recorded one, once verified.
      st.restoredAt = cp.size;
      await this.restore(org, st, logHead, head);
      if (atHead()) return st.cosigned!.note;
    }
    const tried = st.attempted && st.attempted.size === cp.size && bytesEqual(st.attempted.root, cp.root);
    if (!tried) this.notify(org); // after a restart, or on a server that did not write the entries itself
    if (tried && st.attempted!.cosignatures === 0) return head;
    return st.cosigned?.note ?? head;
  }

  /**
   * `note` (a checkpoint of this log, as LogService signs it) with the witnesses' cosignatures of exactly that
   * checkpoint: submitted now if it was not, waiting at most the witness timeout for the round. The note as
   * given when no witness cosigned it in time (or the log moved on and the round cosigned a newer one).
   */
  async cosignedNote(org: OrgRecord, note: string): Promise<string> {
    const cp = parseCheckpoint(splitNote(note).text);
    const st = this.state(org);
    const mine = () => st.cosigned !== undefined && st.cosigned.size === cp.size && bytesEqual(st.cosigned.root, cp.root) && st.cosigned.note.startsWith(note);
    if (mine()) return st.cosigned!.note;
    if (this.witnesses.length === 0) return note;
    this.notify(org);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.timeoutMs + 1000)));
    try {
      while (st.running && !mine()) await Promise.race([st.running, timeout.then(() => Promise.reject(new Error('timeout')))]);
    } catch {
      // the witnesses did not answer in time: the note goes uncosigned
    } finally {
      clearTimeout(timer);
    }
    return mine() ? st.cosigned!.note : note;
  }

  private async rounds(org: OrgRecord, st: OrgState): Promise<void> {
    do {
      st.again = false;
      try {
        await this.round(org, st);
      } catch (err) {
        this.warn(`witnessing ${org.name}'s checkpoint failed: ${(err as Error).message}`);
      }
    } while (st.again && !this.closed);
  }

  private async round(org: OrgRecord, st: OrgState): Promise<void> {
    const note = await this.log.checkpoint(org);
    const { text } = splitNote(note);
    const cp = parseCheckpoint(text);
    if (st.cosigned && st.cosigned.size === cp.size && bytesEqual(st.cosigned.root, cp.root)) return;
    const lines = (await Promise.all(this.witnesses.map((w) => this.submit(org, st, w, note, text, cp)))).flat();
    st.attempted = { size: cp.size, root: cp.root, cosignatures: lines.length };
    if (lines.length > 0 && (!st.cosigned || st.cosigned.size <= cp.size)) {
      st.cosigned = { size: cp.size, root: cp.root, note: note + lines.join('') };
      try {
        await this.store.log.saveCosigned(org.id, cp.size, st.cosigned.note, new Date().toISOString());
      } catch (err) {
        this.warn(`recording ${org.name}'s cosigned checkpoint failed: ${(err as Error).message}`);
      }
    }
  }

  /** Takes the recorded cosigned checkpoint (migration 0023) when it verifies and is newer than the one in memory. */
  private async restore(org: OrgRecord, st: OrgState, head: LogHead, headNote: string): Promise<void> {
    let row;
    try {
      row = await this.store.log.cosigned(org.id);
    } catch (err) {
      this.warn(`reading ${org.name}'s recorded cosigned checkpoint failed: ${(err as Error).message}`);
      return;
    }
    if (!row || (st.cosigned && st.cosigned.size >= row.size)) return;
    try {
      st.cosigned = await this.verifyRecorded(org, head, headNote, row.note);
    } catch (err) {
      this.warn(`the recorded cosigned checkpoint of ${org.name} is not served: ${(err as Error).message}`);
    }
  }

  /**
   * A recorded note is served only as verified here (signed means verified): the log's own signature on its
   * text, the text a prefix of the current head (the head's own text at the same size; else a consistency
   * proof to the head's root), and only the cosignature lines that verify under the configured witness keys.
   */
  private async verifyRecorded(org: OrgRecord, head: LogHead, headNote: string, note: string): Promise<Cosigned> {
    const { text, lines } = splitNote(note);
    const cp = parseCheckpoint(text);
    if (cp.origin !== this.log.origin(org)) throw new EvidentError('TAMPERED', `its origin is ${cp.origin}, not ${this.log.origin(org)}`);
    const signer = this.log.signerFor(org);
    const verifier = parseVerifierKey(signer.verifierKey);
    const message = new TextEncoder().encode(text);
    const own = lines.find((l) => l.name === signer.name && l.keyId === signer.keyId && verifier.verify(message, l.signature));
    if (!own) throw new EvidentError('TAMPERED', 'it carries no valid signature by this log\'s key');
    if (cp.size > head.size) throw new EvidentError('TAMPERED', `its size ${cp.size} is beyond the log's ${head.size}`);
    if (cp.size === head.size) {
      if (text !== splitNote(headNote).text) throw new EvidentError('TAMPERED', `it is not the log's checkpoint at size ${cp.size}`);
    } else if (cp.size === 0) {
      if (!bytesEqual(cp.root, EMPTY_ROOT)) throw new EvidentError('TAMPERED', 'its size is 0 but its root is not the empty tree\'s');
    } else {
      const proof = await this.log.consistencyProof(org, cp.size, head.size);
      verifyConsistency(cp.size, head.size, proof.hashes.map((h) => fromHex(h)), cp.root, head.root);
    }
    const cosignatures = this.witnesses.flatMap((w) => validCosignatureLines(text, lines.map((l) => l.line), w.verifier).slice(0, 1));
    if (cosignatures.length === 0) throw new EvidentError('TAMPERED', 'no cosignature in it verifies under a configured witness key');
    return { size: cp.size, root: cp.root, note: `${text}\n${own.line}\n${cosignatures.join('')}` };
  }

  /** One witness: from the size it is believed to have; on 409, once more from the size it reports. */
  private async submit(org: OrgRecord, st: OrgState, w: WitnessEndpoint, note: string, text: string, cp: Checkpoint): Promise<string[]> {
    const where = `witness ${w.verifier.name} (${w.url})`;
    for (let attempt = 0; attempt < 3; attempt++) {
      const old = st.known.get(w.url) ?? 0;
      if (old > cp.size) {
        this.warn(`${where} has size ${old} for ${cp.origin}, more than this log's ${cp.size}: not submitted`);
        return [];
      }
      const proof = old > 0 && old < cp.size ? (await this.log.consistencyProof(org, old, cp.size)).hashes.map((h) => fromHex(h)) : [];
      let res: Response;
      let body: string;
      try {
        res = await this.fetch(`${w.url}/add-checkpoint`, {
          method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' },
          body: formatAddCheckpoint({ oldSize: old, proof, note }), signal: AbortSignal.timeout(this.timeoutMs),
        });
        body = await res.text();
      } catch (err) {
        this.warn(`${where} is unreachable: ${(err as Error).message}`);
        return [];
      }
      if (res.status === 200) {
        st.known.set(w.url, cp.size);
        const valid = validCosignatureLines(text, body.split('\n').filter((l) => l !== ''), w.verifier);
        if (valid.length === 0) this.warn(`${where} answered without a valid cosignature by its key`);
        return valid;
      }
      if (res.status === 409) {
        let size: number;
        try {
          size = parseConflictSize(body);
        } catch {
          this.warn(`${where} answered 409 without a size`);
          return [];
        }
        if (size === old) {
          this.warn(`${where} refused size ${cp.size} of ${cp.origin}: it cosigned a different tree of size ${size}`);
          return [];
        }
        st.known.set(w.url, size);
        continue;
      }
      this.warn(`${where} refused ${cp.origin} at size ${cp.size}: ${res.status} ${body.trim().slice(0, 300)}`);
      return [];
    }
    return [];
  }
}
