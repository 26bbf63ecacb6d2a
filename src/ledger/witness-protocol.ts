import { EvidentError, fromBase64, toBase64 } from '../core/index.js';
import { HASH_SIZE, type Hash } from './hash.js';
import { noteString } from './note.js';

// C2SP tlog-witness, add-checkpoint: the request body is `old <size>\n`, up to 63 base64 consistency-proof
// lines, an empty line, then the checkpoint note. A 409 answer's body is `<size>\n` (text/x.tlog.size).

export const MAX_PROOF_LINES = 63;
const DECIMAL = /^(?:0|[1-9][0-9]*)$/;

export interface AddCheckpointRequest {
  oldSize: number;
  proof: Hash[];
  /** The checkpoint signed note, with all its signature lines. */
  note: string;
}

function bad(message: string): EvidentError {
  return new EvidentError('INVALID_ARGUMENT', `malformed add-checkpoint request: ${message}`);
}

function parseSize(text: string, what: string): number {
  const n = Number(text);
  if (!DECIMAL.test(text) || !Number.isSafeInteger(n)) throw bad(`${what} ${JSON.stringify(text.slice(0, 40))} is not a decimal size without leading zeros`);
  return n;
}

export function formatAddCheckpoint(req: AddCheckpointRequest): string {
  if (!Number.isSafeInteger(req.oldSize) || req.oldSize < 0) throw bad('the old size must be a non-negative integer');
  if (req.proof.length > MAX_PROOF_LINES) throw bad(`more than ${MAX_PROOF_LINES} proof lines`);
  return `old ${req.oldSize}\n${req.proof.map((h) => `${toBase64(h)}\n`).join('')}\n${req.note}`;
}

export function parseAddCheckpoint(body: string | Uint8Array): AddCheckpointRequest {
  const text = noteString(body);
  const end = text.indexOf('\n\n');
  if (end < 0) throw bad('no empty line before the checkpoint');
  const head = text.slice(0, end).split('\n');
  const note = text.slice(end + 2);
  const first = head[0]!;
  if (!first.startsWith('old ')) throw bad("the first line must be 'old <size>'");
  const oldSize = parseSize(first.slice(4), 'the old size');
  const lines = head.slice(1);
  if (lines.length > MAX_PROOF_LINES) throw bad(`more than ${MAX_PROOF_LINES} consistency proof lines`);
  const proof = lines.map((line, i) => {
    try {
      const h = fromBase64(line, `proof line ${i + 1}`, HASH_SIZE);
      if (toBase64(h) !== line) throw new Error('non-canonical');
      return h;
    } catch {
      throw bad(`consistency proof line ${i + 1} is not base64 of a ${HASH_SIZE}-byte hash`);
    }
  });
  if (oldSize === 0 && proof.length > 0) throw bad('the proof must be empty when the old size is zero');
  return { oldSize, proof, note };
}

/** The body of a 409 answer: the size of the latest checkpoint the witness cosigned. */
export function formatConflictSize(size: number): string {
  return `${size}\n`;
}

export function parseConflictSize(body: string): number {
  if (!body.endsWith('\n')) throw bad('a size answer ends with a newline');
  return parseSize(body.slice(0, -1), 'the witness size');
}
