import { Async, CliCommand, ComplianceBadge, PageTitle, useApi, useAsync } from '../components.js';
import { shellArg } from '../format.js';
import { NoPolicy } from '../compliance.js';
import { EntryLink } from '../entry-link.js';
import { Time } from '../time.js';
import { href } from '../router.js';
import { SnapshotArtifacts } from '../snapshot-table.js';

/** One snapshot: ENV, ENV#N, ENV~N or ENV@{time} (`evident get snapshot EXPR`). */
export function SnapshotPage({ expr }: { expr: string }) {
  const { api } = useApi();
  const state = useAsync(() => api.snapshot(expr), [api, expr]);
  const env = /^[^#~@]+/.exec(expr)?.[0] ?? expr;
  const latest = useAsync(() => api.environment(env), [api, env], (e) => e.environment === env);
  const last = latest.data?.latest_snapshot ?? null;
  return (
    <>
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href={href(['environments'])}>Environments</a> / <a href={href(['environments', env])}>{env}</a> / <span aria-current="page">{expr.slice(env.length) || 'latest'}</span>
      </nav>
      <PageTitle title={`Snapshot ${expr}`}>Snapshot {expr}</PageTitle>
      <CliCommand command={`evident get snapshot ${shellArg(expr)}`} />
      <Async state={state}>
        {(s) => (
          <>
            <dl class="facts">
              <dt>Snapshot</dt>
              <dd>{s.environment}#{s.index ?? '—'}</dd>
              <dt>Taken</dt>
              <dd><Time iso={s.timestamp} />{s.entry_index !== null && <> · <EntryLink index={s.entry_index} /></>}</dd>
              <dt>Compliance</dt>
              <dd>
                {s.policies && s.policies.length > 0 ? (
                  <>
                    <ComplianceBadge state={s.compliant ?? null} />{' '}
                    <span class="small">against {s.policies.map((p, i) => <span key={p.name}>{i > 0 && ', '}<a href={href(['policies', `${p.name}@${p.version}`])}>{p.name}@{p.version}</a></span>)}</span>
                  </>
                ) : (
                  <><NoPolicy /> <span class="small muted">no policy in force: nothing judged it</span></>
                )}
              </dd>
              {s.index !== null && (s.index > 1 || (last !== null && s.index < last)) && (
                <>
                  <dt>Browse</dt>
                  <dd>
                    {s.index > 1 && (
                      <>
                        <a href={href(['snapshots', `${s.environment}#${s.index - 1}`])} rel="prev">← #{s.index - 1}</a> ·{' '}
                        <a href={href(['diff'], { a: `${s.environment}#${s.index - 1}`, b: `${s.environment}#${s.index}` })}>diff with #{s.index - 1}</a>
                      </>
                    )}
                    {last !== null && s.index < last && (
                      <>
                        {s.index > 1 && ' · '}
                        <a href={href(['snapshots', `${s.environment}#${s.index + 1}`])} rel="next">#{s.index + 1} →</a> ·{' '}
                        <a href={href(['snapshots', `${s.environment}#${last}`])}>latest (#{last})</a>
                      </>
                    )}
                  </dd>
                </>
              )}
            </dl>
            <SnapshotArtifacts snapshot={s} />
          </>
        )}
      </Async>
    </>
  );
}
