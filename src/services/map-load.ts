import type { MapLeafRow } from '../store/index.js';
import type { MapEngine } from './map-thread.js';

// A fresh process's load of a subject map's leaves table (LogMaps.at, issue #21 tenth round): the table read a
// page at a time, each page's map keys asked of the map thread as it comes, so the thread hashes one page while
// the next is read, and other requests are served between pages. What is read is checked by the caller: the tree
// of these rows (with the entries past the table) must make the committed map root.

/** Rows of the leaves table read at a time by a fresh load. */
export const LOAD_PAGE = 20_000;

/** The reader of one page: `limit` rows after `after`, in (entry index, subject) order. */
export type PageReader = (after: { index: number; subject: string } | undefined, limit: number) => Promise<MapLeafRow[]>;

/** The whole leaves table below `size`, and the map keys of each page's subjects (in the same order as the rows). */
export async function readTable(engine: MapEngine, page: PageReader, size: number, limit: number): Promise<{ written: MapLeafRow[]; keys: Promise<Uint8Array>[] }> {
  const written: MapLeafRow[] = [];
  const keys: Promise<Uint8Array>[] = [];
  let after: MapLeafRow | undefined;
  for (;;) {
    const rows = await page(after && { index: after.index, subject: after.subject }, limit);
    const kept = rows.filter((l) => l.index < size);
    for (const l of kept) written.push(l);
    const asked = engine.keys(kept.map((l) => l.subject));
    // Awaited by the caller once every page is read; handled now, so a failure meanwhile is no unhandled rejection.
    asked.catch(() => undefined);
    keys.push(asked);
    // Rows come in entry order: past `size` they are another commit's (read and dropped), and a reader that went
    // on would chase a writer that keeps appending.
    if (rows.length < limit || rows.at(-1)!.index >= size) break;
    after = rows.at(-1);
    // A turn of the event loop between pages: SQLite's reads are synchronous, so awaiting them alone yields to nothing.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { written, keys };
}

/** The keys of the table's pages, then those of `later` (each leaf of an entry has its key), in one array. */
export function flatKeys(pages: readonly Uint8Array[], later: readonly MapLeafRow[]): Uint8Array {
  let n = later.length * 32;
  for (const p of pages) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of pages) {
    out.set(p, at);
    at += p.length;
  }
  for (const l of later) {
    out.set(l.key, at);
    at += 32;
  }
  return out;
}
