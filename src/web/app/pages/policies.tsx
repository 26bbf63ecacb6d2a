import { Async, CliCommand, Empty, PageTitle, useApi, useAsync } from '../components.js';
import { AttachedTo, useAttachments } from '../attached.js';
import { Time } from '../time.js';
import { href } from '../router.js';
import { useSort } from '../sort.js';
import type { Policy } from '../api.js';

/** The latest version of every environment policy (`evident list policies`). */
export function PoliciesPage() {
  const { api } = useApi();
  const state = useAsync(() => api.policies(), [api]);
  const attached = useAttachments(api);
  return (
    <>
      <PageTitle title="Policies">Policies</PageTitle>
      <CliCommand command="evident list policies" />
      <Async state={state}>
        {(r) =>
          r.items.length === 0 ? (
            <Empty>No policies yet. Create one with evident create policy NAME FILE.yml.</Empty>
          ) : (
            <PoliciesTable items={r.items} attached={attached.data} />
          )
        }
      </Async>
    </>
  );
}

function PoliciesTable({ items, attached }: { items: Policy[]; attached: ReturnType<typeof useAttachments>['data'] }) {
  const sorted = useSort(items, {
    name: (p) => p.name, version: (p) => p.version, versions: (p) => p.versions ?? p.version,
    attached: (p) => (attached ? (attached.get(p.name)?.length ?? 0) : null), created: (p) => p.created_at, description: (p) => p.description,
  }, { name: 'Policy', version: 'Latest version', versions: 'Versions', attached: 'Attached to (how many)', created: 'Latest version created', description: 'Description' }, 'policies');
  return (
    <>
      {sorted.control}
      <div class="table-wrap">
        <table>
          <caption class="sr-only">Policies</caption>
          <thead>
            <tr>
              {sorted.header('name', 'Policy')}
              {sorted.header('version', 'Latest version')}
              {sorted.header('versions', 'Versions')}
              {sorted.header('attached', 'Attached to')}
              {sorted.header('created', 'Latest version created')}
              {sorted.header('description', 'Description')}
            </tr>
          </thead>
          <tbody>
            {sorted.rows.map((p) => (
              <tr key={p.name}>
                <th scope="row"><a href={href(['policies', p.name])}>{p.name}</a></th>
                <td class="num">{p.version}</td>
                <td class="num">{p.versions ?? p.version}</td>
                <td>{attached ? <AttachedTo list={attached.get(p.name)} /> : <span class="muted">…</span>}</td>
                <td><Time iso={p.created_at} /></td>
                <td>{p.description}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
