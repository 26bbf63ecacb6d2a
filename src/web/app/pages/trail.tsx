import type { LiveFilter } from '../live.js';
import { Async, CliCommand, ComplianceBadge, PageTitle, TrailName, useApi, useAsync, useCursorList } from '../components.js';
import { AttestationList } from '../attestation-list.js';
import { ComplianceReasons } from '../compliance.js';
import { EntryLink } from '../entry-link.js';
import { Copy } from '../copy.js';
import { safeHref, shellArg } from '../format.js';
import { href } from '../router.js';
import { Time } from '../time.js';
import { PackageDownload } from '../package-download.js';

/** A trail: its artifacts, attestations (what each says, with evidence files) and compliance with reasons (`evident get trail`). */
export function TrailPage({ flow, trail }: { flow: string; trail: string }) {
  const { api } = useApi();
  const live: LiveFilter = (e) => e.flow === flow && e.trail === trail;
  // The trail's facts, compliance and artifacts (one attestation is enough for them), and its attestations page by page.
  const state = useAsync(() => api.trail(flow, trail, null, 1), [api, flow, trail], live);
  const attestations = useCursorList((cursor) => api.trail(flow, trail, cursor, 100).then((t) => ({ items: t.attestations, next_cursor: t.next_cursor ?? null })), [api, flow, trail], live);
  return (
    <>
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href={href(['flows'])}>Flows</a> / <a href={href(['flows', flow])}>{flow}</a> / <span aria-current="page"><TrailName name={trail} /></span>
      </nav>
      <PageTitle title={`Trail ${flow}/${trail}`}>
        Trail <TrailName name={trail} /> <span class="muted">of {flow}</span>
      </PageTitle>
      <CliCommand command={`evident get trail ${shellArg(trail)} --flow ${shellArg(flow)}`} />
      <Async state={state}>
        {(t) => {
          const hasTemplate = t.template !== null && t.template.trim() !== '';
          const origin = safeHref(t.origin_url);
          return (
            <>
              <dl class="facts">
                <dt>Compliance</dt>
                <dd>
                  <ComplianceBadge state={t.compliance.state} />{' '}
                  <span class="small muted">{hasTemplate ? 'against the template the trail began with' : 'no template: each attestation counts by its own result'}</span>
                </dd>
                <dt>Commit</dt>
                <dd>{t.git_commit ? <><a href={href(['search'], { q: t.git_commit })}><code class="wrap">{t.git_commit}</code></a> <Copy text={t.git_commit} label="commit" /></> : '—'}</dd>
                <dt>Began</dt>
                <dd><Time iso={t.created_at} /> · <EntryLink index={t.entry_index} /></dd>
                {t.description && (
                  <>
                    <dt>Description</dt>
                    <dd>{t.description}</dd>
                  </>
                )}
                {t.origin_url && (
                  <>
                    <dt>Origin</dt>
                    <dd class="wrap">{origin ? <a href={origin} rel="noopener noreferrer">{t.origin_url}</a> : t.origin_url}</dd>
                  </>
                )}
              </dl>
              <h2>Checklist</h2>
              <ComplianceReasons compliance={t.compliance} label="Trail-level attestations" hasTemplate={hasTemplate} />
              <h2>Artifacts</h2>
              {t.compliance.artifacts.length === 0 ? (
                <p class="muted">{attestations.items.some((a) => a.artifact_fingerprint) ? 'None built in this trail; the attestations below name artifacts of other flows.' : 'No artifacts.'}</p>
              ) : (
                t.compliance.artifacts.map((a) => (
                  <section key={`${a.name}-${a.fingerprint ?? ''}`} class="card" aria-label={`Artifact ${a.name}`}>
                    <h3>
                      {a.fingerprint ? <a href={href(['artifacts', `${flow}@${a.fingerprint}`])}>{a.name}</a> : a.name} <ComplianceBadge state={a.state} />
                    </h3>
                    <p class="small muted">
                      {a.fingerprint ? <>sha256:<code class="wrap">{a.fingerprint}</code> <Copy text={a.fingerprint} label="fingerprint" /></> : 'named by the template, not reported'}
                      {!a.expected && hasTemplate && ' · not named by the template'}
                    </p>
                    <ComplianceReasons compliance={a} label={`Attestations of ${a.name}`} hasTemplate={hasTemplate} />
                  </section>
                ))
              )}
              <h2>Attestations: what each says, and its evidence</h2>
              {t.attestation_count !== undefined && <p class="small muted">{t.attestation_count} in this trail, oldest first.</p>}
              <AttestationList items={attestations.items} />
              {attestations.more}
              <PackageDownload subject={{ type: 'trail', flow, trail }} />
            </>
          );
        }}
      </Async>
    </>
  );
}
