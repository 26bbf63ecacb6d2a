// Deployments per environment as swimlanes (issue 18, "a deployment timeline per environment: which version
// of each flow ran when, with non-compliant spans marked"): one lane per image, one bar per version from the
// snapshot it started in to the one it left in (or now), each bar cut into spans by its verdict in each
// snapshot. Drawn from the same page as the Log tab (GET …/environments/E/events): its events and its
// snapshots' verdicts, which the server derived as `get snapshot E#N` does, from rows checked against the
// log — nothing is judged here. Hand-drawn SVG like charts.tsx.
import { useEffect, useRef } from 'preact/hooks';
import type { EnvironmentEvents } from './api.js';
import { PALETTE } from './charts.js';
import { localTime } from './time.js';
import { href } from './router.js';

type Event = EnvironmentEvents['items'][number];
type SnapshotVerdicts = NonNullable<EnvironmentEvents['snapshots']>[number];

/** What a span of a bar was judged: `unknown` when the server sent no verdicts (an older server). */
export type Verdict = 'compliant' | 'non-compliant' | 'allowed' | 'no-policy' | 'unknown';

export interface Span {
  verdict: Verdict;
  /** The snapshot the span starts in, and its time. */
  from: number;
  start: string;
  /** Where the next span (or the run) starts; null: still so at the newest snapshot. */
  end: string | null;
}

export interface Bar {
  lane: string;
  name: string;
  fingerprint: string;
  start: string;
  /** null: still running at the newest snapshot. */
  end: string | null;
  /** The snapshot it started in (the page's first when clipped) and the one it left in. */
  from: number;
  until: number | null;
  /** True when its start is older than the events shown (it began before them). */
  clipped: boolean;
  spans: Span[];
}

/** The image's name without registry, tag or digest: what stays the same from one version to the next. */
export const laneOf = (name: string) => (name.split('/').pop() ?? name).replace(/@.*$/, '').replace(/:.*$/, '');
const tagOf = (name: string) => (name.split('/').pop() ?? name).replace(/^[^:@]*[:@]?/, '') || name;

/** An artifact's verdict in one snapshot, from the page's list (see EnvironmentEvents.snapshots). */
export function verdictIn(s: SnapshotVerdicts | undefined, fingerprint: string): Verdict {
  if (!s) return 'unknown';
  if (s.policies.length === 0) return 'no-policy';
  if (s.non_compliant.includes(fingerprint)) return 'non-compliant';
  return s.allowed.includes(fingerprint) ? 'allowed' : 'compliant';
}

/** A bar's spans: consecutive snapshots it ran in with the same verdict merged into one. */
function spansOf(bar: Omit<Bar, 'spans'>, snapshots: readonly SnapshotVerdicts[]): Span[] {
  const spans: Span[] = [];
  const within = snapshots.filter((s) => s.index >= bar.from && (bar.until === null || s.index < bar.until));
  for (const s of within) {
    const verdict = verdictIn(s, bar.fingerprint);
    const last = spans[spans.length - 1];
    if (last && last.verdict === verdict) continue;
    if (last) last.end = s.timestamp;
    spans.push({ verdict, from: s.index, start: spans.length === 0 ? bar.start : s.timestamp, end: null });
  }
  if (spans.length === 0) spans.push({ verdict: 'unknown', from: bar.from, start: bar.start, end: null });
  spans[spans.length - 1]!.end = bar.end;
  return spans;
}

/** The bars, from the events oldest first: a start opens one, an exit closes it; scaling keeps it. */
export function barsOf(events: Event[], snapshots: readonly SnapshotVerdicts[] = []): Bar[] {
  const sorted = [...events].sort((a, b) => a.snapshot - b.snapshot);
  const first = snapshots[0] ?? (sorted[0] && { index: sorted[0].snapshot, timestamp: sorted[0].timestamp });
  const open = new Map<string, Omit<Bar, 'spans'>>();
  const bars: Omit<Bar, 'spans'>[] = [];
  for (const e of sorted) {
    if (e.type === 'started') {
      const bar = { lane: laneOf(e.name), name: e.name, fingerprint: e.fingerprint, start: e.timestamp, end: null, from: e.snapshot, until: null, clipped: false };
      open.set(e.fingerprint, bar);
      bars.push(bar);
    } else if (e.type === 'exited') {
      const bar = open.get(e.fingerprint);
      if (bar) Object.assign(bar, { end: e.timestamp, until: e.snapshot });
      else bars.push({ lane: laneOf(e.name), name: e.name, fingerprint: e.fingerprint, start: first?.timestamp ?? e.timestamp, end: e.timestamp, from: first?.index ?? e.snapshot, until: e.snapshot, clipped: true });
      open.delete(e.fingerprint);
    }
  }
  return bars.map((b) => ({ ...b, spans: spansOf(b, snapshots) }));
}

/** How each verdict is drawn and said; colour is never the only cue (a pattern, and the words in the list). */
export const VERDICT_LABEL: Record<Verdict, string> = {
  compliant: 'compliant', 'non-compliant': 'non-compliant', allowed: 'allowed by an exemption', 'no-policy': 'no policy: compliance unknown', unknown: 'not judged',
};
const BADGE: Record<Verdict, string> = { compliant: 'ok', 'non-compliant': 'bad', allowed: 'warn', 'no-policy': 'none', unknown: 'none' };

const LANE = 26;
const LABEL = 150;
const WIDTH = 900;

/** The fill of a span: the version's colour when judged compliant (or allowed), patterns otherwise. */
function SpanRect({ s, x1, x2, y, colour, running }: { s: Span; x1: number; x2: number; y: number; colour: string; running: boolean }) {
  const w = Math.max(3, x2 - x1);
  const cls = `bar v-${s.verdict}${running ? ' running' : ''}`;
  const fill = s.verdict === 'non-compliant' ? 'url(#swim-hatch)' : s.verdict === 'no-policy' || s.verdict === 'unknown' ? 'url(#swim-unknown)' : colour;
  return (
    <rect x={x1} y={y + 4} width={w} height={LANE - 8} rx={3} fill={fill} class={cls} style={s.verdict === 'no-policy' || s.verdict === 'unknown' ? { color: colour } : undefined}>
      <title>{VERDICT_LABEL[s.verdict]} from {localTime(s.start)}</title>
    </rect>
  );
}

function Swatch({ verdict }: { verdict: Verdict }) {
  const fill = verdict === 'non-compliant' ? 'url(#swim-hatch)' : verdict === 'no-policy' ? 'url(#swim-unknown)' : PALETTE[0];
  return (
    <svg width="28" height="14" aria-hidden="true" focusable="false" style={{ color: PALETTE[0] }}>
      <rect x="1" y="1" width="26" height="12" rx="3" fill={fill} class={`bar v-${verdict}`} />
    </svg>
  );
}

/** The hatch (non-compliant) and the faded dots (no policy), shared by the swimlanes and the legend. */
function Patterns() {
  return (
    <svg width="0" height="0" aria-hidden="true" focusable="false" style={{ position: 'absolute' }}>
      <defs>
        <pattern id="swim-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
          <rect width="6" height="6" class="hatch-bg" />
          <line x1="0" y1="0" x2="0" y2="6" class="hatch-line" stroke-width="3" />
        </pattern>
        <pattern id="swim-unknown" width="6" height="6" patternUnits="userSpaceOnUse">
          <rect width="6" height="6" fill="currentColor" opacity="0.3" />
          <circle cx="3" cy="3" r="1" class="unknown-dot" />
        </pattern>
      </defs>
    </svg>
  );
}

/** The swimlanes with their legend; a list of the same runs and spans for screen readers and for reading. */
export function Swimlanes({ env, events, snapshots }: { env: string; events: Event[]; snapshots?: readonly SnapshotVerdicts[] }) {
  const bars = barsOf(events, snapshots ?? []);
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
  const judged = snapshots !== undefined;
  const bad = bars.filter((b) => b.spans.some((s) => s.verdict === 'non-compliant')).length;
  return (
    <figure class="swimlanes">
      <Patterns />
      <figcaption>
        Which version of each image ran in {env} when ({bars.length} runs; a bar runs from the snapshot it started in to the one it left in
        {judged ? <>; {bad} with a non-compliant span</> : null})
      </figcaption>
      {judged && (
        <ul class="swim-legend" aria-label="Legend">
          {(['compliant', 'non-compliant', 'allowed', 'no-policy'] as const).map((v) => <li key={v}><Swatch verdict={v} /> {VERDICT_LABEL[v]}</li>)}
          <li><svg width="28" height="14" aria-hidden="true" focusable="false"><rect x="1" y="1" width="26" height="12" rx="3" fill="none" class="legend-running" /></svg> outlined: still running</li>
        </ul>
      )}
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
            const colour = PALETTE[versions.indexOf(b) % (PALETTE.length - 1)]!;
            const x1 = x(b.start);
            const w = Math.max(3, x(b.end) - x1);
            return (
              <g key={`${b.fingerprint}-${b.start}`} class="run">
                {b.spans.map((s) => <SpanRect key={s.from} s={s} x1={x(s.start)} x2={x(s.end)} y={lane * LANE} colour={colour} running={false} />)}
                {!b.end && <rect x={x1} y={lane * LANE + 4} width={w} height={LANE - 8} rx={3} fill="none" class="bar running" />}
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
        <summary>The runs as a list{bad > 0 ? ` (${bad} non-compliant)` : ''}</summary>
        <ul class="swim-list" aria-label={`Runs in ${env}`}>
          {bars.map((b) => (
            <li key={`${b.fingerprint}-${b.start}`} class={b.spans.some((s) => s.verdict === 'non-compliant') ? 'has-bad' : undefined}>
              <a href={href(['artifacts', b.fingerprint])}>{b.lane} {tagOf(b.name)}</a>: {b.clipped ? 'before ' : 'from '}{localTime(b.start)}{' '}
              {b.end ? <>to {localTime(b.end)}</> : <strong>still running</strong>}
              {judged && (
                <>
                  {' — '}
                  {b.spans.map((s, i) => (
                    <span key={s.from} class="span-verdict">
                      {i > 0 && '; then '}
                      <span class={`badge ${BADGE[s.verdict]}`}>{VERDICT_LABEL[s.verdict]}</span>
                      {b.spans.length > 1 && <> from <a href={href(['snapshots', `${env}#${s.from}`])}>{env}#{s.from}</a></>}
                    </span>
                  ))}
                </>
              )}
            </li>
          ))}
        </ul>
      </details>
    </figure>
  );
}
