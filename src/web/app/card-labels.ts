// At phone width tables reflow into cards (styles.css, `.table-wrap` under 720 px): each cell shows its
// column's name before its value, from a data-label attribute. Rather than repeat every header in every
// page's cells, the labels are copied from each table's header row whenever the page changes.

function label(table: HTMLTableElement): void {
  const heads = [...table.querySelectorAll<HTMLTableCellElement>('thead tr:last-child th')].map((th) => th.textContent?.trim() ?? '');
  if (heads.length === 0) return;
  for (const row of table.querySelectorAll<HTMLTableRowElement>('tbody tr')) {
    [...row.cells].forEach((cell, i) => {
      const name = heads[i];
      if (name && cell.getAttribute('data-label') !== name) cell.setAttribute('data-label', name);
    });
  }
}

/** Labels the tables under `root` now and after every change; returns the stop function. */
export function watchCardLabels(root: HTMLElement): () => void {
  const run = () => root.querySelectorAll('table').forEach((t) => label(t as HTMLTableElement));
  run();
  let queued = false;
  const observer = new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      run();
    });
  });
  observer.observe(root, { childList: true, subtree: true });
  return () => observer.disconnect();
}
