import type { Command } from 'commander';
import { EvidentError } from '../../core/index.js';
import type { environmentSchemas } from '../../client/index.js';
import { action, intFlag, type Ctx } from '../context.js';
import { kosliEnvironmentLog, shaped } from '../kosli-json.js';
import { collectRepo, repoMatcher } from '../repo-filter.js';

type EnvEvent = environmentSchemas.EnvironmentEvents['items'][number];

export interface LogEnvironmentOptions {
  pageLimit?: number;
  page?: number;
  start?: string;
  end?: string;
  startTs?: string;
  endTs?: string;
  repo?: string[];
  reverse?: boolean;
  interval?: string;
}

/** One end of a range: a snapshot number, or a moment (milliseconds since the epoch). */
export type Bound = { snapshot: number } | { time: number };

const UNITS: Record<string, number> = { s: 1e3, second: 1e3, m: 60e3, min: 60e3, minute: 60e3, h: 3600e3, hour: 3600e3, d: 86400e3, day: 86400e3, w: 604800e3, week: 604800e3 };

/**
 * Kosli's `log environment --start/--end`: a snapshot number (`5`), `~N` (N behind the latest), `NOW` (the latest),
 * a time ago (`1hour`, `30minutes`, `2d`, `1w`) or an ISO-8601 time. `latest` is the environment's latest snapshot.
 */
export function parseBound(flag: string, value: string, latest: number, now = Date.now()): Bound {
  const v = value.trim();
  if (/^now$/i.test(v)) return { snapshot: latest };
  if (/^\d{1,9}$/.test(v)) return { snapshot: Number(v) };
  const behind = /^~(\d{1,9})$/.exec(v);
  if (behind) return { snapshot: latest - Number(behind[1]) };
  const ago = /^(\d{1,6})\s*([a-z]+?)s?(\.ago)?$/i.exec(v);
  if (ago && UNITS[ago[2]!.toLowerCase()] !== undefined) return { time: now - Number(ago[1]) * UNITS[ago[2]!.toLowerCase()]! };
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(v) && !Number.isNaN(Date.parse(v))) return { time: Date.parse(v) };
  throw new EvidentError('INVALID_ARGUMENT', `${flag} ${JSON.stringify(value)}: give a snapshot number (5), ~N, NOW, a time ago (1hour, 2days, 30minutes) or an ISO-8601 time`);
}

/** `--start-ts/--end-ts`: Unix seconds, as Kosli prints its times. */
export function parseUnixSeconds(flag: string, value: string): Bound {
  if (!/^\d{1,12}(\.\d+)?$/.test(value.trim())) throw new EvidentError('INVALID_ARGUMENT', `${flag} ${JSON.stringify(value)}: give Unix seconds (e.g. 1735689600)`);
  return { time: Number(value) * 1000 };
}

/**
 * Kosli's `--interval`/`-i`: `[expr]..[expr]`, each of `~N`, `N` or `NOW` (or what --start accepts), either one
 * omitted meaning NOW; turned into --start/--end. A lone expression without `..` is refused rather than guessed.
 */
export function withInterval(opts: LogEnvironmentOptions): LogEnvironmentOptions {
  if (opts.interval === undefined) return opts;
  if (opts.start !== undefined || opts.end !== undefined || opts.startTs !== undefined || opts.endTs !== undefined) {
    throw new EvidentError('INVALID_ARGUMENT', 'give --interval or --start/--end/--start-ts/--end-ts, not both');
  }
  const parts = opts.interval.split('..');
  if (parts.length !== 2) {
    throw new EvidentError('INVALID_ARGUMENT', `--interval ${JSON.stringify(opts.interval)}: give two snapshot expressions joined by "..", each ~N, N or NOW, either omitted for NOW (e.g. ~5..NOW, 10..12, 3..)`);
  }
  const [from, to] = parts.map((p) => p.trim() || 'NOW') as [string, string];
  return { ...opts, interval: undefined, start: from, end: to };
}

const after = (e: EnvEvent, b: Bound) => ('snapshot' in b ? e.snapshot >= b.snapshot : Date.parse(e.timestamp) >= b.time);
const before = (e: EnvEvent, b: Bound) => ('snapshot' in b ? e.snapshot <= b.snapshot : Date.parse(e.timestamp) <= b.time);

/** The bounds given, if any; `latest` is the latest snapshot that has events. */
function bounds(opts: LogEnvironmentOptions, latest: number, now: number): { start?: Bound; end?: Bound } {
  if (opts.start !== undefined && opts.startTs !== undefined) throw new EvidentError('INVALID_ARGUMENT', 'give --start or --start-ts, not both');
  if (opts.end !== undefined && opts.endTs !== undefined) throw new EvidentError('INVALID_ARGUMENT', 'give --end or --end-ts, not both');
  const start = opts.start !== undefined ? parseBound('--start', opts.start, latest, now) : opts.startTs !== undefined ? parseUnixSeconds('--start-ts', opts.startTs) : undefined;
  const end = opts.end !== undefined ? parseBound('--end', opts.end, latest, now) : opts.endTs !== undefined ? parseUnixSeconds('--end-ts', opts.endTs) : undefined;
  // Kosli's intervals may name the later snapshot first (NOW..5): the range is the same.
  if (start && end && 'snapshot' in start && 'snapshot' in end && start.snapshot > end.snapshot) return { start: end, end: start };
  return { start, end };
}

/** The events between the bounds, both included; the bounds' flags are exclusive in pairs (`--start` or `--start-ts`). */
export function inRange(events: EnvEvent[], opts: LogEnvironmentOptions, now = Date.now()): EnvEvent[] {
  const { start, end } = bounds(opts, events.reduce((m, e) => Math.max(m, e.snapshot), 0), now);
  return events.filter((e) => (!start || after(e, start)) && (!end || before(e, end)));
}

/**
 * Events per request (the server pages by events, whole snapshots at a time: issue #21), and how far back the
 * log goes when nothing bounds it.
 */
const PAGE_EVENTS = 500;
const UNBOUNDED_EVENTS = 5000;

/**
 * The events the options can show, oldest first, read a page at a time from the newest back (issue #21: each
 * request costs one page, whatever the history): until --start is passed, else until the newest
 * page*page-limit events are in hand (without --repo, which filters later; then each request asks for no
 * more than that), else 5,000 events.
 */
export async function readEvents(ctx: Ctx, env: string, opts: LogEnvironmentOptions, now: number): Promise<EnvEvent[]> {
  const pages: EnvEvent[][] = [];
  let cursor: string | undefined;
  let events = 0;
  let latest = 0;
  const bounded = opts.start !== undefined || opts.startTs !== undefined;
  const wanted = opts.pageLimit !== undefined || opts.page !== undefined ? (opts.page ?? 1) * (opts.pageLimit ?? 15) : undefined;
  const limit = wanted !== undefined && !bounded && opts.repo === undefined ? Math.min(PAGE_EVENTS, wanted) : PAGE_EVENTS;
  for (;;) {
    const page = await ctx.client().environmentEvents(env, { cursor, limit });
    pages.unshift(page.items);
    events += page.items.length;
    if (latest === 0) latest = page.items.reduce((m, e) => Math.max(m, e.snapshot), 0);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
    if (bounded) {
      if (latest === 0) continue; // no event seen yet: ~N and NOW have nothing to count from
      const oldest = page.items[0];
      if (oldest && !after(oldest, bounds(opts, latest, now).start!)) break;
      continue;
    }
    if (wanted !== undefined && opts.repo === undefined && inRange(pages.flat(), opts, now).length >= wanted) break;
    if (events >= UNBOUNDED_EVENTS) break;
  }
  return pages.flat();
}

/** Kosli's --repo: the events of artifacts whose commit URL names the repository (looked up once per fingerprint). */
async function ofRepo(ctx: Ctx, events: EnvEvent[], repos: string[] | undefined): Promise<EnvEvent[]> {
  const matches = repoMatcher(repos);
  if (!matches) return events;
  const keep = new Map<string, boolean>();
  for (const fp of new Set(events.map((e) => e.fingerprint))) {
    const { items } = await ctx.client().search(fp);
    keep.set(fp, items.some((a) => a.fingerprint === fp && matches(a.commit_url)));
  }
  return events.filter((e) => keep.get(e.fingerprint));
}

export async function logEnvironment(given: LogEnvironmentOptions, ctx: Ctx, [env]: string[]): Promise<void> {
  const opts = withInterval(given);
  const now = Date.now();
  const all = await readEvents(ctx, env!, opts, now);
  const ranged = await ofRepo(ctx, inRange(all, opts, now), opts.repo);
  // Kosli pages the newest events first (15 a page by default when it is asked for a page).
  const paged = opts.pageLimit === undefined && opts.page === undefined ? ranged
    : [...ranged].reverse().slice(((opts.page ?? 1) - 1) * (opts.pageLimit ?? 15), (opts.page ?? 1) * (opts.pageLimit ?? 15)).reverse();
  // Kosli's --reverse turns the printed order round (the page chosen stays the same).
  const items = opts.reverse ? [...paged].reverse() : paged;
  ctx.printer.result(shaped(ctx, items, kosliEnvironmentLog), () =>
    ctx.printer.table(['SNAPSHOT', 'AT', 'EVENT', 'ARTIFACT', 'FINGERPRINT'], items.map((e) => [
      `#${e.snapshot}`, e.timestamp, e.type === 'scaled' ? `scaled ${e.previous_instances} -> ${e.instances}` : e.type, e.name, e.fingerprint.slice(0, 12),
    ])),
  );
}

export function registerLogEnvironment(log: Command): void {
  log.command('environment <env>').description('What started, exited or scaled in each snapshot of an environment (oldest first; Kosli\'s --output json: newest first)')
    .option('--page-limit <n>', 'the newest N events (Kosli)', intFlag('--page-limit', 1))
    .option('--page <n>', 'with --page-limit: which page of N, newest first (Kosli)', intFlag('--page', 1))
    .option('--start <from>', 'events from: a snapshot number, ~N, NOW, a time ago (1hour, 2days) or an ISO-8601 time (Kosli)')
    .option('--end <to>', 'events up to (included): same forms as --start (Kosli)')
    .option('--start-ts <unix>', 'events from this Unix time, in seconds (Kosli)')
    .option('--end-ts <unix>', 'events up to this Unix time, in seconds (Kosli)')
    .option('--interval <expr..expr>', 'events of the snapshots in this interval, both included: two of ~N, N, NOW joined by "..", either omitted for NOW (Kosli)')
    .option('--reverse', 'the other order: the table newest first, --output json oldest first (Kosli)')
    .option('--repo <owner/repo>', 'only events of artifacts built from this repository (named by their commit URL), repeatable (Kosli)', collectRepo)
    .addHelpText('after', '\nExamples:\n  evident log environment aws-prod --start 1hour --end NOW\n  evident log environment aws-prod --interval ~5..NOW')
    .action(action(logEnvironment));
}
