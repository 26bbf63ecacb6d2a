import type { ComponentChildren } from 'preact';
import type { ArtifactDetail } from '../api.js';
import { ArtifactName, Async, CliCommand, ComplianceBadge, Empty, PageTitle, TrailName, useApi, useAsync, usePages } from '../components.js';
import { ComplianceReasons } from '../compliance.js';
import { EvidenceLinks } from '../evidence.js';
import { shellArg, when } from '../format.js';
import { href } from '../router.js';

/** ENV#N in an event's text becomes a link to that snapshot. */
function linkSnapshots(text: string): ComponentChildren {
  const parts = text.split(/(\S+#\d+)/);
  return parts.map((p, i) => (i % 2 === 1 ? <a key={i} href={href(['snapshots', p])}>{p}</a> : p));
}

function Timeline({ history }: { history: ArtifactDetail['history'] }) {
  // Newest first: what happened last is what people look for; 100 events a page keeps 1,000 light.
  const { page, pager } = usePages([...history].reverse(), 100);
  if (history.length === 0) return <Empty>No events.</Empty>;
  return (
    <>
      <ol class="timeline" aria-label="Events, newest first">
        {page.map((e, i) => (
          <li key={`${e.timestamp}-${i}`}>
            <time dateTime={e.timestamp}>{when(e.timestamp)}</time>
            <span>{linkSnapshots(e.event)}</span>
          </li>
        ))}
      </ol>
      {pager}
    </>
  );
}

function ArtifactView({ a }: { a: ArtifactDetail }) {
  return (
    <article class="card" aria-label={`${a.flow} ${a.display_name || a.name}`}>
      <h2>
        <ArtifactName name={a.display_name || a.name} /> <ComplianceBadge state={a.state} />
      </h2>
      <dl class="facts">
        <dt>Fingerprint</dt>
        <dd><code class="wrap">sha256:{a.fingerprint}</code></dd>
        <dt>Flow and trail</dt>
        <dd>
          <a href={href(['flows', a.flow])}>{a.flow}</a> / <a href={href(['flows', a.flow, 'trails', a.trail])}><TrailName name={a.trail} /></a>
        </dd>
        <dt>Commit</dt>
        <dd>
          {a.git_commit ? <code>{a.git_commit}</code> : '—'} {a.commit_url && <a href={a.commit_url} rel="noopener noreferrer">(commit)</a>}
        </dd>
        <dt>Build</dt>
        <dd>{a.build_url ? <a href={a.build_url} rel="noopener noreferrer">{a.build_url}</a> : '—'}</dd>
        <dt>Reported</dt>
        <dd>{when(a.created_at)} (log entry <a href={href(['log'], { index: a.entry_index })}>{a.entry_index}</a>)</dd>
        {a.annotations && Object.keys(a.annotations).length > 0 && (
          <>
            <dt>Annotations</dt>
            <dd>{Object.entries(a.annotations).map(([k, v]) => <span key={k} class="tag">{k}={v}</span>)}</dd>
          </>
        )}
      </dl>
      <div class="two">
        <section aria-label="Runs now">
          <h3>Runs now in</h3>
          {a.running.length ? (
            <ul>{a.running.map((r) => <li key={r}><a href={href(['snapshots', r])}>{r}</a></li>)}</ul>
          ) : (
            <p class="muted">Not running anywhere.</p>
          )}
        </section>
        <section aria-label="Ran before">
          <h3>Ran before in</h3>
          {a.exited.length ? (
            <ul>{a.exited.map((r) => <li key={r}>until <a href={href(['snapshots', r])}>{r}</a></li>)}</ul>
          ) : (
            <p class="muted">Nowhere else.</p>
          )}
        </section>
      </div>
      <h3>Compliance</h3>
      <ComplianceReasons compliance={a.compliance} label={`Attestations required of ${a.name}`} />
      <h3>Provenance: attestations</h3>
      {a.attestations.length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <div class="table-wrap">
          <table class="compact">
            <caption class="sr-only">Attestations of this artifact</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Result</th>
                <th scope="col">Evidence</th>
                <th scope="col">Recorded</th>
              </tr>
            </thead>
            <tbody>
              {a.attestations.map((x) => (
                <tr key={x.entry_index}>
                  <th scope="row">{x.name}</th>
                  <td>{x.type}</td>
                  <td><ComplianceBadge state={x.compliant} /></td>
                  <td><EvidenceLinks evidence={x.evidence} /></td>
                  <td>{when(x.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h3>Timeline ({a.history.length} events)</h3>
      <Timeline history={a.history} />
    </article>
  );
}

/** An artifact by FLOW@FINGERPRINT, FLOW:COMMIT or fingerprint prefix (`evident get artifact REF`). */
export function ArtifactPage({ artifactRef: ref }: { artifactRef: string }) {
  const { api } = useApi();
  const state = useAsync(() => api.artifacts(ref), [api, ref]);
  return (
    <>
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href={href(['flows'])}>Flows</a> / <span aria-current="page">artifact {ref.length > 40 ? `${ref.slice(0, 40)}…` : ref}</span>
      </nav>
      <PageTitle title={`Artifact ${ref}`}>Artifact</PageTitle>
      <CliCommand command={`evident get artifact ${shellArg(ref)}`} />
      <Async state={state}>
        {(d) => (d.items.length === 0 ? <Empty>No artifact matches {ref}.</Empty> : <>{d.items.map((a) => <ArtifactView key={`${a.flow}-${a.fingerprint}-${a.trail}`} a={a} />)}</>)}
      </Async>
    </>
  );
}
