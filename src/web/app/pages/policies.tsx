import { Async, CliCommand, Empty, PageTitle, useApi, useAsync } from '../components.js';
import { AttachedTo, useAttachments } from '../attached.js';
import { Time } from '../time.js';
import { href } from '../router.js';

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
            <div class="table-wrap">
              <table>
                <caption class="sr-only">Policies</caption>
                <thead>
                  <tr>
                    <th scope="col">Policy</th>
                    <th scope="col">Latest version</th>
                    <th scope="col">Versions</th>
                    <th scope="col">Attached to</th>
                    <th scope="col">Latest version created</th>
                    <th scope="col">Description</th>
                  </tr>
                </thead>
                <tbody>
                  {r.items.map((p) => (
                    <tr key={p.name}>
                      <th scope="row"><a href={href(['policies', p.name])}>{p.name}</a></th>
                      <td class="num">{p.version}</td>
                      <td class="num">{p.versions ?? p.version}</td>
                      <td>{attached.data ? <AttachedTo list={attached.data.get(p.name)} /> : <span class="muted">…</span>}</td>
                      <td><Time iso={p.created_at} /></td>
                      <td>{p.description}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Async>
    </>
  );
}
