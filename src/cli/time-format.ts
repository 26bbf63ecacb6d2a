// One formatter per time zone: constructing an Intl.DateTimeFormat costs ~1–3 ms (ICU), which a table of a
// hundred rows paid per cell (issue #21: ~25 ms of `evident list flows`).
// Keyed by TZ too: a process that changes TZ (a test) gets a formatter in the new local zone.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string | undefined): Intl.DateTimeFormat {
  const key = `${timeZone ?? ''}\0${process.env.TZ ?? ''}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      weekday: 'short', day: '2-digit', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
      hourCycle: 'h23', timeZoneName: 'short', timeZone,
    });
    formatters.set(key, f);
  }
  return f;
}

// In UTC the formatter is not needed, and not built: the first Intl.DateTimeFormat of a process loads ICU's
// locale data, ~14 ms of CPU on Node 20 (issue #21: a fifth of `evident get artifact`'s start-up), and CI
// machines and containers mostly run in UTC. The names are en-GB's as ICU gives them (`Sept`); the test
// checks this path against the formatter's output.
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sept', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');

/** Whether local time is UTC (TZ=UTC, Etc/UTC ... or a system set so), from Date's own zone name: no ICU formatter. */
function localIsUtc(): boolean {
  return new Date(0).toString().endsWith(' (Coordinated Universal Time)');
}

/** Times as the seed's `kosli get artifact` prints them: `Mon, 22 Aug 2022 11:35:00 CEST`, in local time. */
export function formatTime(iso: string, timeZone?: string): string {
  const d = new Date(iso);
  if (!Number.isNaN(d.getTime()) && (timeZone === undefined ? localIsUtc() : timeZone === 'UTC')) {
    return `${WEEKDAYS[d.getUTCDay()]}, ${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} UTC`;
  }
  const parts = Object.fromEntries(formatter(timeZone).formatToParts(d).map((p) => [p.type, p.value]));
  return `${parts.weekday}, ${parts.day} ${parts.month} ${parts.year} ${parts.hour}:${parts.minute}:${parts.second} ${parts.timeZoneName}`;
}

/** `15 days ago`, `3 hours ago`, `just now`. */
export function ago(iso: string, now = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000));
  const units: [number, string][] = [[86400 * 365, 'year'], [86400 * 30, 'month'], [86400, 'day'], [3600, 'hour'], [60, 'minute']];
  for (const [size, name] of units) {
    const n = Math.floor(seconds / size);
    if (n >= 1) return `${n} ${name}${n === 1 ? '' : 's'} ago`;
  }
  return 'just now';
}
