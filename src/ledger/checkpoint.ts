import { EvidentError, fromBase64, toBase64 } from '../core/index.js';
import { HASH_SIZE, type Hash } from './hash.js';
import type { NoteVerifier } from './keys.js';
import { checkNoteChars, noteString, openNote } from './note.js';

// C2SP tlog-checkpoint v1.0.0: the note text is `<origin>\n<decimal size>\n<base64 root>\n`, then optional
// non-empty extension lines.

export interface Checkpoint {
  origin: string;
  size: number;
  root: Hash;
  extensions: string[];
}

const DECIMAL = /^(?:0|[1-9][0-9]*)$/;

function bad(message: string): EvidentError {
  return new EvidentError('INVALID_ARGUMENT', `malformed checkpoint: ${message}`);
}

function checkLine(line: string, what: string): void {
  if (typeof line !== 'string' || line === '') throw bad(`the ${what} must be a non-empty line`);
  if (line.includes('\n')) throw bad(`the ${what} must be one line`);
}

/** The checkpoint's note text (unsigned). */
export function formatCheckpoint(c: { origin: string; size: number; root: Hash; extensions?: string[] }): string {
  checkLine(c.origin, 'origin');
  if (!Number.isSafeInteger(c.size) || c.size < 0) throw bad('the size must be a non-negative safe integer');
  if (!(c.root instanceof Uint8Array) || c.root.length !== HASH_SIZE) throw bad(`the root must be ${HASH_SIZE} bytes`);
  const extensions = c.extensions ?? [];
  extensions.forEach((e) => checkLine(e, 'extension line'));
  const text = [c.origin, String(c.size), toBase64(c.root), ...extensions].join('\n') + '\n';
  checkNoteChars(text);
  return text;
}

/** Parses a checkpoint's note text (no signature check; see openCheckpoint). */
export function parseCheckpoint(text: string): Checkpoint {
  checkNoteChars(text);
  if (!text.endsWith('\n')) throw bad("the text must end with '\\n'");
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw bad('it needs an origin, a size and a root hash line');
  const [origin, sizeLine, rootLine, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin === '') throw bad('empty origin');
  // Any integer above 2^53 - 1 becomes a double >= 2^53, which isSafeInteger rejects.
  const size = Number(sizeLine);
  if (!DECIMAL.test(sizeLine) || !Number.isSafeInteger(size)) {
    throw bad(`the size ${JSON.stringify(sizeLine)} is not a decimal safe integer without leading zeros`);
  }
  let root: Hash;
  try {
    root = fromBase64(rootLine, 'root', HASH_SIZE);
    if (toBase64(root) !== rootLine) throw bad('non-canonical base64');
  } catch {
    throw bad(`the root hash must be standard base64 of ${HASH_SIZE} bytes`);
  }
  if (extensions.some((e) => e === '')) throw bad('empty extension line');
  return { origin, size, root, extensions };
}

/** Opens a signed checkpoint (C2SP signed-note rules) and parses its text. */
export function openCheckpoint(note: string | Uint8Array, verifiers: readonly NoteVerifier[]): Checkpoint & { note: string } {
  const msg = noteString(note);
  const { text } = openNote(msg, verifiers);
  return { ...parseCheckpoint(text), note: msg };
}
