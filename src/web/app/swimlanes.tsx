// Deployments per environment as swimlanes (issue 18, "a deployment timeline per environment: which version
// of each flow ran when"): one lane per image, one bar per version from the snapshot it started in to the
// one it left in (or now). Drawn from the same events as the Log tab (GET …/environments/E/events), so it
// shows what the server checked against the log, nothing more; hand-drawn SVG like charts.tsx.
import { useEffect, useRef } from 'preact/hooks';
import type { EnvironmentEvents } from './api.js';
import { PALETTE } from './charts.js';
import { localTime } from './time.js';
import { href } from './router.js';

type Event = EnvironmentEvents['items'][number];

export interface Bar {
  lane: string;
  name: string;
  fingerprint: string;
  start: string;
  /** null: still running at the newest snapshot. */
  end: string | null;
  /** True when its start is older than the events shown (it began before them). */
  clipped: boolean;
}

/** The image's name without registry, tag or digest: what stays the same from one version to the next. */
export const laneOf = (name: string) => (name.split('/').pop() ?? name).replace(/@.*$/, '').replace(/:.*$/, '');
const tagOf = (name: string) => (name.split('/').pop() ?? name).replace(/^[^:@]*[:@]?/, '') || name;

/** The bars, from the events oldest first: a start opens one, an exit closes it; scaling keeps it. */
export function barsOf(events: Event[]): Bar[] {
  const sorted = [...events].sort((a, b) => a.snapshot - b.snapshot);
  const first = sorted[0]?.timestamp ?? '';
  const open = new Map<string, Bar>();
  const bars: Bar[] = [];
  for (const e of sorted) {
    if (e.type === 'started') {
      const bar: Bar = { lane: laneOf(e.name), name: e.name, fingerprint: e.fingerprint, start: e.timestamp, end: null, clipped: false };
      open.set(e.fingerprint, bar);
      bars.push(bar);
    } else if (e.type === 'exited') {
      const bar = open.get(e.fingerprint);
      if (bar) bar.end = e.timestamp;
      else bars.push({ lane: laneOf(e.name), name: e.name, fingerprint: e.fingerprint, start: first, end: e.timestamp, clipped: true });
      open.delete(e.fingerprint);
    }
  }
  return bars;
}

const LANE = 26;
const LABEL = 150;
const WIDTH = 900;

/** The swimlanes; a list of the same bars for screen readers and for people who would rather read. */
export function Swimlanes({ env, events }: { env: string; events: Event[] }) {
  const bars = barsOf(events);
  const scroller = useRef<HTMLDivElement>(null);
  // Newest at the right: a narrow screen starts scrolled there, at what runs now.
  useEffect(() => {
    if (scroller.current) scroller.current.scrollLeft = scroller.current.scrollWidth;
  }, [bars.length]);
  if (bars.length === 0) return null;
  const lanes = [...new Set(bars.map((b) => b.lane))].sort((a, b) => a.localeCompare(b));
  const now = Date.now();
  const t0 = Math.min(...bars.map((b) => Date.parse(b.start)));
  const t1 = Math.max(now, ...bars.map((b) => Date.parse(b.end ?? b.start)));
  const x = (iso: string | null) => LABEL + ((iso ? Date.parse(iso) : now) - t0) / Math.max(1, t1 - t0) * (WIDTH - LABEL - 10);
  const height = lanes.length * LANE + 24;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => new Date(t0 + f * (t1 - t0)).toISOString());
  return (
    <figure class="swimlanes">
      <figcaption>Which version of each image ran in {env} when ({bars.length} runs; a bar runs from the snapshot it started in to the one it left in)</figcaption>
      <div class="swim-scroll" ref={scroller} tabIndex={0} role="group" aria-label={`Deployment timeline of ${env}, scrollable`}>
        <svg viewBox={`0 0 ${WIDTH} ${height}`} width={WIDTH} height={height} aria-hidden="true" focusable="false">
          {lanes.map((lane, i) => (
            <g key={lane}>
              <rect x={0} y={i * LANE} width={WIDTH} height={LANE} class={i % 2 ? 'lane odd' : 'lane'} />
              <text x={6} y={i * LANE + LANE / 2 + 4} class="lane-label">{lane.length > 20 ? `${lane.slice(0, 19)}…` : lane}</text>
            </g>
          ))}
          {bars.map((b) => {
            const lane = lanes.indexOf(b.lane);
            const versions = bars.filter((o) => o.lane === b.lane);
            const colour = PALETTE[versions.indexOf(b) % (PALETTE.length - 1)];
            const x1 = x(b.start);
            const w = Math.max(3, x(b.end) - x1);
            return (
              <g key={`${b.fingerprint}-${b.start}`}>
                <rect x={x1} y={lane * LANE + 4} width={w} height={LANE - 8} rx={3} fill={colour} class={b.end ? 'bar' : 'bar running'} />
                {w > 60 && <text x={x1 + 4} y={lane * LANE + LANE / 2 + 4} class="bar-label">{tagOf(b.name).slice(0, Math.floor(w / 7))}</text>}
              </g>
            );
          })}
          {ticks.map((t, i) => (
            <text key={t} x={LABEL + i * 0.25 * (WIDTH - LABEL - 10)} y={height - 6} class="tick" text-anchor={i === 0 ? 'start' : i === 4 ? 'end' : 'middle'}>
              {localTime(t).replace(/, \d{4}/, '')}
            </text>
          ))}
        </svg>
      </div>
      <details>
        <summary>The runs as a list</summary>
        <ul class="swim-list" aria-label={`Runs in ${env}`}>
          {bars.map((b) => (
            <li key={`${b.fingerprint}-${b.start}`}>
              <a href={href(['artifacts', b.fingerprint])}>{b.lane} {tagOf(b.name)}</a>: {b.clipped ? 'before ' : 'from '}{localTime(b.start)}{' '}
              {b.end ? <>to {localTime(b.end)}</> : <strong>still running</strong>}
            </li>
          ))}
        </ul>
      </details>
    </figure>
  );
}
