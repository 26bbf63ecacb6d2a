// Small, pure presentation helpers shared by the pages.

/** "2024-03-01 09:00:00Z" — ISO without milliseconds, readable and sortable. */
export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

/** "3 hours ago", relative to now. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '';
  const s = Math.round((now - new Date(iso).getTime()) / 1000);
  if (!Number.isFinite(s)) return '';
  const units: [number, string][] = [[86400 * 365, 'year'], [86400 * 30, 'month'], [86400, 'day'], [3600, 'hour'], [60, 'minute']];
  for (const [size, name] of units) {
    const n = Math.floor(Math.abs(s) / size);
    if (n >= 1) return s >= 0 ? `${n} ${name}${n > 1 ? 's' : ''} ago` : `in ${n} ${name}${n > 1 ? 's' : ''}`;
  }
  return 'just now';
}

/** A duration in seconds as "1 h 5 min", "3 d 4 h" or "42 s". */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  const pair = (big: number, bigUnit: string, small: number, smallUnit: string) => (small ? `${big} ${bigUnit} ${small} ${smallUnit}` : `${big} ${bigUnit}`);
  if (s < 86400) return pair(Math.floor(s / 3600), 'h', Math.floor((s % 3600) / 60), 'min');
  return pair(Math.floor(s / 86400), 'd', Math.floor((s % 86400) / 3600), 'h');
}

/** Text with image names in it, without their registries ("…amazonaws.com/saver:6e191a0" → "saver:6e191a0"). */
export function withoutRegistries(text: string): string {
  return text.replace(/(^|[\s(])(?:[a-z0-9-]+\.)+[a-z0-9-]+(?::\d+)?\//gi, '$1');
}

export function short(fingerprint: string | null | undefined, n = 12): string {
  return fingerprint ? fingerprint.slice(0, n) : '—';
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** Quotes an argument for a POSIX shell when it needs it, so a shown CLI command can be pasted. */
export function shellArg(s: string): string {
  return /^[A-Za-z0-9@%+=:,./_#~-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** An http(s) URL to put in an href, else null: reported URLs are attacker text, and `javascript:` must never be a link. */
export function safeHref(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
}
