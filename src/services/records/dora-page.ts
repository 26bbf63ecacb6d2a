import { EvidentError } from '../../core/index.js';
import type { DoraDeployment } from './dora-stats.js';

// The `deployments` of a DORA report, paged newest first (issue #21): the figures cover the whole window, the
// list a page of it. A cursor is the position (snapshot, fingerprint) of the last deployment shown: keyset
// paging, so a page is the same whatever snapshots were reported since. The key is (snapshot, fingerprint,
// artifact name): the store records one start per fingerprint and snapshot today, the name only makes the
// order total whatever a future store does.

export const DORA_PAGE_DEFAULT = 100;
export const DORA_PAGE_MAX = 1000;

type Key = [number, string, string];

/** The order of a window's deployments: by snapshot, fingerprint, name (JavaScript's string order, as sorted here). */
export function compareDeployments(a: { snapshot: number; fingerprint: string; artifact: string }, b: { snapshot: number; fingerprint: string; artifact: string }): number {
  return compareKeys([a.snapshot, a.fingerprint, a.artifact], [b.snapshot, b.fingerprint, b.artifact]);
}

function compareKeys(a: Key, b: Key): number {
  if (a[0] !== b[0]) return a[0] - b[0];
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return a[2] === b[2] ? 0 : a[2] < b[2] ? -1 : 1;
}

function encode(d: DoraDeployment): string {
  return Buffer.from(JSON.stringify([d.snapshot, d.fingerprint, d.artifact])).toString('base64url');
}

function decode(cursor: string): Key {
  try {
    const k: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(k) && k.length === 3 && Number.isSafeInteger(k[0]) && typeof k[1] === 'string' && typeof k[2] === 'string') return k as Key;
  } catch {
    // fall through to the error below
  }
  throw new EvidentError('INVALID_ARGUMENT', 'invalid cursor', { details: [{ path: 'cursor', message: 'not a cursor this server issued' }] });
}

/** Newest first (compareDeployments, descending) from a list ascending in that order. */
export function pageDeployments(ascending: readonly DoraDeployment[], cursor: string | undefined, limit: number | undefined): { deployments: DoraDeployment[]; next_cursor: string | null } {
  return pageOf(ascending.length, (i) => ascending[i]!, (i) => ascending[i]!, cursor, limit);
}

/**
 * The same page from a list given by position (0 … length-1, ascending): `keyAt` gives what the order needs,
 * `make` the deployment as shown — only the page's are made (the ledger's index, issue #21).
 */
export function pageOf(
  length: number, keyAt: (i: number) => { snapshot: number; fingerprint: string; artifact?: string; name?: string },
  make: (i: number) => DoraDeployment, cursor: string | undefined, limit: number | undefined,
): { deployments: DoraDeployment[]; next_cursor: string | null } {
  const n = limit ?? DORA_PAGE_DEFAULT;
  if (!Number.isInteger(n) || n < 1 || n > DORA_PAGE_MAX) {
    throw new EvidentError('INVALID_ARGUMENT', `limit must be an integer from 1 to ${DORA_PAGE_MAX}`, { details: [{ path: 'limit', message: `not 1..${DORA_PAGE_MAX}` }] });
  }
  let end = length;
  if (cursor !== undefined) {
    const key = decode(cursor);
    // The first position at or after the cursor's key: everything before it is older.
    let lo = 0;
    let hi = length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const d = keyAt(mid);
      if (compareKeys([d.snapshot, d.fingerprint, (d.artifact ?? d.name)!], key) < 0) lo = mid + 1;
      else hi = mid;
    }
    end = lo;
  }
  const start = Math.max(0, end - n);
  const deployments: DoraDeployment[] = [];
  for (let i = end - 1; i >= start; i--) deployments.push(make(i));
  return { deployments, next_cursor: start > 0 ? encode(deployments.at(-1)!) : null };
}
