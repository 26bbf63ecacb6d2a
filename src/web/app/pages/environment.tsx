import { Async, CliCommand, ComplianceBadge, PageTitle, useApi, useAsync, useCursorList } from '../components.js';
import { ago, shellArg, when } from '../format.js';
import { href } from '../router.js';
import { SnapshotArtifacts } from '../snapshot-table.js';

/** An environment: its compliance, its latest snapshot, and every snapshot as a timeline (`evident get environment`). */
export function EnvironmentPage({ env }: { env: string }) {
  const { api } = useApi();
  const state = useAsync(() => api.environment(env), [api, env]);
  const latest = useAsync(() => api.snapshot(env), [api, env]);
  const snaps = useCursorList((cursor) => api.snapshots(env, cursor, 50), [api, env]);
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
              <ComplianceBadge state={e.compliant} /> {e.policies && e.policies.length > 0 ? <span class="small">against {e.policies.map((p) => `${p.name}@${p.version}`).join(', ')}</span> : <span class="small muted">no policy attached</span>}
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
      <div class="layout-side">
        <section aria-labelledby="running-h">
          <h2 id="running-h">Running now</h2>
          <Async state={latest}>
            {(s) => (
              <>
                <p class="small">
                  Snapshot #{s.index ?? '—'} · {when(s.timestamp)} · {s.artifacts.length} artifacts
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
    </>
  );
}
