// Plain SVG charts (no chart library): bars for counts, a line for durations. Each has a text
// alternative (a title and a table in the page), so the numbers do not live only in the picture.

const W = 720;
const H = 220;
const PAD = { left: 48, right: 12, top: 12, bottom: 36 };

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

function Frame({ title, max, format, children, labels }: { title: string; max: number; format: (v: number) => string; children: preact.ComponentChildren; labels: string[] }) {
  const y = (v: number) => PAD.top + (H - PAD.top - PAD.bottom) * (1 - v / (max || 1));
  const every = Math.max(1, Math.ceil(labels.length / 8));
  const bw = (W - PAD.left - PAD.right) / Math.max(1, labels.length);
  return (
    <svg class="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title}>
      <title>{title}</title>
      {ticks(max).map((t) => (
        <g key={t}>
          <line class="axis" x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} stroke-opacity="0.2" />
          <text x={PAD.left - 6} y={y(t) + 4} text-anchor="end">{format(t)}</text>
        </g>
      ))}
      <line class="axis" x1={PAD.left} x2={W - PAD.right} y1={H - PAD.bottom} y2={H - PAD.bottom} />
      {labels.map((l, i) => (i % every === 0 ? <text key={i} x={PAD.left + bw * (i + 0.5)} y={H - PAD.bottom + 16} text-anchor="middle">{l}</text> : null))}
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
