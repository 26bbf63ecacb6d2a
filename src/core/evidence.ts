import { EvidentError } from './errors.js';

/** Evidence blobs are named by the SHA-256 of their bytes: 64 lower-case hex characters, nothing else. */
export const DIGEST_PATTERN = /^[0-9a-f]{64}$/;

export function isDigest(value: unknown): value is string {
  return typeof value === 'string' && DIGEST_PATTERN.test(value);
}

/** Throws INVALID_ARGUMENT unless `value` is a digest: it is the only thing ever turned into a storage path. */
export function checkDigest(value: string, what = 'digest'): string {
  if (!DIGEST_PATTERN.test(value)) {
    throw new EvidentError('INVALID_ARGUMENT', `${what} must be a SHA-256 digest (64 lower-case hex characters), not ${JSON.stringify(value.slice(0, 80))}`, {
      details: [{ path: what, message: 'not 64 lower-case hex characters' }],
    });
  }
  return value;
}

const MAX_NAME = 1024;
const MAX_SEGMENT = 255;

/**
 * An uploaded file's name, kept only as metadata: a relative, '/'-separated path with no empty, '.' or
 * '..' segments, no control, format (bidi) or separator characters and bounded length. The name arrives from an attacker and is
 * later offered to a client that may write it under a directory, so it is made harmless here once,
 * and again by that client. Returns null when nothing usable is left.
 */
export function sanitiseEvidenceName(raw: string | null | undefined): string | null {
  if (raw === null || raw === undefined) return null;
  // Control (Cc), format (Cf: the bidi overrides and isolates, zero-width characters), lone surrogate
  // (Cs) and line/paragraph separator (Zl, Zp) characters are removed: `report\u202Etxt.exe` displays as
  // "reportexe.txt" (reliability report F15; Unicode TR #9 and UTS #39 §3.1 on such spoofing).
  const cleaned = raw.normalize('NFC').replace(/[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu, '');
  const segments = cleaned
    .split(/[/\\]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '' && s !== '.' && s !== '..')
    .map((s) => truncateUtf8(s, MAX_SEGMENT));
  let name = segments.join('/');
  if (name.length > MAX_NAME) name = name.slice(name.length - MAX_NAME).replace(/^[^/]*\//, '');
  return name === '' ? null : name;
}

/** Cuts a string to at most `max` UTF-8 bytes without splitting a character (most file systems' limit). */
function truncateUtf8(s: string, max: number): string {
  const utf8 = new TextEncoder();
  if (utf8.encode(s).length <= max) return s;
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    bytes += utf8.encode(ch).length;
    if (bytes > max) break;
    out += ch;
  }
  return out;
}
