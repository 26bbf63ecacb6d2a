import { EvidentError } from '../../core/index.js';
import { decodeCursor, encodeCursor } from '../../store/index.js';
import type { RunningArtifact, SnapshotRecord } from '../../store/index.js';

export interface EnvironmentEvent {
  snapshot: number;
  timestamp: string;
  type: 'started' | 'exited' | 'scaled';
  name: string;
  fingerprint: string;
  instances: number;
  previous_instances?: number;
}

/** What changed from one running set to the next: starts and scalings in the new set's order, then exits in the old one's. */
export function changes(before: readonly RunningArtifact[], now: readonly RunningArtifact[], snap: SnapshotRecord): EnvironmentEvent[] {
  const was = new Map(before.map((a) => [a.fingerprint, a]));
  const is = new Set(now.map((a) => a.fingerprint));
  const at = { snapshot: snap.index, timestamp: snap.createdAt };
  const out: EnvironmentEvent[] = [];
  for (const a of now) {
    const w = was.get(a.fingerprint);
    if (!w) out.push({ ...at, type: 'started', name: a.name, fingerprint: a.fingerprint, instances: a.instances });
    else if (w.instances !== a.instances) out.push({ ...at, type: 'scaled', name: a.name, fingerprint: a.fingerprint, instances: a.instances, previous_instances: w.instances });
  }
  for (const a of before) if (!is.has(a.fingerprint)) out.push({ ...at, type: 'exited', name: a.name, fingerprint: a.fingerprint, instances: 0, previous_instances: a.instances });
  return out;
}

/**
 * Where a page of events starts. `below`: whole snapshots older than that index (the form every cursor had
 * before issue #21, still accepted). `within`: snapshot `index`, of whose events only the first `end` are
 * left to show (the rest were on pages before), then the snapshots older than it.
 */
export type EventPosition = { kind: 'top' } | { kind: 'below'; index: number } | { kind: 'within'; index: number; end: number };

const badCursor = (why: string) => new EvidentError('INVALID_ARGUMENT', 'invalid cursor', { details: [{ path: 'cursor', message: why }] });

const wholeNumber = (s: string) => (/^[1-9]\d{0,14}$/.test(s) ? Number(s) : null);

export function parseEventCursor(cursor: string | null): EventPosition {
  if (cursor === null) return { kind: 'top' };
  const [a, b] = decodeCursor(cursor);
  const index = wholeNumber(a);
  if (index === null) throw badCursor('not a cursor this server issued (no snapshot number)');
  if (b === '') return { kind: 'below', index };
  const end = wholeNumber(b);
  if (end === null) throw badCursor('not a cursor this server issued (no event position)');
  return { kind: 'within', index, end };
}

export const belowCursor = (index: number) => encodeCursor([String(index), '']);
const withinCursor = (index: number, end: number) => encodeCursor([String(index), String(end)]);

/** What the paging reads: snapshots by index, newest first, with their running sets. */
export interface SnapshotSource {
  /** Up to `count` snapshots with index <= `top` (the newest when null), newest first, with their running sets. */
  read(top: number | null, count: number): Promise<{ snapshot: SnapshotRecord; running: RunningArtifact[] }[]>;
}

export interface PlannedPage {
  /** The page's snapshots, oldest first, with the events of each shown on this page. */
  snapshots: { snapshot: SnapshotRecord; running: RunningArtifact[]; events: EnvironmentEvent[] }[];
  /** The snapshot before the page's oldest (its running set is what the oldest's events compare with). */
  previous?: { snapshot: SnapshotRecord; running: RunningArtifact[] };
  nextCursor: string | null;
}

/** Snapshots per read: grown to what the page still has room for, as far as the page so far tells. */
const MIN_READ = 2;
const MAX_READ = 64;

/**
 * One page of at most `limit` events, newest page first (issue #21): whole snapshots, newest first, as long
 * as they fit; a snapshot with no changes (a policy attached or detached) counts as one, so a page also has at
 * most `limit` snapshots. A snapshot that alone has more than `limit` events is the one case a page splits:
 * it is shown `limit` events at a time from its last events back, each page alone, the cursor naming the
 * snapshot and how many of its events are left; the page that shows its first events goes on with the whole
 * snapshots before it that fit. Reads cost the page's snapshots, the one before them, and at most one short
 * read past the page, whatever the length of the history.
 */
export async function planEventPage(source: SnapshotSource, position: EventPosition, limit: number): Promise<PlannedPage> {
  const read = new Map<number, { snapshot: SnapshotRecord; running: RunningArtifact[] }>();
  const get = async (index: number, want: number) => {
    if (!read.has(index)) for (const s of await source.read(index, want)) read.set(s.snapshot.index, s);
    return read.get(index);
  };
  let next: number;
  if (position.kind === 'top') {
    const newest = await source.read(null, MIN_READ);
    for (const s of newest) read.set(s.snapshot.index, s);
    next = newest[0]?.snapshot.index ?? 0;
  } else next = position.kind === 'below' ? position.index - 1 : position.index;
  const taken: PlannedPage['snapshots'] = [];
  let used = 0;
  let want = MIN_READ;
  while (next >= 1 && used < limit) {
    const cur = await get(next, want);
    if (!cur) {
      if (position.kind !== 'top' && taken.length === 0) throw badCursor(`this environment has no snapshot #${next}`);
      break;
    }
    const before = next > 1 ? await get(next - 1, want) : undefined;
    let events = changes(before?.running ?? [], cur.running, cur.snapshot);
    if (position.kind === 'within' && taken.length === 0) {
      if (position.end >= events.length) throw badCursor(`snapshot #${next} has no events past ${events.length}`);
      events = events.slice(0, position.end);
    }
    const weight = Math.max(1, events.length);
    if (taken.length > 0 && used + weight > limit) break;
    if (weight > limit) {
      // Alone over the limit: its last `limit` events now, the ones before them on the next page.
      taken.push({ ...cur, events: events.slice(events.length - limit) });
      return { snapshots: taken, previous: before, nextCursor: withinCursor(next, events.length - limit) };
    }
    taken.unshift({ ...cur, events });
    used += weight;
    next -= 1;
    want = Math.min(MAX_READ, Math.max(MIN_READ, Math.ceil((limit - used) / (used / taken.length)) + 1));
  }
  const oldest = taken[0]?.snapshot.index ?? 0;
  return { snapshots: taken, previous: oldest > 1 ? read.get(oldest - 1) : undefined, nextCursor: next >= 1 && taken.length > 0 ? belowCursor(oldest) : null };
}
