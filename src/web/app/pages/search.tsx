import { Async, CliCommand, Empty, PageTitle, useApi, useAsync } from '../components.js';
import { ago, shellArg, short, when } from '../format.js';
import { href } from '../router.js';

/** Artifacts whose fingerprint or commit starts with q, with where each runs (`evident search Q`). */
export function SearchPage({ q }: { q: string }) {
  const { api } = useApi();
  const state = useAsync(() => (q ? api.search(q) : Promise.resolve({ items: [] })), [api, q]);
  return (
    <>
      <PageTitle title={`Search ${q}`}>Search {q && <code>{q}</code>}</PageTitle>
      <CliCommand command={`evident search ${shellArg(q || 'SHA-OR-FINGERPRINT')}`} />
      {!q ? (
        <Empty>Type a commit or fingerprint (at least 5 hex characters) in the search box.</Empty>
      ) : (
        <Async state={state}>
          {(r) =>
            r.items.length === 0 ? (
              <Empty>No artifact has a fingerprint or commit starting with {q}.</Empty>
            ) : (
              <>
                <p role="status">{r.items.length} artifact{r.items.length > 1 ? 's' : ''} found.</p>
                <ul class="results">
                  {r.items.map((a) => (
                    <li key={`${a.flow}-${a.trail}-${a.fingerprint}`} class="card">
                      <h2>
                        <a href={href(['artifacts', `${a.flow}@${a.fingerprint}`])}>
                          {a.flow} · {a.display_name || a.name}
                        </a>
                      </h2>
                      <p class="small">
                        matched {a.matched} · fingerprint <code>{short(a.fingerprint, 16)}</code> · commit <code>{short(a.git_commit, 10)}</code> · trail{' '}
                        <a href={href(['flows', a.flow, 'trails', a.trail])}>{a.trail}</a> · reported {when(a.created_at)}
                      </p>
                      {a.running.length > 0 ? (
                        <p>
                          Runs in{' '}
                          {a.running.map((r, i) => (
                            <span key={r.environment}>
                              {i > 0 && ', '}
                              <a href={href(['snapshots', `${r.environment}#${r.snapshot}`])}>{r.environment}</a> ({r.instances} instance{r.instances > 1 ? 's' : ''}, since{' '}
                              <a href={href(['snapshots', `${r.environment}#${r.since}`])}>#{r.since}</a>, {ago(r.since_at)})
                            </span>
                          ))}
                        </p>
                      ) : (
                        <p class="muted">Not running anywhere now.</p>
                      )}
                      {a.exited.length > 0 && (
                        <p class="small">
                          Ran before in{' '}
                          {a.exited.map((x, i) => (
                            <span key={`${x.environment}-${x.snapshot}`}>
                              {i > 0 && ', '}
                              {x.environment} (gone in <a href={href(['snapshots', `${x.environment}#${x.snapshot}`])}>#{x.snapshot}</a>, {when(x.at)})
                            </span>
                          ))}
                        </p>
                      )}
                    </li>
                  ))}
                </ul>
              </>
            )
          }
        </Async>
      )}
    </>
  );
}
