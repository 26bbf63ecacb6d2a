import type { ComponentChildren } from 'preact';
import type { ArtifactDetail, Attestation } from '../api.js';
import { ArtifactName, Async, CliCommand, ComplianceBadge, Empty, PageTitle, TrailName, useApi, useAsync, usePages } from '../components.js';
import { ComplianceReasons } from '../compliance.js';
import { AttestationList } from '../attestation-list.js';
import { MaybeLink } from '../attestation-content.js';
import { Copy } from '../copy.js';
import { Journey } from '../journey.js';
import { PackageDownload } from '../package-download.js';
import { EntryLink } from '../entry-link.js';
import { shellArg } from '../format.js';
import { Time } from '../time.js';
import { href } from '../router.js';

/**
 * An event as the server words it, with its environment and snapshot (from the event's structured fields)
 * as links. "Deployment #N to ENV environment" (Kosli's wording) is a deployment expectation — CI said it
 * would deploy the artifact (`evident expect deployment`) — numbered per environment: said so, and linked to
 * the environment's expected-against-running list.
 */
function EventText({ e }: { e: ArtifactDetail['history'][number] }): ComponentChildren {
  if (e.kind === 'expected' && e.environment !== undefined) {
    return (
      <>
        Deployment #{e.expectation} to <a href={href(['environments', e.environment])}>{e.environment}</a> expected{' '}
        <span class="muted small">(CI announced it would deploy this artifact: <code>evident expect deployment</code>; the snapshots show when it ran)</span>
      </>
    );
  }
  if (e.environment === undefined || e.snapshot === undefined) return e.event;
  // The server's words, with its snapshot made a link where they name it.
  const snapshot = `${e.environment}#${e.snapshot}`;
  const at = e.event.indexOf(snapshot);
  if (at < 0) return <>{e.event} (<a href={href(['snapshots', snapshot])}>{snapshot}</a>)</>;
  return <>{e.event.slice(0, at)}<a href={href(['snapshots', snapshot])}>{snapshot}</a>{e.event.slice(at + snapshot.length)}</>;
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
            <Time iso={e.timestamp} relative={false} />
            <span><EventText e={e} /></span>
          </li>
        ))}
      </ol>
      {pager}
    </>
  );
}

/** Its trail's own attestations (the pull request that reviewed the commit, for one): part of its story too. */
function TrailLevel({ a, items }: { a: ArtifactDetail; items: Attestation[] }) {
  if (items.length === 0) return null;
  return (
    <section aria-label="Attestations of its trail">
      <h3>Of its trail <a href={href(['flows', a.flow, 'trails', a.trail])}><TrailName name={a.trail} /></a></h3>
      <AttestationList items={items} showTarget={false} />
    </section>
  );
}

/** Other trails that name this artifact — a release that promoted it, with that release's approval — linked both ways. */
function Related({ a }: { a: ArtifactDetail }) {
  const rows = a.related_attestations ?? [];
  if (rows.length === 0) return null;
  const trails = [...new Map(rows.map((x) => [`${x.flow}/${x.trail}`, { flow: x.flow, trail: x.trail }])).values()];
  return (
    <section aria-labelledby={`related-${a.fingerprint}`}>
      <h3 id={`related-${a.fingerprint}`}>Releases and approvals that name it</h3>
      {trails.map((t) => (
        <div key={`${t.flow}/${t.trail}`} class="related">
          <h4>
            <a href={href(['flows', t.flow, 'trails', t.trail])}>{t.flow} / <TrailName name={t.trail} /></a>
          </h4>
          <AttestationList items={rows.filter((x) => x.flow === t.flow && x.trail === t.trail)} />
        </div>
      ))}
    </section>
  );
}

function ArtifactView({ a }: { a: ArtifactDetail }) {
  const { api } = useApi();
  const trail = useAsync(() => api.trailAll(a.flow, a.trail), [api, a.flow, a.trail]);
  const trailLevel = trail.data?.attestations.filter((x) => !x.artifact_fingerprint && !x.artifact_name) ?? [];
  return (
    <article class="card" aria-label={`${a.flow} ${a.display_name || a.name}`}>
      <h2>
        <ArtifactName name={a.display_name || a.name} /> <ComplianceBadge state={a.state} />
      </h2>
      <dl class="facts">
        <dt>Fingerprint</dt>
        <dd><code class="wrap">sha256:{a.fingerprint}</code> <Copy text={a.fingerprint} label="fingerprint" /></dd>
        <dt>Flow and trail</dt>
        <dd>
          <a href={href(['flows', a.flow])}>{a.flow}</a> / <a href={href(['flows', a.flow, 'trails', a.trail])}><TrailName name={a.trail} /></a>
        </dd>
        <dt>Commit</dt>
        <dd>
          {a.git_commit ? <><a href={href(['search'], { q: a.git_commit })}><code class="wrap">{a.git_commit}</code></a> <Copy text={a.git_commit} label="commit" /></> : '—'}{' '}
          {a.commit_url && <MaybeLink url={a.commit_url}>(at the forge)</MaybeLink>}
        </dd>
        <dt>Build</dt>
        <dd class="wrap">{a.build_url ? <MaybeLink url={a.build_url} /> : '—'}</dd>
        <dt>Reported</dt>
        <dd><Time iso={a.created_at} /> · <EntryLink index={a.entry_index} /></dd>
        {a.annotations && Object.keys(a.annotations).length > 0 && (
          <>
            <dt>Annotations</dt>
            <dd>{Object.entries(a.annotations).map(([k, v]) => <span key={k} class="tag">{k}={v}</span>)}</dd>
          </>
        )}
      </dl>
      <Journey a={a} trailLevel={trailLevel} />
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
      <Related a={a} />
      <PackageDownload subject={{ type: 'artifact', fingerprint: a.fingerprint }} />
      <h3>Compliance</h3>
      <ComplianceReasons compliance={a.compliance} label={`Attestations required of ${a.name}`} hasTemplate={a.compliance.attestations.length > 0 ? true : undefined} />
      <h3>Attestations: what each says, and its evidence</h3>
      <AttestationList items={a.attestations} showTarget={false} />
      <TrailLevel a={a} items={trailLevel} />
      <h3>Timeline ({a.history.length} events)</h3>
      <Timeline history={a.history} />
    </article>
  );
}

/** An artifact by FLOW@FINGERPRINT, FLOW:COMMIT or fingerprint prefix (`evident get artifact REF`). */
export function ArtifactPage({ artifactRef: ref }: { artifactRef: string }) {
  const { api } = useApi();
  const state = useAsync(() => api.artifacts(ref), [api, ref], (e) => e.artifact !== undefined || e.type === 'snapshot.created');
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
