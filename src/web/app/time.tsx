// Times in the reader's own time zone, with how long ago; the exact UTC time is in the tooltip and the
// machine-readable attribute.
import { ago, when } from './format.js';

export function localTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function Time({ iso, relative = true }: { iso: string | null | undefined; relative?: boolean }) {
  if (!iso) return <span class="muted">—</span>;
  const rel = relative ? ago(iso) : '';
  return (
    <time dateTime={iso} title={when(iso)}>
      {localTime(iso)}
      {rel && <span class="muted"> ({rel})</span>}
    </time>
  );
}
