import { EvidentError } from '../../core/index.js';
import * as v from './validate.js';

// The time arithmetic of DORA metrics (docs/metrics.md): the window, its buckets and the percentiles. Pure.

export const DORA_BUCKETS = ['day', 'week'] as const;
export type DoraBucket = (typeof DORA_BUCKETS)[number];

const DAY_MS = 86_400_000;
/** Past this, a day bucket is refused: ask for weeks. */
const MAX_BUCKETS = 2_000;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

export interface DoraWindow {
  since: Date;
  until: Date;
  bucket: DoraBucket;
}

/** `2026-11-01` (midnight UTC) or an RFC 3339 date-time. */
function instant(value: string): Date {
  if (DATE_ONLY.test(value)) {
    const d = new Date(`${value}T00:00:00.000Z`);
    if (!Number.isNaN(d.getTime()) && d.toISOString().startsWith(value)) return d;
    throw new EvidentError('INVALID_ARGUMENT', `${JSON.stringify(value)} is not a date`);
  }
  return new Date(v.timestamp(value));
}

/**
 * The window [since, until): until defaults to now, since to 30 days before until; the bucket to a day when the
 * window is at most 31 days long, else a week. Every problem is reported at once, with its parameter.
 */
export function doraWindow(input: { since?: string; until?: string; bucket?: string }, now: Date): DoraWindow {
  const p = new v.Problems();
  const until = input.until === undefined ? now : p.check('until', () => instant(input.until!));
  const since = input.since === undefined ? (until && new Date(until.getTime() - 30 * DAY_MS)) : p.check('since', () => instant(input.since!));
  if (input.bucket !== undefined && !(DORA_BUCKETS as readonly string[]).includes(input.bucket)) p.add('bucket', `must be day or week, not ${JSON.stringify(input.bucket)}`);
  if (since && until && since.getTime() >= until.getTime()) p.add('since', `must be before until (${until.toISOString()}), not ${since.toISOString()}`);
  p.throwIfAny('DORA query');
  const bucket = (input.bucket as DoraBucket | undefined) ?? (until!.getTime() - since!.getTime() <= 31 * DAY_MS ? 'day' : 'week');
  if (bucket === 'day' && (until!.getTime() - since!.getTime()) / DAY_MS > MAX_BUCKETS) {
    throw new EvidentError('INVALID_ARGUMENT', `a window of more than ${MAX_BUCKETS} days cannot be bucketed by day: use bucket=week`, {
      details: [{ path: 'bucket', message: 'too many day buckets' }],
    });
  }
  return { since: since!, until: until!, bucket };
}

/** The start of the UTC day, or of the ISO week (Monday, UTC), containing `t`. */
function bucketStart(t: number, bucket: DoraBucket): number {
  const day = Math.floor(t / DAY_MS) * DAY_MS;
  if (bucket === 'day') return day;
  const weekday = (new Date(day).getUTCDay() + 6) % 7; // Monday = 0
  return day - weekday * DAY_MS;
}

/** Calendar buckets (UTC days or ISO weeks) covering the window, the first and last cut to it. */
export function buckets(w: DoraWindow): { start: Date; end: Date }[] {
  const size = w.bucket === 'day' ? DAY_MS : 7 * DAY_MS;
  const out: { start: Date; end: Date }[] = [];
  for (let s = bucketStart(w.since.getTime(), w.bucket); s < w.until.getTime(); s += size) {
    out.push({ start: new Date(Math.max(s, w.since.getTime())), end: new Date(Math.min(s + size, w.until.getTime())) });
  }
  return out;
}

/** Which of `buckets` holds `t` (inside the window), by binary search: buckets are sorted and contiguous. */
export function bucketOf(list: readonly { start: Date; end: Date }[], t: number): number {
  let lo = 0;
  let hi = list.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (list[mid]!.start.getTime() <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export const days = (w: DoraWindow) => (w.until.getTime() - w.since.getTime()) / DAY_MS;
