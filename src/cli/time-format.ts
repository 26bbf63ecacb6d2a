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

/** Times as the seed's `kosli get artifact` prints them: `Mon, 22 Aug 2022 11:35:00 CEST`, in local time. */
export function formatTime(iso: string, timeZone?: string): string {
  const d = new Date(iso);
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
