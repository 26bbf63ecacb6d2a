// Plain SVG charts (no chart library): bars for counts, a line for durations. Each has a text
// alternative (a title and a table in the page), so the numbers do not live only in the picture.

const W = 720;
const H = 220;
const PAD = { left: 60, right: 12, top: 12, bottom: 36 };

export interface Point {
  label: string;
  value: number | null;
}

function ticks(max: number): number[] {
  if (max <= 0) return [0];
  const step = Math.pow(10, Math.floor(Math.log10(max)));
  const nice = max / step > 5 ? step * 2 : max / step > 2 ? step : step / 2;
  const out: number[] = [];
  for (let v = 0; v <= max + 1e-9; v += nice) out.push(v);
  return out;
}

/** Ticks for durations in seconds at round steps (minutes, hours, days), the last at or above max. */
export function timeTicks(max: number): number[] {
  const steps = [60, 300, 600, 1800, 3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400, 14 * 86400, 28 * 86400];
  const step = steps.find((s) => max / s <= 5) ?? Math.ceil(max / 5 / 86400) * 86400;
  const out: number[] = [];
  for (let v = 0; v < max + step; v += step) out.push(v);
  return out.length > 1 ? out : [0, step];
}

function Frame({ title, max, format, children, labels, tickValues }: { title: string; max: number; format: (v: number) => string; children: preact.ComponentChildren; labels: string[]; tickValues?: number[] }) {
  const y = (v: number) => PAD.top + (H - PAD.top - PAD.bottom) * (1 - v / (max || 1));
  const every = Math.max(1, Math.ceil(labels.length / 8));
  const bw = (W - PAD.left - PAD.right) / Math.max(1, labels.length);
  return (
    <svg class="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title}>
      <title>{title}</title>
      {(tickValues ?? ticks(max)).map((t) => (
        <g key={t}>
          <line class="axis" x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} stroke-opacity="0.2" />
          <text x={PAD.left - 6} y={y(t) + 4} text-anchor="end">{format(t)}</text>
        </g>
      ))}
      <line class="axis" x1={PAD.left} x2={W - PAD.right} y1={H - PAD.bottom} y2={H - PAD.bottom} />
      {labels.map((l, i) =>
        i % every === 0 ? (
          <g key={i}>
            <line class="axis" x1={PAD.left + bw * (i + 0.5)} x2={PAD.left + bw * (i + 0.5)} y1={H - PAD.bottom} y2={H - PAD.bottom + 4} />
            <text x={PAD.left + bw * (i + 0.5)} y={H - PAD.bottom + 16} text-anchor="middle">{l}</text>
          </g>
        ) : null,
      )}
      {children}
    </svg>
  );
}

export function BarChart({ title, points }: { title: string; points: Point[] }) {
  const max = Math.max(1, ...points.map((p) => p.value ?? 0));
  const bw = (W - PAD.left - PAD.right) / Math.max(1, points.length);
  const y = (v: number) => PAD.top + (H - PAD.top - PAD.bottom) * (1 - v / max);
  return (
    <Frame title={title} max={max} format={(v) => String(Math.round(v * 10) / 10)} labels={points.map((p) => p.label)}>
      {points.map((p, i) =>
        p.value ? (
          <rect key={i} class="bar" x={PAD.left + bw * i + bw * 0.15} width={bw * 0.7} y={y(p.value)} height={H - PAD.bottom - y(p.value)}>
            <title>{`${p.label}: ${p.value}`}</title>
          </rect>
        ) : null,
      )}
    </Frame>
  );
}

export function LineChart({ title, points, format }: { title: string; points: Point[]; format: (v: number) => string }) {
  const max = Math.max(1, ...points.map((p) => p.value ?? 0));
  const bw = (W - PAD.left - PAD.right) / Math.max(1, points.length);
  const y = (v: number) => PAD.top + (H - PAD.top - PAD.bottom) * (1 - v / max);
  const xy = points.map((p, i) => (p.value === null ? null : ([PAD.left + bw * (i + 0.5), y(p.value)] as const)));
  const path = xy.reduce((d, p, i) => (p ? `${d}${d && xy[i - 1] ? 'L' : 'M'}${p[0].toFixed(1)},${p[1].toFixed(1)}` : d), '');
  return (
    <Frame title={title} max={max} format={format} labels={points.map((p) => p.label)}>
      <path class="line" d={path} />
      {xy.map((p, i) => (p ? <circle key={i} cx={p[0]} cy={p[1]} r="3.5" fill="#bf3989"><title>{`${points[i]!.label}: ${format(points[i]!.value!)}`}</title></circle> : null))}
    </Frame>
  );
}

/** Distinguishable colours (Okabe–Ito and Tableau), in legend order; the last series is "other flows". */
export const PALETTE = ['#1f6feb', '#e69f00', '#009e73', '#cc79a7', '#d55e00', '#56b4e9', '#8c564b', '#7f3c8d', '#6e7781'];

export interface Series {
  name: string;
  color: string;
  values: number[];
}

/** Bars stacked by series (deployments per period, by flow); each segment has a title with its numbers. */
export function StackedBarChart({ title, labels, series }: { title: string; labels: string[]; series: Series[] }) {
  const totals = labels.map((_, i) => series.reduce((n, s) => n + (s.values[i] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const bw = (W - PAD.left - PAD.right) / Math.max(1, labels.length);
  const h = (v: number) => (H - PAD.top - PAD.bottom) * (v / max);
  return (
    <Frame title={title} max={max} format={(v) => String(Math.round(v * 10) / 10)} labels={labels}>
      {labels.map((label, i) => {
        let base = H - PAD.bottom;
        return (
          <g key={i}>
            {series.map((s) => {
              const v = s.values[i] ?? 0;
              if (!v) return null;
              base -= h(v);
              return (
                <rect key={s.name} class="seg" fill={s.color} x={PAD.left + bw * i + bw * 0.15} width={bw * 0.7} y={base} height={h(v)} data-series={s.name}>
                  <title>{`${label} · ${s.name}: ${v}`}</title>
                </rect>
              );
            })}
          </g>
        );
      })}
    </Frame>
  );
}

export interface Dot {
  /** Where on the x axis, 0 (start of the first period) to 1 (end of the last). */
  at: number;
  value: number;
  color: string;
  title: string;
}

/** A line of medians per period with a dot per single measurement (each deployment's lead time, coloured by flow). */
export function LineWithDots({ title, points, dots, format }: { title: string; points: Point[]; dots: Dot[]; format: (v: number) => string }) {
  const tickValues = timeTicks(Math.max(1, ...points.map((p) => p.value ?? 0), ...dots.map((d) => d.value)));
  const max = tickValues.at(-1)!;
  const bw = (W - PAD.left - PAD.right) / Math.max(1, points.length);
  const y = (v: number) => PAD.top + (H - PAD.top - PAD.bottom) * (1 - v / max);
  const xy = points.map((p, i) => (p.value === null ? null : ([PAD.left + bw * (i + 0.5), y(p.value)] as const)));
  // The medians joined across periods without deployments: the trend, not a measurement per day.
  const path = xy.reduce((d, p) => (p ? `${d}${d ? 'L' : 'M'}${p[0].toFixed(1)},${p[1].toFixed(1)}` : d), '');
  return (
    <Frame title={title} max={max} format={format} labels={points.map((p) => p.label)} tickValues={tickValues}>
      {dots.map((d, i) => (
        <circle key={`d${i}`} class="dot" cx={PAD.left + (W - PAD.left - PAD.right) * d.at} cy={y(d.value)} r="3" fill={d.color}>
          <title>{d.title}</title>
        </circle>
      ))}
      <path class="median" d={path} />
      {xy.map((p, i) => (p ? <rect key={i} class="median-mark" x={p[0] - 3.5} y={p[1] - 3.5} width="7" height="7"><title>{`median ${points[i]!.label}: ${format(points[i]!.value!)}`}</title></rect> : null))}
    </Frame>
  );
}

/** The key to a chart's colours; each entry a link (for example to filter by that flow). */
export function Legend({ label, items }: { label: string; items: { name: string; color: string; href?: string; note?: string }[] }) {
  return (
    <ul class="legend" aria-label={label}>
      {items.map((it) => (
        <li key={it.name}>
          <svg class="swatch" viewBox="0 0 10 10" aria-hidden="true"><rect width="10" height="10" rx="2" fill={it.color} /></svg>
          {it.href ? <a href={it.href}>{it.name}</a> : it.name}
          {it.note && <span class="muted small"> {it.note}</span>}
        </li>
      ))}
    </ul>
  );
}
