import fs from 'node:fs';
import path from 'node:path';

// `evident cache prune` for receipts (issue 14 finding 7): `.evident/cache/receipts/` grew by one file per
// run, forever. Receipts older than `maxAgeDays` go, and of the rest only the newest `keep`. Only files
// named as the runner names them are touched (receipt_<YYYYMMDD_HHMMSS>[_n].yaml); the name orders them.

const RECEIPT_NAME = /^receipt_(\d{8}_\d{6})(?:_(\d+))?\.yaml$/;
const DAY_MS = 86_400_000;

export interface ReceiptPruneOptions {
  maxAgeDays: number;
  keep: number;
  now?: number;
  dryRun?: boolean;
}

/** The receipts removed (or that would be, with dryRun), oldest first. */
export function pruneReceipts(workspace: string, o: ReceiptPruneOptions): string[] {
  const dir = path.join(workspace, '.evident', 'cache', 'receipts');
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => RECEIPT_NAME.test(n));
  } catch {
    return [];
  }
  const order = (n: string) => {
    const m = RECEIPT_NAME.exec(n)!;
    return `${m[1]}_${(m[2] ?? '1').padStart(6, '0')}`;
  };
  names.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
  const now = o.now ?? Date.now();
  const removed: string[] = [];
  names.forEach((name, i) => {
    const file = path.join(dir, name);
    const old = now - (fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? now) > o.maxAgeDays * DAY_MS;
    const beyond = i < names.length - o.keep;
    if (!old && !beyond) return;
    if (!o.dryRun) fs.rmSync(file, { force: true });
    removed.push(file);
  });
  return removed;
}
