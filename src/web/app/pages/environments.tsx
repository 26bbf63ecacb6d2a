import { NoPolicy } from '../compliance.js';
import { useState } from 'preact/hooks';
import { Async, CliCommand, ComplianceBadge, Empty, PageTitle, useApi, useAsync } from '../components.js';
import { Time } from '../time.js';
import { href } from '../router.js';
import { useSort } from '../sort.js';
import { WhereGrid } from '../where-grid.js';
import type { Environment } from '../api.js';

/** An environment's compliance now (the list does not carry it: one `get environment` each). */
function EnvCompliance({ env }: { env: string }) {
  const { api } = useApi();
  const state = useAsync(() => api.environment(env), [api, env], (e) => e.environment === env);
  if (state.loading) return <span class="muted">…</span>;
  if (state.error !== undefined || !state.data) return <span class="muted">unknown</span>;
  const e = state.data;
  if (!e.policies || e.policies.length === 0) return <NoPolicy />;
  return (
    <>
      <ComplianceBadge state={e.compliant} /> <span class="small nowrap">against {e.policies.map((p) => `${p.name}@${p.version}`).join(', ')}</span>
    </>
  );
}

/** Every environment with its latest snapshot (`evident list environments`). */
export function EnvironmentsPage() {
  const { api } = useApi();
  const state = useAsync(() => api.environments(), [api], (e) => e.environment !== undefined);
  return (
    <>
      <PageTitle title="Environments">Environments</PageTitle>
      <CliCommand command="evident list environments" />
      <Async state={state}>
        {(r) =>
          r.items.length === 0 ? (
            <Empty>No environments yet.</Empty>
          ) : (
            <>
              <EnvironmentTable items={r.items} />
              <WhereGrid environments={r.items} />
            </>
          )
        }
      </Async>
      <p>
        Compare two snapshots on the <a href={href(['diff'])}>diff</a> page, or plan a promotion on the <a href={href(['release-plan'])}>release plan</a> page.
      </p>
    </>
  );
}

function EnvironmentTable({ items }: { items: Environment[] }) {
  const [filter, setFilter] = useState('');
  const wanted = filter.trim().toLowerCase();
  const shown = wanted ? items.filter((e) => `${e.name} ${e.type} ${e.description}`.toLowerCase().includes(wanted)) : items;
  const sorted = useSort(shown, {
    name: (e) => e.name, type: (e) => e.type, latest: (e) => e.latest_snapshot, changed: (e) => e.last_changed_at ?? null, created: (e) => e.created_at, description: (e) => e.description,
  }, { name: 'Environment', type: 'Type', latest: 'Latest snapshot', changed: 'Last change', created: 'Created', description: 'Description' }, 'environments');
  return (
    <>
    {items.length > 1 && (
      <p class="filters">
        <label>
          Filter environments <input type="search" value={filter} placeholder="name, type or description" onInput={(e) => setFilter(e.currentTarget.value)} />
        </label>{' '}
        {wanted && <span class="small muted" role="status">{shown.length} of {items.length}</span>}
      </p>
    )}
    {sorted.control}
    <div class="table-wrap">
      <table>
        <caption class="sr-only">Environments</caption>
        <thead>
          <tr>
            {sorted.header('name', 'Environment')}
            {sorted.header('type', 'Type')}
            {sorted.header('latest', 'Latest snapshot')}
            {sorted.header('changed', 'Last change')}
            <th scope="col">Compliance now</th>
            {sorted.header('created', 'Created')}
            {sorted.header('description', 'Description')}
          </tr>
        </thead>
        <tbody>
          {sorted.rows.map((e) => (
            <tr key={e.name}>
              <th scope="row">
                <a href={href(['environments', e.name])}>{e.name}</a>
                {e.archived_at && <span class="muted"> (archived)</span>}
              </th>
              <td>{e.type}{e.included_environments?.length ? ` of ${e.included_environments.join(', ')}` : ''}</td>
              <td>{e.latest_snapshot !== null ? <a href={href(['snapshots', `${e.name}#${e.latest_snapshot}`])}>#{e.latest_snapshot}</a> : <span class="muted">none</span>}</td>
              <td title="its latest snapshot: a reporter that sends the same running set again adds none"><Time iso={e.last_changed_at ?? null} /></td>
              <td><EnvCompliance env={e.name} /></td>
              <td><Time iso={e.created_at} relative={false} /></td>
              <td>{e.description}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
    </>
  );
}
