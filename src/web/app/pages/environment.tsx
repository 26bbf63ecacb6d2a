import { NoPolicy } from '../compliance.js';
import type { Snapshot } from '../api.js';
import { PackageDownload } from '../package-download.js';
import { ArtifactName, Async, CliCommand, ComplianceBadge, PageTitle, useApi, useAsync, useCursorList } from '../components.js';
import { DriftSection } from '../drift.js';
import { EnvironmentLog } from '../env-log.js';
import { ago, shellArg, when } from '../format.js';
import { href } from '../router.js';
import { Reasons, SnapshotArtifacts } from '../snapshot-table.js';
import { Time } from '../time.js';

/** Failing and allowed artifacts listed with their reasons; the rest are a filter away in the running list. */
const LISTED = 25;

/** The policies the latest snapshot is judged by, and each artifact that fails them with the failing rules. */
function PolicyCompliance({ s, env }: { s: Snapshot; env: string }) {
  const policies = s.policies ?? [];
  const failing = s.artifacts.filter((a) => a.compliance?.compliant === false);
  const allowed = s.artifacts.filter((a) => a.compliance?.allowed);
  return (
    <section aria-labelledby="policies-h">
      <h2 id="policies-h">Policies and compliance</h2>
      {policies.length === 0 ? (
        <p class="muted">No policy attached: nothing judges what runs here, so its compliance is unknown (attach one with <code>evident attach-policy NAME --environment {env}</code>).</p>
      ) : (
        <>
          <p>
            Snapshot #{s.index} is judged by{' '}
            {policies.map((p, i) => (
              <span key={p.name}>
                {i > 0 && ', '}
                <a href={href(['policies', `${p.name}@${p.version}`])}>{p.name}@{p.version}</a>
              </span>
            ))}
            : <ComplianceBadge state={s.compliant ?? null} /> {failing.length} of {s.artifacts.length} artifacts non-compliant{allowed.length > 0 && `, ${allowed.length} allowed by an exemption`}.
          </p>
          {failing.length + allowed.length > 0 && (
            <ul class="failing">
              {[...failing, ...allowed].slice(0, LISTED).map((a) => (
                <li key={`${a.name}-${a.fingerprint}`}>
                  <a href={href(['artifacts', a.flow ? `${a.flow}@${a.fingerprint}` : a.fingerprint])}><ArtifactName name={a.name} /></a> <ComplianceBadge state={a.compliance?.allowed ? 'ALLOWED' : false} />
                  <Reasons a={a} />
                </li>
              ))}
              {failing.length + allowed.length > LISTED && (
                <li class="muted">…and {failing.length + allowed.length - LISTED} more: tick “only non-compliant” in the running list below.</li>
              )}
            </ul>
          )}
        </>
      )}
    </section>
  );
}

/** An environment: its compliance, its latest snapshot, and every snapshot as a timeline (`evident get environment`). */
export function EnvironmentPage({ env, tab }: { env: string; tab: string | null }) {
  const { api } = useApi();
  const state = useAsync(() => api.environment(env), [api, env], (e) => e.environment === env);
  const latest = useAsync(() => api.snapshot(env), [api, env], (e) => e.environment === env);
  const snaps = useCursorList((cursor) => api.snapshots(env, cursor, 50), [api, env], (e) => e.environment === env);
  return (
    <>
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href={href(['environments'])}>Environments</a> / <span aria-current="page">{env}</span>
      </nav>
      <PageTitle title={`Environment ${env}`}>Environment {env}</PageTitle>
      <CliCommand command={[`evident get environment ${shellArg(env)}`, `evident list snapshots ${shellArg(env)}`]} />
      <Async state={state}>
        {(e) => (
          <dl class="facts">
            <dt>Type</dt>
            <dd>{e.type}</dd>
            <dt>Compliance now</dt>
            <dd>
              {e.policies && e.policies.length > 0 ? <ComplianceBadge state={e.compliant} /> : <NoPolicy />}{' '}
              {e.policies && e.policies.length > 0 ? (
                <span class="small">
                  against{' '}
                  {e.policies.map((p, i) => (
                    <span key={p.name}>
                      {i > 0 && ', '}
                      <a href={href(['policies', `${p.name}@${p.version}`])}>{p.name}@{p.version}</a>
                    </span>
                  ))}
                </span>
              ) : (
                <span class="small muted">nothing judges what runs here</span>
              )}
            </dd>
            <dt>Latest snapshot</dt>
            <dd>{e.latest_snapshot !== null ? <a href={href(['snapshots', `${e.name}#${e.latest_snapshot}`])}>#{e.latest_snapshot}</a> : 'none yet'}</dd>
            {e.description && (
              <>
                <dt>Description</dt>
                <dd>{e.description}</dd>
              </>
            )}
          </dl>
        )}
      </Async>
      <nav class="tabs" aria-label="Environment views">
        <a href={href(['environments', env])} aria-current={tab !== 'log' ? 'page' : undefined}>Overview</a>
        <a href={href(['environments', env], { tab: 'log' })} aria-current={tab === 'log' ? 'page' : undefined}>Log</a>
      </nav>
      {state.error === undefined && tab === 'log' && <EnvironmentLog env={env} />}
      {/* An unknown environment is said once, by the facts above, not by every section. */}
      {state.error === undefined && tab !== 'log' && (
        <>
      <Async state={latest}>{(s) => <PolicyCompliance s={s} env={env} />}</Async>
      <DriftSection env={env} />
      <div class="layout-side">
        <section aria-labelledby="running-h">
          <h2 id="running-h">Running now</h2>
          <Async state={latest}>
            {(s) => (
              <>
                <p class="small">
                  Snapshot #{s.index ?? '—'} · <Time iso={s.timestamp} relative={false} /> · {s.artifacts.length} artifacts
                </p>
                <SnapshotArtifacts snapshot={s} />
              </>
            )}
          </Async>
        </section>
        <section aria-labelledby="snaps-h">
          <h2 id="snaps-h">Snapshots</h2>
          <ol class="timeline" aria-label="Snapshots, newest first">
            {snaps.items.map((s, i) => {
              const prev = snaps.items[i + 1];
              return (
                <li key={s.index}>
                  <time dateTime={s.timestamp} title={when(s.timestamp)}>{ago(s.timestamp)}</time>
                  <span>
                    <a href={href(['snapshots', `${env}#${s.index}`])}>#{s.index}</a>
                    {prev && (
                      <>
                        {' '}
                        · <a href={href(['diff'], { a: `${env}#${prev.index}`, b: `${env}#${s.index}` })}>diff with #{prev.index}</a>
                      </>
                    )}
                  </span>
                </li>
              );
            })}
          </ol>
          {snaps.more}
        </section>
      </div>
      <PackageDownload subject={{ type: 'environment', environment: env }} />
        </>
      )}
    </>
  );
}
