import { ArtifactName, Async, CliCommand, ComplianceBadge, PageTitle, useApi, useAsync } from '../components.js';
import { ComplianceReasons } from '../compliance.js';
import { EvidenceLinks } from '../evidence.js';
import { short, shellArg, when } from '../format.js';
import { href } from '../router.js';

/** A trail: its artifacts, attestations (with evidence files) and compliance with reasons (`evident get trail`). */
export function TrailPage({ flow, trail }: { flow: string; trail: string }) {
  const { api } = useApi();
  const state = useAsync(() => api.trail(flow, trail), [api, flow, trail]);
  return (
    <>
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href={href(['flows'])}>Flows</a> / <a href={href(['flows', flow])}>{flow}</a> / <span aria-current="page">{trail}</span>
      </nav>
      <PageTitle title={`Trail ${flow}/${trail}`}>
        Trail {trail} <span class="muted">of {flow}</span>
      </PageTitle>
      <CliCommand command={`evident get trail ${shellArg(trail)} --flow ${shellArg(flow)}`} />
      <Async state={state}>
        {(t) => (
          <>
            <dl class="facts">
              <dt>Compliance</dt>
              <dd>
                <ComplianceBadge state={t.compliance.state} />
              </dd>
              <dt>Commit</dt>
              <dd>{t.git_commit ? <a href={href(['search'], { q: t.git_commit })}><code>{t.git_commit}</code></a> : '—'}</dd>
              <dt>Began</dt>
              <dd>{when(t.created_at)} (log entry <a href={href(['log'], { index: t.entry_index })}>{t.entry_index}</a>)</dd>
              {t.description && (
                <>
                  <dt>Description</dt>
                  <dd>{t.description}</dd>
                </>
              )}
              {t.origin_url && (
                <>
                  <dt>Origin</dt>
                  <dd><a href={t.origin_url} rel="noopener noreferrer">{t.origin_url}</a></dd>
                </>
              )}
            </dl>
            <h2>Compliance of the trail</h2>
            <ComplianceReasons compliance={t.compliance} label="Trail-level attestations" />
            <h2>Artifacts</h2>
            {t.compliance.artifacts.length === 0 ? (
              <p class="muted">No artifacts.</p>
            ) : (
              t.compliance.artifacts.map((a) => (
                <section key={`${a.name}-${a.fingerprint ?? ''}`} class="card" aria-label={`Artifact ${a.name}`}>
                  <h3>
                    {a.fingerprint ? <a href={href(['artifacts', `${flow}@${a.fingerprint}`])}>{a.name}</a> : a.name} <ComplianceBadge state={a.state} />
                  </h3>
                  <p class="small muted">
                    {a.fingerprint ? <>sha256:<code>{a.fingerprint}</code></> : 'named by the template, not reported'}
                    {!a.expected && ' · not named by the template'}
                  </p>
                  <ComplianceReasons compliance={a} label={`Attestations of ${a.name}`} />
                </section>
              ))
            )}
            <h2>Attestations</h2>
            {t.attestations.length === 0 ? (
              <p class="muted">None recorded.</p>
            ) : (
              <div class="table-wrap">
                <table>
                  <caption class="sr-only">Attestations recorded in this trail</caption>
                  <thead>
                    <tr>
                      <th scope="col">Name</th>
                      <th scope="col">Type</th>
                      <th scope="col">Artifact</th>
                      <th scope="col">Result</th>
                      <th scope="col">Evidence</th>
                      <th scope="col">Recorded</th>
                    </tr>
                  </thead>
                  <tbody>
                    {t.attestations.map((a) => (
                      <tr key={a.entry_index}>
                        <th scope="row">
                          {a.name}
                          {a.description && <div class="muted small">{a.description}</div>}
                        </th>
                        <td>{a.type}</td>
                        <td>{a.artifact_fingerprint ? <a href={href(['artifacts', `${flow}@${a.artifact_fingerprint}`])}>{a.artifact_name ? <ArtifactName name={a.artifact_name} /> : short(a.artifact_fingerprint)}</a> : <span class="muted">the trail</span>}</td>
                        <td>
                          <ComplianceBadge state={a.compliant} />
                        </td>
                        <td>
                          <EvidenceLinks evidence={a.evidence} />
                        </td>
                        <td>
                          {when(a.created_at)} <a href={href(['log'], { index: a.entry_index })} class="small">entry {a.entry_index}</a>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </>
        )}
      </Async>
    </>
  );
}
