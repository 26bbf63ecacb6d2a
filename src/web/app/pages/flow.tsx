import { EntryLink } from '../entry-link.js';
import { Time } from '../time.js';
import { Async, CliCommand, ComplianceBadge, Empty, PageTitle, useApi, useAsync, TrailName, useCursorList } from '../components.js';
import { useSort } from '../sort.js';
import { short, shellArg } from '../format.js';
import { href } from '../router.js';

/** Worst first when sorted by compliance. */
const COMPLIANCE_ORDER: Record<string, number> = { 'NON-COMPLIANT': 0, INCOMPLETE: 1, COMPLIANT: 2 };

/** One flow and its trails, oldest first (`evident get flow F`, `evident list trails --flow F`). */
export function FlowPage({ flow }: { flow: string }) {
  const { api } = useApi();
  const state = useAsync(() => api.flow(flow), [api, flow], (e) => e.flow === flow);
  const trails = useCursorList((cursor) => api.trails(flow, cursor, 100), [api, flow], (e) => e.flow === flow);
  const sorted = useSort(trails.items, {
    trail: (t) => t.name, compliance: (t) => COMPLIANCE_ORDER[t.compliance ?? ''] ?? null, commit: (t) => t.git_commit, began: (t) => t.created_at, description: (t) => t.description,
  }, { trail: 'Trail', compliance: 'Compliance (worst first)', commit: 'Commit', began: 'Began', description: 'Description' }, 'trails');
  return (
    <>
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href={href(['flows'])}>Flows</a> / <span aria-current="page">{flow}</span>
      </nav>
      <PageTitle title={`Flow ${flow}`}>Flow {flow}</PageTitle>
      <CliCommand command={[`evident get flow ${shellArg(flow)}`, `evident list trails --flow ${shellArg(flow)}`]} />
      <Async state={state}>
        {(f) => (
          <dl class="facts">
            <dt>Description</dt>
            <dd>{f.description || <span class="muted">none</span>}</dd>
            <dt>Template</dt>
            <dd>{f.template ? <pre class="source">{f.template}</pre> : <span class="muted">none (every trail is compliant when its attestations are)</span>}</dd>
            <dt>Created</dt>
            <dd><Time iso={f.created_at} /> · <EntryLink index={f.entry_index} /></dd>
            {f.archived_at && (
              <>
                <dt>Archived</dt>
                <dd><Time iso={f.archived_at} relative={false} /></dd>
              </>
            )}
            <dt>Tags</dt>
            <dd>{Object.keys(f.tags).length ? Object.entries(f.tags).map(([k, v]) => <span key={k} class="tag">{k}={v}</span>) : <span class="muted">none</span>}</dd>
          </dl>
        )}
      </Async>
      {state.error === undefined && (
        <>
      <h2>Trails</h2>
      {!trails.loading && trails.items.length === 0 && trails.error === undefined ? (
        <Empty>No trails yet.</Empty>
      ) : (
        <>
        {sorted.control}
        <div class="table-wrap cards">
          <table>
            <caption class="sr-only">Trails of {flow}</caption>
            <thead>
              <tr>
                {sorted.header('trail', 'Trail')}
                {sorted.header('compliance', 'Compliance')}
                {sorted.header('commit', 'Commit')}
                {sorted.header('began', 'Began')}
                {sorted.header('description', 'Description')}
              </tr>
            </thead>
            <tbody>
              {sorted.rows.map((t) => (
                <tr key={t.name}>
                  <th scope="row">
                    <a href={href(['flows', flow, 'trails', t.name])}><TrailName name={t.name} /></a>
                  </th>
                  <td data-label="Compliance"><ComplianceBadge state={t.compliance} /></td>
                  <td data-label="Commit">{t.git_commit ? <a href={href(['search'], { q: t.git_commit })}><code>{short(t.git_commit, 10)}</code></a> : '—'}</td>
                  <td data-label="Began"><Time iso={t.created_at} /></td>
                  <td data-label="Description">{t.description}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        </>
      )}
      {trails.more}
        </>
      )}
    </>
  );
}
