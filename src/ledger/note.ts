import { EvidentError, fromBase64, toBase64 } from '../core/index.js';
import { isValidKeyName, type NoteSigner, type NoteVerifier } from './keys.js';

// C2SP signed-note v1.0.0 (and golang.org/x/mod/sumdb/note Sign / Open): a text of lines ending in '\n',
// one blank line, then one line per signature `— <key name> <base64(4-byte key ID || signature)>`.

const SIG_PREFIX = '\u2014 '; // em dash, space
const MAX_SIGNATURES = 100;
const CONTROL = /[\u0000-\u0009\u000b-\u001f]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const encoder = new TextEncoder();

export interface OpenedNote {
  text: string;
  signatures: { name: string; keyId: number; verified: boolean }[];
}

function malformed(message: string): EvidentError {
  return new EvidentError('INVALID_ARGUMENT', `malformed note: ${message}`);
}

/** Signed notes are valid UTF-8 without ASCII control characters other than newline (C2SP signed-note). */
export function checkNoteChars(text: string): void {
  if (typeof text !== 'string') throw malformed('not text');
  if (LONE_SURROGATE.test(text)) throw malformed('not valid UTF-8');
  if (CONTROL.test(text)) throw malformed('control characters other than newline');
}

/** A note given as bytes must be strict UTF-8 (a byte-order mark stays part of the text). */
export function noteString(note: string | Uint8Array): string {
  if (typeof note === 'string') return note;
  if (!(note instanceof Uint8Array)) throw malformed('not text');
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(note);
  } catch {
    throw malformed('not valid UTF-8');
  }
}

/** Signs `text` (which must end in '\n') with each signer, in order. */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  checkNoteChars(text);
  if (!text.endsWith('\n')) throw malformed("the text must end with '\\n'");
  if (signers.length === 0) throw new EvidentError('INVALID_ARGUMENT', 'a note needs at least one signer');
  if (signers.length > MAX_SIGNATURES) throw malformed(`more than ${MAX_SIGNATURES} signatures`);
  const message = encoder.encode(text);
  let lines = '';
  for (const signer of signers) {
    if (!isValidKeyName(signer.name)) throw new EvidentError('INVALID_ARGUMENT', `invalid signer name ${JSON.stringify(signer.name)}`);
    lines += formatSignatureLine(signer.name, signer.keyId, signer.sign(message));
  }
  return `${text}\n${lines}`;
}

function findVerifier(verifiers: readonly NoteVerifier[], name: string, keyId: number): NoteVerifier | undefined {
  const matches = verifiers.filter((v) => v.name === name && v.keyId === keyId);
  if (new Set(matches.map((v) => v.verifierKey)).size > 1) {
    throw new EvidentError('INVALID_ARGUMENT', `ambiguous verifier keys for ${name}+${keyId.toString(16).padStart(8, '0')}`);
  }
  return matches[0];
}

/** One signature line of a note, parsed but not verified. */
export interface SignatureLine {
  line: string;
  name: string;
  keyId: number;
  /** The signature bytes after the 4-byte key ID. */
  signature: Uint8Array;
}

/**
 * Splits a note into its text (up to the last blank line, with its final newline) and its signature lines,
 * checking their syntax only (C2SP signed-note: `— <name> <base64(key ID || signature)>`, canonical base64).
 */
export function splitNote(note: string | Uint8Array): { text: string; lines: SignatureLine[] } {
  const msg = noteString(note);
  checkNoteChars(msg);
  const split = msg.lastIndexOf('\n\n');
  if (split < 0) throw malformed('no blank line before the signatures');
  const text = msg.slice(0, split + 1);
  const block = msg.slice(split + 2);
  if (block === '' || !block.endsWith('\n')) throw malformed('the signature lines must end with a newline');
  const raw = block.slice(0, -1).split('\n');
  if (raw.length > MAX_SIGNATURES) throw malformed(`more than ${MAX_SIGNATURES} signatures`);
  return { text, lines: raw.map(parseSignatureLine) };
}

/** Parses one signature line (without its newline). */
export function parseSignatureLine(line: string): SignatureLine {
  if (!line.startsWith(SIG_PREFIX)) throw malformed("a signature line must start with '\u2014 '");
  const rest = line.slice(SIG_PREFIX.length);
  const space = rest.indexOf(' ');
  const name = space < 0 ? rest : rest.slice(0, space);
  const b64 = space < 0 ? '' : rest.slice(space + 1);
  let sig: Uint8Array;
  try {
    sig = fromBase64(b64);
  } catch {
    throw malformed(`the signature by ${JSON.stringify(name)} is not standard base64`);
  }
  // Canonical base64 only: otherwise unused padding bits would let one signature be written several ways.
  if (!isValidKeyName(name) || b64 === '' || sig.length < 5 || toBase64(sig) !== b64) {
    throw malformed('bad signature line');
  }
  const keyId = new DataView(sig.buffer, sig.byteOffset, sig.byteLength).getUint32(0);
  return { line, name, keyId, signature: sig.subarray(4) };
}

/** A signature line `— <name> <base64(key ID || signature)>\n`. */
export function formatSignatureLine(name: string, keyId: number, signature: Uint8Array): string {
  if (!isValidKeyName(name)) throw new EvidentError('INVALID_ARGUMENT', `invalid signer name ${JSON.stringify(name)}`);
  const body = new Uint8Array(4 + signature.length);
  new DataView(body.buffer).setUint32(0, keyId >>> 0);
  body.set(signature, 4);
  return `${SIG_PREFIX}${name} ${toBase64(body)}\n`;
}

/**
 * Opens a signed note: signatures by unknown keys (name and key ID not both known) are ignored and listed
 * unverified; a bad signature by a known key, or no verified known signature at all, is VERIFICATION_FAILED.
 */
export function openNote(note: string | Uint8Array, verifiers: readonly NoteVerifier[]): OpenedNote {
  const { text, lines } = splitNote(note);
  const message = encoder.encode(text);
  const signatures: OpenedNote['signatures'] = [];
  const seenKnown = new Set<string>();
  const seenUnknown = new Set<string>();
  let verified = 0;
  for (const { line, name, keyId, signature } of lines) {
    const verifier = findVerifier(verifiers, name, keyId);
    if (!verifier) {
      if (!seenUnknown.has(line)) signatures.push({ name, keyId, verified: false });
      seenUnknown.add(line);
      continue;
    }
    const id = `${name}+${keyId}`;
    if (seenKnown.has(id)) continue; // a repeated signature by one key counts once
    seenKnown.add(id);
    if (!verifier.verify(message, signature)) {
      throw new EvidentError('VERIFICATION_FAILED', `the note's signature by ${name} does not verify`);
    }
    signatures.push({ name, keyId, verified: true });
    verified++;
  }
  if (verified === 0) throw new EvidentError('VERIFICATION_FAILED', 'the note has no signature by a known key');
  return { text, signatures };
}
