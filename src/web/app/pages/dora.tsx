import { useEffect, useState } from 'preact/hooks';
import { ApiError, type DoraReport, type Environment } from '../api.js';
import { Async, CliCommand, Empty, ErrorMessage, PageTitle, useApi, useAsync } from '../components.js';
import { DeploymentsByFlow, LeadTimeByFlow } from '../dora-flows.js';
import { DoraDeployments, DoraFlowTable, pct } from '../dora-tables.js';
import { duration, shellArg, when } from '../format.js';
import { href, navigate } from '../router.js';

type Figures = DoraReport['overall'];


function FigureCards({ f }: { f: Figures }) {
  return (
    <div class="figures">
      <div class="figure"><span class="small muted">Deployments</span><strong>{f.deployments}</strong><span class="small">{f.deployments_per_day.toFixed(2)} a day</span></div>
      <div class="figure"><span class="small muted">Lead time (median)</span><strong>{duration(f.lead_time_seconds.median)}</strong><span class="small">p90 {duration(f.lead_time_seconds.p90)} · {f.lead_time_seconds.count} measured{f.lead_time_seconds.invalid ? ` · ${f.lead_time_seconds.invalid} invalid` : ''}</span></div>
      <div class="figure"><span class="small muted">Change failure rate</span><strong>{pct(f.change_failure_rate.rate)}</strong><span class="small">{f.change_failure_rate.non_compliant} non-compliant of {f.change_failure_rate.judged}</span></div>
      {f.time_to_restore_seconds && (
        <div class="figure" title="From each deployment that started non-compliant to the next deployment of the same flow that started compliant">
          <span class="small muted">Time to restore (median)</span><strong>{f.time_to_restore_seconds.count > 0 ? duration(f.time_to_restore_seconds.median) : '–'}</strong>
          <span class="small">{f.time_to_restore_seconds.count} restored{f.time_to_restore_seconds.unrestored ? ` · ${f.time_to_restore_seconds.unrestored} not yet` : ''}</span>
        </div>
      )}
    </div>
  );
}

function Report({ r }: { r: DoraReport }) {
  return (
    <>
      <p class="small">{r.environment}, {when(r.since)} to {when(r.until)}, by {r.bucket}.</p>
      <FigureCards f={r.overall} />
      <h2>Deployment frequency</h2>
      <DeploymentsByFlow r={r} />
      <h2>Lead time for changes</h2>
      <LeadTimeByFlow r={r} />
      <h2>By flow</h2>
      <DoraFlowTable r={r} />
      <h2>Deployments</h2>
      <DoraDeployments r={r} />
    </>
  );
}

function Metrics({ q }: { q: { environment: string; since?: string; until?: string; flow?: string; bucket?: 'day' | 'week' } }) {
  const { api } = useApi();
  const state = useAsync(() => api.dora(q), [api, q.environment, q.since, q.until, q.flow, q.bucket], (e) => e.type === 'snapshot.created' && e.environment === q.environment);
  // The server's 404 for a route it does not have says "no route …"; an unknown environment is another 404.
  if (state.error instanceof ApiError && state.error.status === 404 && state.error.message.startsWith('no route ')) {
    return <p class="empty" role="status">This server has no DORA metrics yet.</p>;
  }
  if (state.error !== undefined) return <ErrorMessage error={state.error} />;
  return <Async state={state}>{(r) => <Report r={r} />}</Async>;
}

/** The UTC date `days` before today (YYYY-MM-DD), a period's start. */
function daysAgo(days: number): string {
  return new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);
}

function defaultEnvironment(items: Environment[] | undefined): string {
  if (!items || items.length === 0) return '';
  return items.find((e) => e.name === 'aws-prod')?.name ?? items[0]!.name;
}

/** DORA metrics of an environment: deployment frequency and lead time over time, per flow (`evident metrics dora`). */
export function DoraPage({ query }: { query: URLSearchParams }) {
  const { api } = useApi();
  const environment = query.get('environment') ?? '';
  const since = query.get('since') ?? '';
  const until = query.get('until') ?? '';
  const flow = query.get('flow') ?? '';
  const bucket = query.get('bucket') === 'week' ? 'week' : 'day';
  const envs = useAsync(() => api.environments(), [api]);
  // No environment chosen: aws-prod if there is one, else the first, shown at once.
  const chosen = environment || defaultEnvironment(envs.data?.items);
  const [env, setEnv] = useState(chosen);
  useEffect(() => setEnv(chosen), [chosen]);
  const [b, setB] = useState<'day' | 'week'>(bucket);
  const [from, setFrom] = useState(since.slice(0, 10));
  const [to, setTo] = useState(until.slice(0, 10));
  useEffect(() => setFrom(since.slice(0, 10)), [since]);
  useEffect(() => setTo(until.slice(0, 10)), [until]);
  const period = (days: number) => href(['dora'], { environment: chosen, flow, since: daysAgo(days), bucket: days > 31 ? 'week' : undefined });
  const cli = ['evident metrics dora', `--environment ${shellArg(chosen || 'ENV')}`, since && `--since ${shellArg(since)}`, until && `--until ${shellArg(until)}`, flow && `--flow ${shellArg(flow)}`, bucket === 'week' && '--bucket week'].filter(Boolean).join(' ');
  return (
    <>
      <PageTitle title="DORA metrics">DORA metrics</PageTitle>
      <CliCommand command={cli} />
      <form class="filters" aria-label="Metrics to show" onSubmit={(e) => { e.preventDefault(); navigate(href(['dora'], { environment: env || chosen, flow, since: from, until: to, bucket: b === 'week' ? 'week' : undefined })); }}>
        <label>
          Environment
          <select value={env} onChange={(e) => setEnv(e.currentTarget.value)}>
            {(envs.data?.items ?? []).map((e) => <option key={e.name} value={e.name}>{e.name}</option>)}
          </select>
        </label>
        <label>
          From
          <input type="date" value={from} max={to || undefined} onInput={(e) => setFrom(e.currentTarget.value)} />
        </label>
        <label>
          Until (not included)
          <input type="date" value={to} min={from || undefined} onInput={(e) => setTo(e.currentTarget.value)} />
        </label>
        <label>
          Per
          <select value={b} onChange={(e) => setB(e.currentTarget.value === 'week' ? 'week' : 'day')}>
            <option value="day">day</option>
            <option value="week">week</option>
          </select>
        </label>
        <button type="submit">Show</button>
        <span class="small periods">
          Last{' '}
          {[7, 14, 28, 90].map((d, i) => (
            <span key={d}>{i > 0 && ' · '}<a href={period(d)}>{d} days</a></span>
          ))}
        </span>
        {flow && <span class="small">only flow <strong>{flow}</strong> · <a href={href(['dora'], { environment: chosen, since, until, bucket: bucket === 'week' ? 'week' : undefined })}>all flows</a></span>}
      </form>
      {chosen ? (
        <Metrics q={{ environment: chosen, since: since || undefined, until: until || undefined, flow: flow || undefined, bucket }} />
      ) : envs.loading ? (
        <p class="loading" role="status" aria-live="polite">Loading…</p>
      ) : envs.error !== undefined ? (
        <ErrorMessage error={envs.error} />
      ) : (
        <Empty>No environment yet: DORA metrics count deployments into one (`evident snapshot …`).</Empty>
      )}
    </>
  );
}
