// Sortable table columns (issue 18): a header is a button that sorts the rows already on the page by that
// column, again to reverse; aria-sort says which column and which way, for screen readers. The arrows are
// CSS (styles.css), so they stay out of the header's text (phone cards label cells with it). At phone
// width the header row is hidden (rows become cards), so `control` — a "Sort by" select and a direction
// button, shown only there — sorts the same state.
import type { ComponentChildren } from 'preact';
import { useMemo, useState } from 'preact/hooks';

export type SortKey<T> = (row: T) => string | number | null | undefined;
export interface SortState {
  column: string | null;
  descending: boolean;
}

/** Compares values of one column: numbers as numbers, text by locale; missing values last either way. */
function compare(a: string | number | null | undefined, b: string | number | null | undefined): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  return typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b), undefined, { numeric: true });
}

/**
 * The rows sorted by the chosen column (stable: ties keep the server's order), the header to render, and
 * the phone's sort control (`labels` name the columns in it; the key names otherwise).
 */
export function useSort<T>(rows: T[], keys: Record<string, SortKey<T>>, labels: Record<string, string> = {}, what = 'rows') {
  const [state, setState] = useState<SortState>({ column: null, descending: false });
  const sorted = useMemo(() => {
    const key = state.column ? keys[state.column] : undefined;
    if (!key) return rows;
    const indexed = rows.map((row, i) => ({ row, i, k: key(row) }));
    indexed.sort((x, y) => {
      const missing = (x.k === null || x.k === undefined) !== (y.k === null || y.k === undefined);
      const c = compare(x.k, y.k);
      return (missing ? c : state.descending ? -c : c) || x.i - y.i;
    });
    return indexed.map((x) => x.row);
    // keys too: a key may read data that arrives after the rows (the policies' attachments).
  }, [rows, state, keys]);
  const header = (column: string, label: ComponentChildren) => (
    <SortHeader column={column} state={state} onSort={(c) => setState((s) => ({ column: c, descending: s.column === c ? !s.descending : false }))}>
      {label}
    </SortHeader>
  );
  const control = (
    <div class="sort-control">
      <label>
        Sort {what} by{' '}
        <select value={state.column ?? ''} onChange={(e) => setState((s) => ({ column: e.currentTarget.value || null, descending: s.descending }))}>
          <option value="">as listed</option>
          {Object.keys(keys).map((c) => <option key={c} value={c}>{labels[c] ?? c}</option>)}
        </select>
      </label>
      <button type="button" class="secondary" disabled={!state.column} onClick={() => setState((s) => ({ ...s, descending: !s.descending }))}>
        {state.descending ? 'descending' : 'ascending'}
      </button>
    </div>
  );
  return { rows: sorted, header, control, state };
}

function SortHeader({ column, state, onSort, children }: { column: string; state: SortState; onSort: (c: string) => void; children: ComponentChildren }) {
  const active = state.column === column;
  const sort = active ? (state.descending ? 'descending' : 'ascending') : undefined;
  return (
    <th scope="col" aria-sort={sort}>
      <button type="button" class="sort" onClick={() => onSort(column)}>
        {children}
      </button>
    </th>
  );
}
