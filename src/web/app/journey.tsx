// An artifact's journey (issue 18, "an artifact's path from commit to production"): commit → build →
// attestations → approvals → each environment it ran in, since when, until when, and whether the policy
// judged it compliant in the snapshot where it started — "is commit X in production, since when, was it
// compliant?" in one place. Every fact comes from the artifact view and the snapshot view the server
// checked against their log entries; nothing here is inferred beyond reading the spans off the timeline.
import type { ComponentChildren } from 'preact';
import type { ArtifactDetail, Attestation, Snapshot } from './api.js';
import { ComplianceBadge, TrailName, useApi, useAsync } from './components.js';
import { MaybeLink } from './attestation-content.js';
import { EntryLink } from './entry-link.js';
import { duration, short } from './format.js';
import { Time } from './time.js';
import { href } from './router.js';

/** One stay in an environment: from the snapshot it first appeared in to the first snapshot without it. */
export interface Span {
  environment: string;
  start: { snapshot: string; at: string };
  end: { snapshot: string; at: string } | null;
}

/**
 * The runs in each environment, oldest first, read from the artifact's timeline: the structured fields the
 * server gives each event (`kind`, `environment`, `snapshot`), never its wording, which is for people.
 */
export function spansOf(history: ArtifactDetail['history']): Span[] {
  const open = new Map<string, Span>();
  const spans: Span[] = [];
  for (const e of [...history].sort((x, y) => x.timestamp.localeCompare(y.timestamp))) {
    if (e.environment === undefined || e.snapshot === undefined) continue;
    const at = { snapshot: `${e.environment}#${e.snapshot}`, at: e.timestamp };
    if (e.kind === 'started') {
      const span: Span = { environment: e.environment, start: at, end: null };
      open.set(span.environment, span);
      spans.push(span);
    } else if (e.kind === 'exited') {
      const span = open.get(e.environment);
      if (span) span.end = at;
      open.delete(e.environment);
    }
  }
  return spans;
}

/** Runs shown per environment: the newest; an artifact that came and went 500 times lists the rest in its timeline. */
export const RUNS_PER_ENVIRONMENT = 3;

/** The newest runs of each environment (oldest first within it), and how many earlier ones are left out. */
export function recentSpans(spans: Span[], perEnvironment = RUNS_PER_ENVIRONMENT): { shown: Span[]; earlier: number } {
  const byEnv = new Map<string, Span[]>();
  for (const s of spans) byEnv.set(s.environment, [...(byEnv.get(s.environment) ?? []), s]);
  const shown = [...byEnv.values()].flatMap((list) => list.slice(-perEnvironment));
  return { shown, earlier: spans.length - shown.length };
}

const seconds = (from: string, to: string | null) => Math.max(0, ((to ? Date.parse(to) : Date.now()) - Date.parse(from)) / 1000);

/** Whether the snapshot where the run started judged this artifact compliant, and under which policy. */
function VerdictThen({ span, fingerprint }: { span: Span; fingerprint: string }) {
  const { api } = useApi();
  const state = useAsync(() => api.snapshot(span.start.snapshot), [api, span.start.snapshot]);
  if (state.loading) return <span class="muted small">checking {span.start.snapshot}…</span>;
  if (state.error || !state.data) return <span class="muted small">verdict not available</span>;
  return <Verdict snapshot={state.data} fingerprint={fingerprint} />;
}

function Verdict({ snapshot, fingerprint }: { snapshot: Snapshot; fingerprint: string }) {
  const row = snapshot.artifacts.find((x) => x.fingerprint === fingerprint);
  if (!row) return <span class="muted small">not in {snapshot.environment}#{snapshot.index}</span>;
  const c = row.compliance;
  const policies = c?.policies ?? [];
  if (!c || policies.length === 0) return <span class="verdict"><span class="badge none">no policy</span> <span class="muted small">attached then</span></span>;
  return (
    <span class="verdict">
      <ComplianceBadge state={c.allowed ? 'ALLOWED' : c.compliant} />{' '}
      <span class="small">
        then, under {policies.map((p, i) => (
          <span key={`${p.policy}@${p.version}`}>{i > 0 && ', '}<a href={href(['policies', `${p.policy}@${p.version}`])}>{p.policy}@{p.version}</a></span>
        ))}
      </span>
    </span>
  );
}

function Step({ title, state, children }: { title: string; state?: 'ok' | 'bad' | 'warn' | 'none'; children: ComponentChildren }) {
  return (
    <li class={`step ${state ?? 'none'}`}>
      <h4>{title}</h4>
      <div>{children}</div>
    </li>
  );
}

const stateOf = (x: boolean | null | undefined): 'ok' | 'bad' | 'none' => (x === true ? 'ok' : x === false ? 'bad' : 'none');

/** The attestation chips: each with its result and entry; missing required ones in words. */
function Attestations({ a, trailLevel }: { a: ArtifactDetail; trailLevel: Attestation[] }) {
  const missing = a.compliance.attestations.filter((x) => x.status === 'MISSING');
  const all = [...a.attestations, ...trailLevel];
  if (all.length === 0 && missing.length === 0) return <p class="muted">None recorded.</p>;
  return (
    <ul class="chips" aria-label="Attestations">
      {all.map((x) => (
        <li key={x.entry_index}>
          <span class={`dot ${stateOf(x.compliant)}`} aria-hidden="true" />
          {x.name} <span class="muted small">{x.type ?? ''}</span> <ComplianceBadge state={x.compliant} /> <EntryLink index={x.entry_index} />
        </li>
      ))}
      {missing.map((x) => <li key={`missing-${x.attestation_name}`}><span class="dot warn" aria-hidden="true" />{x.attestation_name} <span class="badge warn">missing</span></li>)}
    </ul>
  );
}

/** Releases that promoted it, each with its approvals (approver, decision). */
function Approvals({ a }: { a: ArtifactDetail }) {
  const rows = a.related_attestations ?? [];
  const trails = [...new Map(rows.map((x) => [`${x.flow}/${x.trail}`, x])).values()];
  if (trails.length === 0) return <p class="muted">No release or approval names it.</p>;
  return (
    <ul class="chips" aria-label="Releases and approvals">
      {trails.map((t) => {
        const approvals = rows.filter((x) => x.flow === t.flow && x.trail === t.trail && x.type === 'approval');
        return (
          <li key={`${t.flow}/${t.trail}`}>
            <a href={href(['flows', t.flow, 'trails', t.trail])}>{t.flow} / <TrailName name={t.trail} /></a>
            {approvals.length === 0 && <> <span class="badge warn">no approval</span></>}
            {approvals.map((x) => {
              const s = (x.summary ?? {}) as { approver?: string; decision?: string };
              return (
                <span key={x.entry_index}>
                  {' '}<span class={`badge ${x.compliant === true ? 'ok' : x.compliant === false ? 'bad' : 'none'}`}>{s.decision ?? 'approval'}</span>{s.approver ? ` by ${s.approver}` : ''}{' '}
                  <Time iso={x.created_at} relative={false} /> <EntryLink index={x.entry_index} />
                </span>
              );
            })}
          </li>
        );
      })}
    </ul>
  );
}

function Runs({ a, spans }: { a: ArtifactDetail; spans: Span[] }) {
  if (spans.length === 0) return <p class="muted">Never seen running in an environment's snapshot.</p>;
  // Each run shown reads its starting snapshot for the verdict: a bounded number of them.
  const { shown, earlier } = recentSpans(spans);
  return (
    <>
    <ul class="runs" aria-label="Runs in environments">
      {shown.map((s) => (
        <li key={s.start.snapshot} class={s.end ? 'ended' : 'running'}>
          <strong><a href={href(['environments', s.environment])}>{s.environment}</a></strong>{' '}
          {s.end ? <span class="badge none">ran</span> : <span class="badge ok">running now</span>}{' '}
          <span>
            since <Time iso={s.start.at} relative={false} /> (<a href={href(['snapshots', s.start.snapshot])}>{s.start.snapshot}</a>)
            {s.end ? (
              <> until <Time iso={s.end.at} relative={false} /> (<a href={href(['snapshots', s.end.snapshot])}>{s.end.snapshot}</a>)</>
            ) : null}
            {' · '}{duration(seconds(s.start.at, s.end?.at ?? null))}
          </span>{' '}
          <VerdictThen span={s} fingerprint={a.fingerprint} />
        </li>
      ))}
    </ul>
    {earlier > 0 && <p class="small muted">{earlier} earlier run{earlier === 1 ? '' : 's'} (at most {RUNS_PER_ENVIRONMENT} newest are shown per environment): see the timeline below.</p>}
    </>
  );
}

/** The journey, as an ordered list of steps (a list, so it reads in order to a screen reader and on a phone). */
export function Journey({ a, trailLevel }: { a: ArtifactDetail; trailLevel: Attestation[] }) {
  const spans = spansOf(a.history);
  const approved = (a.related_attestations ?? []).some((x) => x.type === 'approval' && x.compliant === true);
  return (
    <section aria-labelledby={`journey-${a.fingerprint}`}>
      <h3 id={`journey-${a.fingerprint}`}>Journey: commit to environments</h3>
      <ol class="journey" aria-label="Journey from commit to environments">
        <Step title="Commit" state={a.git_commit ? 'ok' : 'none'}>
          {a.git_commit ? <code>{short(a.git_commit, 7)}</code> : <span class="muted">no commit recorded</span>}{' '}
          {a.commit_time && <Time iso={a.commit_time} relative={false} />} {a.commit_url && <MaybeLink url={a.commit_url}>(at the forge)</MaybeLink>}
        </Step>
        <Step title="Build" state="ok">
          reported <Time iso={a.created_at} relative={false} /> <EntryLink index={a.entry_index} />{' '}
          {a.build_url && <MaybeLink url={a.build_url}>(build)</MaybeLink>}
        </Step>
        <Step title="Attestations" state={a.state === 'COMPLIANT' ? 'ok' : a.state === 'NON-COMPLIANT' ? 'bad' : 'warn'}>
          <ComplianceBadge state={a.state} /> <Attestations a={a} trailLevel={trailLevel} />
        </Step>
        <Step title="Approvals" state={approved ? 'ok' : 'none'}>
          <Approvals a={a} />
        </Step>
        <Step title="Environments" state={spans.some((s) => !s.end) ? 'ok' : 'none'}>
          <Runs a={a} spans={spans} />
        </Step>
      </ol>
    </section>
  );
}
