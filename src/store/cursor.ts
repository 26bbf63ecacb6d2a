import { EvidentError } from '../core/index.js';

/** Cursors are opaque to clients: base64url JSON of the keyset position. */
export function encodeCursor(parts: string[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

export function decodeCursor(cursor: string): [string, string] {
  try {
    const parts: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parts) && parts.length === 2 && parts.every((p) => typeof p === 'string')) return parts as [string, string];
  } catch {
    // fall through to the error below
  }
  throw new EvidentError('INVALID_ARGUMENT', 'invalid cursor', { details: [{ path: 'cursor', message: 'not a cursor this server issued' }] });
}


/** Database errors a user can act on, as typed errors; others pass through. */
export function translateDbError(err: unknown): unknown {
  if (err instanceof EvidentError) return err;
  const code = String((err as { code?: unknown }).code ?? '');
  const message = err instanceof Error ? err.message : String(err);
  if (code === '23505' || code.startsWith('SQLITE_CONSTRAINT_PRIMARYKEY') || code === 'SQLITE_CONSTRAINT_UNIQUE') {
    return new EvidentError('CONFLICT', `already exists: ${message}`, { cause: err });
  }
  if (code === 'SQLITE_BUSY' || code === 'ECONNREFUSED' || code === '57P01' || code === '53300') {
    return new EvidentError('UNAVAILABLE', `database unavailable: ${message}`, { cause: err });
  }
  return err;
}

