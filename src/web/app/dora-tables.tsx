// The DORA page's two tables (per flow; each deployment), sortable by every column (issue 18), with the
// phone's sort control above each, as the other sortable tables have.
import type { DoraReport } from './api.js';
import { ArtifactName, Empty } from './components.js';
import { duration, short } from './format.js';
import { href } from './router.js';
import { useSort } from './sort.js';
import { Time } from './time.js';

export function pct(rate: number | null): string {
  return rate === null ? '—' : `${Math.round(rate * 1000) / 10}%`;
}

export function DoraFlowTable({ r }: { r: DoraReport }) {
  const sorted = useSort(r.flows, {
    flow: (f) => f.flow, deployments: (f) => f.deployments, perDay: (f) => f.deployments_per_day, median: (f) => f.lead_time_seconds.median,
    p90: (f) => f.lead_time_seconds.p90, cfr: (f) => f.change_failure_rate.rate,
  }, { flow: 'Flow', deployments: 'Deployments', perDay: 'Per day', median: 'Lead time median', p90: 'Lead time p90', cfr: 'Change failure rate' }, 'flows');
  if (r.flows.length === 0) return <Empty>No deployments in this period.</Empty>;
  return (
    <>
      {sorted.control}
      <div class="table-wrap">
        <table>
          <caption class="sr-only">DORA figures per flow</caption>
          <thead>
            <tr>
              {sorted.header('flow', 'Flow')}
              {sorted.header('deployments', 'Deployments')}
              {sorted.header('perDay', 'Per day')}
              {sorted.header('median', 'Lead time median')}
              {sorted.header('p90', 'Lead time p90')}
              {sorted.header('cfr', 'Change failure rate')}
            </tr>
          </thead>
          <tbody>
            {sorted.rows.map((f) => (
              <tr key={f.flow}>
                <th scope="row"><a href={href(['dora'], { environment: r.environment, flow: f.flow })}>{f.flow}</a></th>
                <td class="num">{f.deployments}</td>
                <td class="num">{f.deployments_per_day.toFixed(2)}</td>
                <td>{duration(f.lead_time_seconds.median)}</td>
                <td>{duration(f.lead_time_seconds.p90)}</td>
                <td>{pct(f.change_failure_rate.rate)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

export function DoraDeployments({ r }: { r: DoraReport }) {
  const sorted = useSort(r.deployments, {
    deployed: (d) => d.deployed_at, flow: (d) => d.flow, artifact: (d) => d.artifact, commit: (d) => d.git_commit, lead: (d) => d.lead_time_seconds,
    compliant: (d) => (d.compliant === null ? null : d.compliant ? 1 : 0),
  }, { deployed: 'Deployed', flow: 'Flow', artifact: 'Artifact', commit: 'Commit', lead: 'Lead time', compliant: 'Compliant (no first)' }, 'deployments');
  if (r.deployments.length === 0) return <Empty>None.</Empty>;
  return (
    <>
      {sorted.control}
      <div class="table-wrap">
        <table class="compact">
          <caption class="sr-only">Deployments in the period</caption>
          <thead>
            <tr>
              {sorted.header('deployed', 'Deployed')}
              {sorted.header('flow', 'Flow')}
              {sorted.header('artifact', 'Artifact')}
              {sorted.header('commit', 'Commit')}
              {sorted.header('lead', 'Lead time')}
              {sorted.header('compliant', 'Compliant')}
            </tr>
          </thead>
          <tbody>
            {sorted.rows.slice(0, 500).map((d) => (
              <tr key={`${d.snapshot}-${d.fingerprint}`}>
                <td><a href={href(['snapshots', `${r.environment}#${d.snapshot}`])}><Time iso={d.deployed_at} relative={false} /></a></td>
                <th scope="row">{d.flow ?? <span class="muted">unknown</span>}</th>
                <td><a href={href(['artifacts', d.flow ? `${d.flow}@${d.fingerprint}` : d.fingerprint])}><ArtifactName name={d.artifact} /></a></td>
                <td><code>{short(d.git_commit, 10)}</code></td>
                <td>{duration(d.lead_time_seconds)}</td>
                <td>{d.compliant === null ? '—' : d.compliant ? 'yes' : 'no'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {r.deployments.length > 500 && <p class="muted">The first 500 of {r.deployments.length} (as sorted) are shown; the CLI prints all.</p>}
      {r.deployments.length < r.overall.deployments && r.deployments.length <= 500 && (
        <p class="muted">The newest {r.deployments.length} of {r.overall.deployments} deployments are listed; the figures above count them all (`evident metrics dora --output json --cursor …` pages through the rest).</p>
      )}
    </>
  );
}
