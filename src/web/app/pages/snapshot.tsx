import { Async, CliCommand, ComplianceBadge, PageTitle, useApi, useAsync } from '../components.js';
import { shellArg, when } from '../format.js';
import { href } from '../router.js';
import { SnapshotArtifacts } from '../snapshot-table.js';

/** One snapshot: ENV, ENV#N, ENV~N or ENV@{time} (`evident get snapshot EXPR`). */
export function SnapshotPage({ expr }: { expr: string }) {
  const { api } = useApi();
  const state = useAsync(() => api.snapshot(expr), [api, expr]);
  const env = /^[^#~@]+/.exec(expr)?.[0] ?? expr;
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
              <dd>{when(s.timestamp)}{s.entry_index !== null && <> (log entry <a href={href(['log'], { index: s.entry_index })}>{s.entry_index}</a>)</>}</dd>
              <dt>Compliance</dt>
              <dd>
                <ComplianceBadge state={s.compliant ?? null} />{' '}
                {s.policies && s.policies.length > 0 ? <span class="small">against {s.policies.map((p) => `${p.name}@${p.version}`).join(', ')}</span> : <span class="small muted">no policy in force</span>}
              </dd>
              {s.index !== null && s.index > 1 && (
                <>
                  <dt>Compare</dt>
                  <dd>
                    <a href={href(['snapshots', `${s.environment}#${s.index - 1}`])}>previous</a> ·{' '}
                    <a href={href(['diff'], { a: `${s.environment}#${s.index - 1}`, b: `${s.environment}#${s.index}` })}>diff with previous</a>
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
