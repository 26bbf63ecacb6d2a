import { Async, CliCommand, Empty, PageTitle, useApi, useAsync } from '../components.js';
import { shellArg, short } from '../format.js';
import { Time } from '../time.js';
import { href } from '../router.js';
import { ApiError } from '../api.js';
import { ArtifactName } from '../components.js';

/** `16d9990`, or `runner:16d9990` / `…/runner:16d9990` (an image name and tag): the hex part and the name. */
export function parseQuery(q: string): { hex: string | null; name: string | null } {
  const t = q.trim();
  if (/^[0-9a-f]{5,64}$/i.test(t)) return { hex: t.toLowerCase(), name: null };
  const m = /^(?:.*\/)?([A-Za-z0-9][A-Za-z0-9._-]*):([0-9a-f]{5,64})$/i.exec(t);
  return m ? { hex: m[2]!.toLowerCase(), name: m[1]! } : { hex: null, name: null };
}

/** `registry/runner:16d9990` → `runner`. */
function imageBase(name: string): string {
  return name.replace(/^.*\//, '').replace(/:[^:]*$/, '');
}

/** Artifacts whose fingerprint or commit starts with q, with where each runs (`evident search Q`). */
export function SearchPage({ q }: { q: string }) {
  const { api } = useApi();
  const query = parseQuery(q);
  const state = useAsync(async () => {
    if (!q) return { items: [] };
    if (!query.hex) throw new ApiError(400, 'INVALID_ARGUMENT', `search for a commit or fingerprint (5 to 64 hex characters), or NAME:COMMIT as in runner:16d9990, not ${JSON.stringify(q)}`);
    const found = await api.search(query.hex);
    // NAME:COMMIT (an image tag, as people type it): the commit's artifacts of that flow or image name.
    return query.name ? { items: found.items.filter((a) => a.flow === query.name || imageBase(a.display_name || a.name) === query.name) } : found;
  }, [api, q]);
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
                          {a.flow} · <ArtifactName name={a.display_name || a.name} />
                        </a>
                      </h2>
                      <p class="small">
                        matched {a.matched} · fingerprint <code>{short(a.fingerprint, 16)}</code> · commit <code>{short(a.git_commit, 10)}</code> · trail{' '}
                        <a href={href(['flows', a.flow, 'trails', a.trail])}>{a.trail}</a> · reported <Time iso={a.created_at} />
                      </p>
                      {a.running.length > 0 ? (
                        <p>
                          Runs in{' '}
                          {a.running.map((r, i) => (
                            <span key={r.environment}>
                              {i > 0 && ', '}
                              <a href={href(['snapshots', `${r.environment}#${r.snapshot}`])}>{r.environment}</a> ({r.instances} instance{r.instances > 1 ? 's' : ''}, since{' '}
                              <a href={href(['snapshots', `${r.environment}#${r.since}`])}>#{r.since}</a>, <Time iso={r.since_at} />)
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
                              {x.environment} (gone in <a href={href(['snapshots', `${x.environment}#${x.snapshot}`])}>#{x.snapshot}</a>, <Time iso={x.at} />)
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
