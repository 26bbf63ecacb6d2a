import { Async, CliCommand, PageTitle, useApi, useAsync } from '../components.js';
import { shellArg, short, when } from '../format.js';
import { href } from '../router.js';

/** A policy (NAME or NAME@VERSION) with its source and links to every version (`evident get policy`). */
export function PolicyPage({ policyRef }: { policyRef: string }) {
  const { api } = useApi();
  const name = policyRef.split('@')[0] ?? policyRef;
  const state = useAsync(() => api.policy(policyRef), [api, policyRef]);
  const latest = useAsync(() => api.policy(name), [api, name]);
  return (
    <>
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href={href(['policies'])}>Policies</a> / <span aria-current="page">{policyRef}</span>
      </nav>
      <PageTitle title={`Policy ${policyRef}`}>Policy {policyRef}</PageTitle>
      <CliCommand command={`evident get policy ${shellArg(policyRef)}`} />
      <Async state={state}>
        {(p) => (
          <>
            <dl class="facts">
              <dt>Version</dt>
              <dd>{p.version}</dd>
              <dt>Created</dt>
              <dd>{when(p.created_at)} (log entry <a href={href(['log'], { index: p.entry_index })}>{p.entry_index}</a>)</dd>
              <dt>Digest</dt>
              <dd><code>sha256:{short(p.digest, 16)}</code></dd>
              {p.description && (
                <>
                  <dt>Description</dt>
                  <dd>{p.description}</dd>
                </>
              )}
            </dl>
            <h2>Source</h2>
            <pre class="source" tabIndex={0} aria-label="Policy source">{p.source}</pre>
          </>
        )}
      </Async>
      {latest.data && latest.data.version > 1 && (
        <nav aria-label="Versions">
          <h2>Versions</h2>
          <ul class="inline">
            {Array.from({ length: latest.data.version }, (_, i) => latest.data!.version - i).map((v) => (
              <li key={v}>
                <a href={href(['policies', `${name}@${v}`])} aria-current={policyRef === `${name}@${v}` || (policyRef === name && v === latest.data!.version) ? 'page' : undefined}>
                  v{v}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      )}
    </>
  );
}
