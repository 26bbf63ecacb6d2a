// The environment's Log tab (issue 18; Kosli's environment page has one): what started, exited or scaled
// in each snapshot, and each deployment expectation, newest first and a page at a time. Built from
// GET …/environments/E/events and …/expectations.
import type { EnvironmentEvents, Expectation } from './api.js';
import { ArtifactName, Async, CliCommand, Empty, useApi, useAsync, usePages } from './components.js';
import { ago, shellArg, when } from './format.js';
import { href } from './router.js';
import { Swimlanes } from './swimlanes.js';

type Event = EnvironmentEvents['items'][number];

/** One line of the log: a snapshot's changes, or a deployment expectation. */
type Verdicts = NonNullable<EnvironmentEvents['snapshots']>[number];
type Row = { kind: 'snapshot'; snapshot: number; timestamp: string; events: Event[]; verdicts?: Verdicts } | { kind: 'expected'; timestamp: string; x: Expectation };

/** Snapshots (with their changes and verdicts; a policy change changes nothing that runs) and expectations, newest first. */
export function logRows(events: Event[], expectations: Expectation[], snapshots: readonly Verdicts[] = []): Row[] {
  const bySnapshot = new Map<number, Row & { kind: 'snapshot' }>();
  for (const v of snapshots) bySnapshot.set(v.index, { kind: 'snapshot', snapshot: v.index, timestamp: v.timestamp, events: [], verdicts: v });
  for (const e of events) {
    let row = bySnapshot.get(e.snapshot);
    if (!row) bySnapshot.set(e.snapshot, (row = { kind: 'snapshot', snapshot: e.snapshot, timestamp: e.timestamp, events: [] }));
    row.events.push(e);
  }
  const rows: Row[] = [...bySnapshot.values(), ...expectations.map((x) => ({ kind: 'expected' as const, timestamp: x.created_at, x }))];
  return rows.sort((a, b) => (a.timestamp < b.timestamp ? 1 : a.timestamp > b.timestamp ? -1 : 0));
}

/** Rows (snapshots or deployments) per page. */
const PAGE = 25;

const artifactLink = (fingerprint: string) => href(['artifacts', fingerprint]);

/** An artifact's verdict in that snapshot, in words (the server's, as `get snapshot` gives it). */
function VerdictBadge({ v }: { v: NonNullable<Event['compliance']> }) {
  const cls = v === 'compliant' ? 'ok' : v === 'non-compliant' ? 'bad' : v === 'allowed' ? 'warn' : 'none';
  return <span class={`badge ${cls}`}>{v === 'no-policy' ? 'no policy' : v === 'allowed' ? 'allowed (exemption)' : v}</span>;
}

function Change({ e }: { e: Event }) {
  const name = (
    <a href={artifactLink(e.fingerprint)} title={e.fingerprint}>
      <ArtifactName name={e.name} />
    </a>
  );
  const verdict = e.compliance ? <> <VerdictBadge v={e.compliance} /></> : null;
  if (e.type === 'started') return <li class="log-started"><span aria-hidden="true">+ </span><span class="sr-only">Started </span>{name} ×{e.instances}{verdict}</li>;
  if (e.type === 'exited') return <li class="log-exited"><span aria-hidden="true">− </span><span class="sr-only">Exited </span>{name}</li>;
  return <li class="log-scaled"><span aria-hidden="true">~ </span>{name} scaled {e.previous_instances ?? '?'} → {e.instances}{verdict}</li>;
}

export function EnvironmentLog({ env }: { env: string }) {
  const { api } = useApi();
  const state = useAsync(
    async () => {
      const [events, expectations] = await Promise.all([api.events(env), api.expectations(env)]);
      return { rows: logRows(events.items, expectations.items, events.snapshots), events: events.items, snapshots: events.snapshots };
    },
    [api, env],
    (e) => e.environment === env,
  );
  return (
    <section aria-labelledby="log-h">
      <h2 id="log-h">Log</h2>
      <CliCommand command={`evident log environment ${shellArg(env)}`} />
      <Async state={state}>
        {(d) => (
          <>
            <Swimlanes env={env} events={d.events} snapshots={d.snapshots} />
            <LogList env={env} rows={d.rows} />
          </>
        )}
      </Async>
    </section>
  );
}

function LogList({ env, rows }: { env: string; rows: Row[] }) {
  const { page, pager } = usePages(rows, PAGE);
  if (rows.length === 0) return <Empty>Nothing has run here yet.</Empty>;
  return (
    <>
      <ol class="timeline env-log" aria-label="Changes and deployments, newest first">
        {page.map((r) => (
          <li key={r.kind === 'snapshot' ? `s${r.snapshot}` : `x${r.x.number}`}>
            <time dateTime={r.timestamp} title={when(r.timestamp)}>{ago(r.timestamp)}</time>
            {r.kind === 'snapshot' ? (
              <div>
                Snapshot <a href={href(['snapshots', `${env}#${r.snapshot}`])}>#{r.snapshot}</a>
                {r.snapshot > 1 && (
                  <>
                    {' '}· <a href={href(['diff'], { a: `${env}#${r.snapshot - 1}`, b: `${env}#${r.snapshot}` })}>diff with #{r.snapshot - 1}</a>
                  </>
                )}
                {r.events.length === 0 && r.verdicts && (
                  <span class="muted">
                    {' '}· nothing started or stopped; judged by {r.verdicts.policies.length === 0 ? 'no policy' : r.verdicts.policies.map((p) => `${p.name}@${p.version}`).join(', ')}
                  </span>
                )}
                {r.events.length > 0 && (
                  <ul class="changes">
                    {r.events.map((e) => <Change key={`${e.type}-${e.fingerprint}`} e={e} />)}
                  </ul>
                )}
              </div>
            ) : (
              <div>
                Deployment expected (#{r.x.number}): <a href={artifactLink(r.x.fingerprint)}><code>{r.x.fingerprint.slice(0, 12)}</code></a>
                {r.x.description && <span class="muted"> · {r.x.description}</span>}
              </div>
            )}
          </li>
        ))}
      </ol>
      {pager}
    </>
  );
}
