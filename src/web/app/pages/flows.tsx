import { useState } from 'preact/hooks';
import { Async, CliCommand, ComplianceBadge, Empty, PageTitle, useApi, TrailName, useCursorList } from '../components.js';
import { ago, shellArg, when } from '../format.js';
import { href, navigate } from '../router.js';
import type { FlowSummary } from '../api.js';

const SORTS: [string, string][] = [
  ['', 'oldest first'],
  ['name', 'name'],
  ['last-deployment', 'last deployment (most recent first)'],
  ['compliance', 'compliance (worst first)'],
];

/** Every flow with its last deployment and its latest trail's compliance (`evident list flows`). */
export function FlowsPage({ query }: { query: URLSearchParams }) {
  const { api } = useApi();
  const sort = query.get('sort') ?? '';
  const missing = query.get('missing') ?? '';
  const archived = query.get('archived') === 'true';
  const [filter, setFilter] = useState('');
  const list = useCursorList(
    (cursor) => api.flows({ cursor, limit: 100, sort: sort || undefined, include_archived: archived, missing_attestation_type: missing || undefined }),
    [api, sort, missing, archived],
    // Latest trail and compliance (flow and trail entries) and last deployment (snapshots).
    (e) => e.flow !== undefined || e.type === 'snapshot.created',
  );
  const set = (change: Record<string, string | boolean>) =>
    navigate(href(['flows'], { sort, missing, archived, ...change }));
  const shown = filter ? list.items.filter((f) => matches(f, filter)) : list.items;
  const cli = ['evident list flows', sort && `--sort ${sort}`, missing && `--missing-attestation-type ${shellArg(missing)}`, archived && '--include-archived']
    .filter(Boolean)
    .join(' ');
  return (
    <>
      <PageTitle title="Flows">Flows</PageTitle>
      <CliCommand command={cli} />
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter flows">
        <label>
          Name contains
          <input type="search" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
        </label>
        <label>
          Sort by
          <select value={sort} onChange={(e) => set({ sort: e.currentTarget.value })}>
            {SORTS.map(([v, l]) => (
              <option key={v} value={v}>
                {l}
              </option>
            ))}
          </select>
        </label>
        <label>
          Missing attestation type
          <input
            type="text"
            placeholder="e.g. snyk"
            value={missing}
            onChange={(e) => set({ missing: e.currentTarget.value.trim() })}
          />
        </label>
        <label class="check">
          <input type="checkbox" checked={archived} onChange={(e) => set({ archived: e.currentTarget.checked })} /> include archived
        </label>
      </form>
      <Async state={{ loading: list.loading && list.items.length === 0, error: list.items.length === 0 ? list.error : undefined, data: list.items }}>
        {() =>
          shown.length === 0 ? (
            <Empty>No flows{filter || missing ? ' match' : ' yet'}.</Empty>
          ) : (
            <div class="table-wrap">
              <table>
                <caption class="sr-only">Flows, {shown.length} shown</caption>
                <thead>
                  <tr>
                    <th scope="col">Flow</th>
                    <th scope="col">Latest trail</th>
                    <th scope="col">Compliance</th>
                    <th scope="col">Last deployment</th>
                    <th scope="col">Tags</th>
                  </tr>
                </thead>
                <tbody>
                  {shown.map((f) => (
                    <tr key={f.name}>
                      <th scope="row">
                        <a href={href(['flows', f.name])}>{f.name}</a>
                        {f.archived_at && <span class="muted"> (archived)</span>}
                        {f.description && <div class="muted small">{f.description}</div>}
                      </th>
                      <td>{f.latest_trail ? <a href={href(['flows', f.name, 'trails', f.latest_trail])}><TrailName name={f.latest_trail} /></a> : <span class="muted">no trails</span>}</td>
                      <td>
                        <ComplianceBadge state={f.compliance} />
                      </td>
                      <td>
                        {f.last_deployment ? (
                          <>
                            <a href={href(['snapshots', `${f.last_deployment.environment}#${f.last_deployment.snapshot}`])}>
                              {f.last_deployment.environment}#{f.last_deployment.snapshot}
                            </a>
                            <time class="small muted block" dateTime={f.last_deployment.at} title={when(f.last_deployment.at)}>
                              {ago(f.last_deployment.at)}
                            </time>
                          </>
                        ) : (
                          <span class="muted">never deployed</span>
                        )}
                      </td>
                      <td>{Object.entries(f.tags).map(([k, v]) => <span key={k} class="tag">{k}={v}</span>)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Async>
      {list.items.length > 0 && list.more}
    </>
  );
}

function matches(f: FlowSummary, text: string): boolean {
  const t = text.toLowerCase();
  return f.name.toLowerCase().includes(t) || f.description.toLowerCase().includes(t);
}
