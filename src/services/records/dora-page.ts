import { EvidentError } from '../../core/index.js';
import type { DoraDeployment } from './dora-stats.js';

// The `deployments` of a DORA report, paged newest first (issue #21): the figures cover the whole window, the
// list a page of it. A cursor is the position (snapshot, fingerprint) of the last deployment shown: keyset
// paging, so a page is the same whatever snapshots were reported since.

export const DORA_PAGE_DEFAULT = 100;
export const DORA_PAGE_MAX = 1000;

const CURSOR = /^(\d{1,15})\.([0-9a-f]{1,128})$/;

function encode(d: DoraDeployment): string {
  return Buffer.from(`${d.snapshot}.${d.fingerprint}`).toString('base64url');
}

function decode(cursor: string): [number, string] {
  const m = CURSOR.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new EvidentError('INVALID_ARGUMENT', 'invalid cursor', { details: [{ path: 'cursor', message: 'not a cursor this server issued' }] });
  return [Number(m[1]), m[2]!];
}

/** Newest first (snapshot, then fingerprint, descending) from a list ascending in that order. */
export function pageDeployments(ascending: readonly DoraDeployment[], cursor: string | undefined, limit: number | undefined): { deployments: DoraDeployment[]; next_cursor: string | null } {
  const n = limit ?? DORA_PAGE_DEFAULT;
  if (!Number.isInteger(n) || n < 1 || n > DORA_PAGE_MAX) {
    throw new EvidentError('INVALID_ARGUMENT', `limit must be an integer from 1 to ${DORA_PAGE_MAX}`, { details: [{ path: 'limit', message: `not 1..${DORA_PAGE_MAX}` }] });
  }
  let end = ascending.length;
  if (cursor !== undefined) {
    const [snapshot, fingerprint] = decode(cursor);
    // The first position at or after the cursor's key: everything before it is older.
    let lo = 0;
    let hi = ascending.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const d = ascending[mid]!;
      if (d.snapshot < snapshot || (d.snapshot === snapshot && d.fingerprint < fingerprint)) lo = mid + 1;
      else hi = mid;
    }
    end = lo;
  }
  const start = Math.max(0, end - n);
  const deployments = ascending.slice(start, end).reverse();
  return { deployments, next_cursor: start > 0 ? encode(deployments.at(-1)!) : null };
}
