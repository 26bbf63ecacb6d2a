import { useState } from 'preact/hooks';
import { ArtifactName, Async, CliCommand, Empty, PageTitle, useApi, useAsync } from '../components.js';
import { shellArg, short } from '../format.js';
import { href, navigate } from '../router.js';
import { Time } from '../time.js';

function Plan({ from, to, allowInProgress }: { from: string; to: string; allowInProgress: boolean }) {
  const { api } = useApi();
  const state = useAsync(() => api.releasePlan(from, to, allowInProgress), [api, from, to, allowInProgress]);
  return (
    <Async state={state}>
      {(p) => (
        <>
          <p role="status">
            From <a href={href(['snapshots', `${p.from.environment}#${p.from.snapshot ?? ''}`])}>{p.from.environment}#{p.from.snapshot ?? '—'}</a> (<Time iso={p.from.timestamp} relative={false} />) to{' '}
            <a href={href(['snapshots', `${p.to.environment}#${p.to.snapshot ?? ''}`])}>{p.to.environment}#{p.to.snapshot ?? '—'}</a> (<Time iso={p.to.timestamp} relative={false} />):{' '}
            <strong>{p.items.length}</strong> to promote, {p.unchanged.length} unchanged, {p.in_progress.length} in progress, {p.unmatched.length} unmatched.
          </p>
          <h2>To promote</h2>
          {p.items.length === 0 ? (
            <p class="muted">Nothing: {to} already runs what {from} runs.</p>
          ) : (
            <div class="table-wrap">
              <table>
                <caption class="sr-only">Artifacts a release would promote</caption>
                <thead>
                  <tr>
                    <th scope="col">Flow</th>
                    <th scope="col">Incoming (from {from})</th>
                    <th scope="col">Outgoing (in {to} now)</th>
                    <th scope="col">Changes</th>
                  </tr>
                </thead>
                <tbody>
                  {p.items.map((i) => (
                    <tr key={`${i.incoming_flow}-${i.incoming_fingerprint}`}>
                      <th scope="row"><a href={href(['flows', i.incoming_flow])}>{i.incoming_flow}</a></th>
                      <td>
                        <a href={href(['artifacts', `${i.incoming_flow}@${i.incoming_fingerprint}`])}><ArtifactName name={i.incoming_name} /></a>
                        <div class="small"><code>{short(i.incoming_fingerprint)}</code> {i.incoming_commit_sha && <>commit <code>{short(i.incoming_commit_sha, 10)}</code></>}</div>
                      </td>
                      <td>
                        {i.outgoing_fingerprint ? (
                          <>
                            <a href={href(['artifacts', `${i.outgoing_flow ?? i.incoming_flow}@${i.outgoing_fingerprint}`])}>{i.outgoing_name ? <ArtifactName name={i.outgoing_name} /> : short(i.outgoing_fingerprint)}</a>
                            <div class="small"><code>{short(i.outgoing_fingerprint)}</code> {i.outgoing_commit_sha && <>commit <code>{short(i.outgoing_commit_sha, 10)}</code></>}</div>
                          </>
                        ) : (
                          <span class="muted">new in {to}</span>
                        )}
                      </td>
                      <td>{i.deployment_diff_url ? <a href={i.deployment_diff_url} rel="noopener noreferrer">compare commits</a> : '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {p.in_progress.length > 0 && (
            <>
              <h2>Deployment in progress (not planned)</h2>
              <ul>{p.in_progress.map((x) => <li key={x.flow}>{x.flow} in {x.environment}: {x.fingerprints.map((f) => short(f)).join(', ')}</li>)}</ul>
            </>
          )}
          {p.unmatched.length > 0 && (
            <>
              <h2>Unmatched (no flow)</h2>
              <ul>{p.unmatched.map((x) => <li key={`${x.environment}-${x.fingerprint}`}><ArtifactName name={x.name} /> in {x.environment} <code>{short(x.fingerprint)}</code></li>)}</ul>
            </>
          )}
          <h2>Unchanged <span class="count">{p.unchanged.length}</span></h2>
          {p.unchanged.length === 0 ? <p class="muted">None.</p> : <ul class="columns">{p.unchanged.map((u) => <li key={`${u.flow}-${u.fingerprint}`}><a href={href(['artifacts', `${u.flow}@${u.fingerprint}`])}>{u.flow}</a> <code class="small">{short(u.fingerprint, 8)}</code></li>)}</ul>}
        </>
      )}
    </Async>
  );
}

/** What promoting one environment to another would change (`evident release plan FROM TO`). */
export function ReleasePlanPage({ from, to, allowInProgress }: { from: string; to: string; allowInProgress: boolean }) {
  const { api } = useApi();
  const envs = useAsync(() => api.environments(), [api]);
  const names = envs.data?.items.map((e) => e.name) ?? [];
  const [f, setF] = useState(from);
  const [t, setT] = useState(to);
  const [ip, setIp] = useState(allowInProgress);
  return (
    <>
      <PageTitle title="Release plan">Release plan</PageTitle>
      <CliCommand command={`evident release plan ${shellArg(from || 'FROM-ENV')} ${shellArg(to || 'TO-ENV')}${allowInProgress ? ' --allow-in-progress' : ''}`} />
      <form
        class="filters"
        aria-label="Environments"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(href(['release-plan'], { from: f.trim(), to: t.trim(), in_progress: ip }));
        }}
      >
        <label>
          From
          <input id="plan-from" type="text" list="env-names" required value={f} placeholder="aws-beta" onInput={(e) => setF(e.currentTarget.value)} />
        </label>
        <label>
          To
          <input id="plan-to" type="text" list="env-names" required value={t} placeholder="aws-prod" onInput={(e) => setT(e.currentTarget.value)} />
        </label>
        <datalist id="env-names">{names.map((n) => <option key={n} value={n} />)}</datalist>
        <label class="check">
          <input type="checkbox" checked={ip} onChange={(e) => setIp(e.currentTarget.checked)} /> include flows with a deployment in progress
        </label>
        <button type="submit">Plan</button>
      </form>
      {from && to ? <Plan from={from} to={to} allowInProgress={allowInProgress} /> : <Empty>Choose the environment to promote from and the one to promote to.</Empty>}
    </>
  );
}
