// What an attestation says, by type: the pull requests, the test suites and failing cases, the scan findings
// by severity, the approval, a custom type's data and rule results, a provenance's builder. The server
// checked each shown field (summary, description, user data, annotations, evidence) against the attestation's
// log entry before answering (services/records/fact-claims.ts). Everything here is text from whoever reported
// it: it is rendered as text (Preact escapes it) and links only ever get http(s) URLs (safeHref).
import type { ComponentChildren } from 'preact';
import type { Attestation } from './api.js';
import { safeHref, withoutRegistries } from './format.js';
import { Time } from './time.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v));
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** A URL as a link when it is http(s); any other scheme (javascript:, data:) is shown as text. */
export function MaybeLink({ url, children }: { url: unknown; children?: ComponentChildren }) {
  const h = safeHref(str(url));
  return h ? <a href={h} rel="noopener noreferrer">{children ?? h}</a> : <>{children ?? str(url)}</>;
}

function PullRequests({ s }: { s: Obj }) {
  const prs = list(s.pull_requests).map(obj);
  return (
    <div class="content">
      <p class="small muted">{str(s.provider)} · {str(s.repository)}</p>
      {prs.length === 0 ? <p><strong>No pull request</strong> contains the commit.</p> : (
        <ul class="plain">
          {prs.map((pr, i) => (
            <li key={i}>
              <MaybeLink url={pr.url}>#{str(pr.number)}</MaybeLink> {str(pr.title)}
              <span class="muted small"> · by {str(pr.author) || 'unknown'}{pr.state ? ` · ${str(pr.state)}` : ''}{pr.merged_at ? <> · merged <Time iso={str(pr.merged_at)} relative={false} /></> : ''}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function JUnit({ s }: { s: Obj }) {
  const t = obj(s.totals);
  const suites = list(s.suites).map(obj);
  const failed = list(s.failed_cases).map(obj);
  const bad = num(t.failures) + num(t.errors);
  return (
    <div class="content">
      <p>
        <strong>{num(t.tests)} tests</strong>: {num(t.tests) - bad - num(t.skipped)} passed, <span class={bad ? 'bad-text' : ''}>{num(t.failures)} failed, {num(t.errors)} errors</span>, {num(t.skipped)} skipped
        <span class="muted small"> · {suites.length} suites · {num(t.duration_secs)} s</span>
      </p>
      {failed.length > 0 && (
        <>
          <p class="small"><strong>Failing cases</strong></p>
          <ul class="plain failing-cases">
            {failed.map((c, i) => (
              <li key={i}>
                <code class="wrap">{str(c.classname) ? `${str(c.classname)}.` : ''}{str(c.name)}</code> <span class="muted small">({str(c.suite)}, {str(c.type)})</span>
                <div class="message">{str(c.message)}</div>
              </li>
            ))}
          </ul>
        </>
      )}
      {suites.length > 0 && (
        <details>
          <summary>Suites ({suites.length})</summary>
          <div class="table-wrap">
            <table class="compact">
              <caption class="sr-only">Test suites</caption>
              <thead><tr><th scope="col">Suite</th><th scope="col" class="num">Tests</th><th scope="col" class="num">Failed</th><th scope="col" class="num">Errors</th><th scope="col" class="num">Skipped</th></tr></thead>
              <tbody>
                {suites.map((x, i) => (
                  <tr key={i}><th scope="row">{str(x.name)}</th><td class="num">{num(x.tests)}</td><td class="num">{num(x.failures)}</td><td class="num">{num(x.errors)}</td><td class="num">{num(x.skipped)}</td></tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      )}
    </div>
  );
}

const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
const LEVELS = ['error', 'warning', 'note', 'none'] as const;

function Sarif({ s }: { s: Obj }) {
  const sev = obj(s.by_severity);
  const lvl = obj(s.by_level);
  const top = list(s.top).map(obj);
  const threshold = obj(s.threshold);
  const thresholdText = [threshold.severity && `severity ${str(threshold.severity)} or worse`, threshold.level && `level ${str(threshold.level)} or worse`].filter(Boolean).join(', ') || 'any error-level finding';
  return (
    <div class="content">
      <p>
        <strong>{num(s.results)} findings</strong> by severity:{' '}
        {SEVERITIES.map((k) => <span key={k} class={`sev sev-${k}`}>{k} {num(sev[k])}</span>)}
        <span class="muted small"> · {str(list(s.tools).map(str).join(', '))} · {num(s.rules)} rules{num(s.suppressed) ? ` · ${num(s.suppressed)} suppressed` : ''} · fails on {thresholdText}</span>
      </p>
      {top.length > 0 && (
        <>
          <p class="small"><strong>Most severe findings</strong> (by level: {LEVELS.map((l) => `${l} ${num(lvl[l])}`).join(', ')})</p>
          {LEVELS.map((level) => {
            const rows = top.filter((r) => str(r.level) === level);
            return rows.length === 0 ? null : (
              <section key={level} aria-label={`${level} findings`}>
                <h4 class="small">{level} ({rows.length})</h4>
                <ul class="plain findings">
                  {rows.map((r, i) => (
                    <li key={i}>
                      <code class="wrap">{str(r.rule_id)}</code> {r.location ? <span class="muted small">at <code class="wrap">{str(r.location)}</code></span> : null}
                      <div class="message">{str(r.message)}</div>
                    </li>
                  ))}
                </ul>
              </section>
            );
          })}
        </>
      )}
    </div>
  );
}

function Approval({ s }: { s: Obj }) {
  return (
    <div class="content">
      <p>
        <strong>{str(s.decision) || 'decision not given'}</strong> by <strong>{str(s.approver) || 'unknown'}</strong>
      </p>
      {s.comment ? <blockquote class="message">{str(s.comment)}</blockquote> : null}
    </div>
  );
}

function Custom({ s }: { s: Obj }) {
  const rules = list(s.rules).map(obj);
  const errors = list(s.schema_errors).map(obj);
  return (
    <div class="content">
      <p class="small muted">type {str(s.attestation_type)}@{str(s.version)}</p>
      <JsonBlock label="Data" value={s.data} />
      {errors.length > 0 && <ul class="plain reasons">{errors.map((e, i) => <li key={i}>schema: <code>{str(e.path)}</code> {str(e.message)}</li>)}</ul>}
      {rules.length > 0 && (
        <ul class="plain">
          {rules.map((r, i) => (
            <li key={i}>{r.ok === true ? '✓ passes' : '✗ fails'} <code class="wrap">{str(r.rule)}</code>{r.message ? <span class="muted small"> {str(r.message)}</span> : null}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

function Provenance({ s }: { s: Obj }) {
  return (
    <div class="content">
      <p>subject <code class="wrap">{str(s.subject) || '—'}</code> ({num(s.subjects)} in the file) · built by <code class="wrap">{str(s.builder_id)}</code></p>
      <p class="small muted">build type {str(s.build_type)} · {s.enveloped ? `DSSE envelope, ${num(s.signatures)} signatures` : 'bare statement'}</p>
    </div>
  );
}

/** A flat object as name/value pairs (URLs as links), anything deeper as JSON. */
export function DataFacts({ label, value }: { label: string; value: unknown }) {
  if (value === null || value === undefined) return null;
  const o = obj(value);
  const entries = Object.entries(o);
  const flat = entries.length > 0 && entries.length <= 30 && entries.every(([, v]) => v === null || typeof v !== 'object');
  if (!flat) return <JsonBlock label={label} value={value} />;
  const facts = (
    <dl class="facts small" aria-label={label}>
      {entries.map(([k, v]) => (
        <>
          <dt key={`k-${k}`}>{k}</dt>
          <dd key={`v-${k}`} class="wrap">{safeHref(str(v)) ? <MaybeLink url={v} /> : withoutRegistries(str(v))}</dd>
        </>
      ))}
    </dl>
  );
  return entries.length <= 4 ? facts : <details><summary>{label} ({entries.length} fields)</summary>{facts}</details>;
}

/** JSON shown as text in a focusable, scrollable block. */
export function JsonBlock({ label, value }: { label: string; value: unknown }) {
  if (value === null || value === undefined) return null;
  return (
    <details>
      <summary>{label}</summary>
      <pre class="source" tabIndex={0} aria-label={label}>{JSON.stringify(value, null, 2)}</pre>
    </details>
  );
}

function ofType(type: string, s: Obj): ComponentChildren {
  if (type === 'pull_request') return <PullRequests s={s} />;
  if (type === 'junit') return <JUnit s={s} />;
  if (type === 'approval') return <Approval s={s} />;
  if (type === 'provenance') return <Provenance s={s} />;
  if (type.startsWith('custom:')) return <Custom s={s} />;
  if ('by_severity' in s || 'by_level' in s) return <Sarif s={s} />;
  return Object.keys(s).length > 0 ? <JsonBlock label="Summary" value={s} /> : null;
}

/** The content of one attestation, with its description, annotations and user data. */
export function AttestationContent({ a }: { a: Attestation }) {
  const notes = Object.entries(a.annotations ?? {});
  return (
    <>
      {ofType(a.type, obj(a.summary))}
      {a.description && <p class="message" title={a.description}>{withoutRegistries(a.description)}</p>}
      {notes.length > 0 && (
        <dl class="facts small">
          {notes.map(([k, v]) => (
            <>
              <dt key={`k-${k}`}>{k}</dt>
              <dd key={`v-${k}`}><MaybeLink url={v} /></dd>
            </>
          ))}
        </dl>
      )}
      <DataFacts label="User data" value={a.user_data} />
    </>
  );
}
