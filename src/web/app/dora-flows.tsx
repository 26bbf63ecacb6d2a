// The DORA page's per-flow view over time: deployments per period stacked by flow, each deployment's lead
// time as a dot coloured by its flow, one legend (links that filter by flow) and the numbers as a table.
import type { DoraReport } from './api.js';
import { Legend, LineWithDots, PALETTE, StackedBarChart, type Series } from './charts.js';
import { duration, when } from './format.js';
import { href } from './router.js';

/** The flows drawn in their own colour; the rest share one ("other flows"). */
const SHOWN = PALETTE.length - 1;
export const OTHER = 'other flows';

export function periodLabel(iso: string): string {
  return iso.slice(5, 10);
}

/** The chart's series: the busiest flows first, the others summed. */
export function flowSeries(r: DoraReport): Series[] {
  const totals = new Map<string, number>();
  for (const s of r.series) for (const [flow, n] of Object.entries(s.by_flow)) totals.set(flow, (totals.get(flow) ?? 0) + n);
  const flows = [...totals.entries()].filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([f]) => f);
  const shown = flows.length <= SHOWN + 1 ? flows : flows.slice(0, SHOWN);
  const rest = flows.slice(shown.length);
  const series: Series[] = shown.map((flow, i) => ({ name: flow, color: PALETTE[i]!, values: r.series.map((s) => s.by_flow[flow] ?? 0) }));
  if (rest.length > 0) series.push({ name: OTHER, color: PALETTE[SHOWN]!, values: r.series.map((s) => rest.reduce((n, f) => n + (s.by_flow[f] ?? 0), 0)) });
  return series;
}

function legendItems(r: DoraReport, series: Series[]) {
  return series.map((s) => ({
    name: s.name, color: s.color,
    href: s.name === OTHER ? undefined : href(['dora'], { environment: r.environment, flow: s.name, bucket: r.bucket === 'week' ? 'week' : undefined }),
    note: `(${s.values.reduce((a, b) => a + b, 0)})`,
  }));
}

export function DeploymentsByFlow({ r }: { r: DoraReport }) {
  const series = flowSeries(r);
  const labels = r.series.map((s) => periodLabel(s.start));
  const rows = r.series.map((s, i) => ({ s, i })).filter(({ s }) => s.deployments > 0);
  return (
    <>
      <StackedBarChart title={`Deployments to ${r.environment} per ${r.bucket}, by flow`} labels={labels} series={series} />
      <Legend label="Flows in the charts (follow one to see only it)" items={legendItems(r, series)} />
      <details class="data">
        <summary>The deployments per {r.bucket} and flow, as a table</summary>
        <div class="table-wrap">
          <table class="compact">
            <caption class="sr-only">Deployments to {r.environment} per {r.bucket} and flow</caption>
            <thead>
              <tr>
                <th scope="col">{r.bucket === 'week' ? 'Week of' : 'Day'}</th>
                {series.map((s) => <th key={s.name} scope="col">{s.name}</th>)}
                <th scope="col">Total</th>
                <th scope="col">Lead time median</th>
              </tr>
            </thead>
            <tbody>
              {rows.length === 0 && (
                <tr>
                  <td colSpan={series.length + 3} class="muted">No deployments in this period.</td>
                </tr>
              )}
              {rows.map(({ s, i }) => (
                <tr key={s.start}>
                  <th scope="row">{when(s.start).slice(0, 10)}</th>
                  {series.map((x) => <td key={x.name} class="num">{x.values[i] || ''}</td>)}
                  <td class="num">{s.deployments}</td>
                  <td>{duration(s.lead_time_median_seconds)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </>
  );
}

export function LeadTimeByFlow({ r }: { r: DoraReport }) {
  const series = flowSeries(r);
  const colour = new Map(series.map((s) => [s.name, s.color]));
  // Each period is one column wide (the first and last may be partial): place a dot within its period.
  const n = Math.max(1, r.series.length);
  const at = (iso: string) => {
    const t = Date.parse(iso);
    const i = r.series.findIndex((s) => t >= Date.parse(s.start) && t < Date.parse(s.end));
    if (i < 0) return t < Date.parse(r.since) ? 0 : 1;
    const s = r.series[i]!;
    return (i + (t - Date.parse(s.start)) / Math.max(1, Date.parse(s.end) - Date.parse(s.start))) / n;
  };
  const dots = r.deployments
    .filter((d) => d.lead_time_seconds !== null)
    .map((d) => ({
      at: at(d.deployed_at),
      value: d.lead_time_seconds!,
      color: colour.get(d.flow ?? '') ?? PALETTE[SHOWN]!,
      title: `${d.flow ?? 'unknown flow'} ${d.artifact}, deployed ${when(d.deployed_at)}: ${duration(d.lead_time_seconds)}`,
    }));
  return (
    <>
      <LineWithDots
        title={`Lead time, commit to ${r.environment}: the median per ${r.bucket} (line) and each deployment (dots, coloured by flow)`}
        points={r.series.map((s) => ({ label: periodLabel(s.start), value: s.lead_time_median_seconds }))}
        dots={dots}
        format={(v) => duration(v)}
      />
      <p class="small muted">A dot per deployment, in its flow's colour (as in the legend above); the dashed line joins the medians per {r.bucket} (squares).</p>
    </>
  );
}
