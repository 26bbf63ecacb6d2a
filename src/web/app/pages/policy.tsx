import { AttachedTo, useAttachments } from '../attached.js';
import { Copy } from '../copy.js';
import { EntryLink } from '../entry-link.js';
import { Time } from '../time.js';
import { Async, CliCommand, PageTitle, useApi, useAsync } from '../components.js';
import { shellArg } from '../format.js';
import { href } from '../router.js';

/** A policy (NAME or NAME@VERSION) with its source and links to every version (`evident get policy`). */
export function PolicyPage({ policyRef }: { policyRef: string }) {
  const { api } = useApi();
  const name = policyRef.split('@')[0] ?? policyRef;
  const state = useAsync(() => api.policy(policyRef), [api, policyRef]);
  const latest = useAsync(() => api.policy(name), [api, name]);
  const attached = useAttachments(api);
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
              <dd><Time iso={p.created_at} /> · <EntryLink index={p.entry_index} /></dd>
              <dt>Attached to</dt>
              <dd>{attached.data ? <AttachedTo list={attached.data.get(p.name)} /> : <span class="muted">…</span>}</dd>
              <dt>Digest</dt>
              <dd><code class="wrap" title={p.digest}>{p.digest.startsWith('sha256:') ? p.digest : `sha256:${p.digest}`}</code> <Copy text={p.digest} label="digest" /></dd>
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
