import type { Command } from 'commander';
import { EvidentError } from '../core/index.js';
import { intFlag } from './context.js';

/** `--limit`/`--cursor` (Evident) and Kosli's `--page-limit`/`--page`. */
export interface PageFlags {
  limit: number;
  cursor?: string;
  pageLimit?: number;
  page?: number;
}

/** Adds Kosli's page flags to a list command that has --limit and --cursor. */
export function pageFlags(cmd: Command): Command {
  return cmd
    .option('--page-limit <n>', 'page size, as --limit (Kosli)', intFlag('--page-limit', 1))
    .option('--page <n>', 'which page of --page-limit (Kosli; pages are followed from the first)', intFlag('--page', 1));
}

/** A page: a list (`items`), or a record with one paged list in it (`get trail`'s attestations). */
interface Paged {
  next_cursor?: string | null;
}

/**
 * One page: by cursor (Evident), or by number (Kosli's --page N, reached by following the cursor N-1 times:
 * Evident's pages are keyset pages, stable under appends, so page N is the same page however it is reached).
 */
export async function pageOf<T extends Paged>(
  opts: PageFlags, fetch: (q: { limit: number; cursor?: string }) => Promise<T>,
  /** The page past the last one: the last with its list emptied. */
  beyond: (last: T) => T = (last) => ({ ...last, items: [], next_cursor: null }),
): Promise<T> {
  const limit = opts.pageLimit ?? opts.limit;
  if (opts.page === undefined || opts.page === 1) return fetch({ limit, cursor: opts.cursor });
  if (opts.cursor !== undefined) throw new EvidentError('INVALID_ARGUMENT', 'give --page or --cursor, not both');
  let page = await fetch({ limit });
  for (let n = 1; n < opts.page; n++) {
    if (!page.next_cursor) return beyond(page);
    page = await fetch({ limit, cursor: page.next_cursor });
  }
  return page;
}
