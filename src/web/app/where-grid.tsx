// "What runs where" (issue 18; Kosli's Run tab, for the whole org): flows down, environments across, each cell
// the version running there now with its compliance; a row whose environments run different versions is
// marked, which is what the next release would promote. Built from each environment's latest snapshot.
import type { Environment, Snapshot } from './api.js';
import { ArtifactName, Async, ComplianceBadge, useApi, useAsync } from './components.js';
import { href } from './router.js';

/** Environments shown at most (one snapshot read each); the rest are a click away. */
const MAX_ENVIRONMENTS = 12;

type Running = Snapshot['artifacts'][number];

export interface Grid {
  envs: string[];
  /** Whether a policy judges the environment's snapshot: without one, no compliance is shown (it is unknown). */
  judged: boolean[];
  rows: { flow: string; cells: (Running[] | undefined)[]; mismatch: boolean }[];
}

/** Flows × environments from the latest snapshots (an artifact without a flow is its own row, by name). */
export function buildGrid(snapshots: { env: string; snapshot: Snapshot | null }[]): Grid {
  const envs = snapshots.map((s) => s.env);
  const byFlow = new Map<string, (Running[] | undefined)[]>();
  snapshots.forEach(({ snapshot }, column) => {
    for (const a of snapshot?.artifacts ?? []) {
      const flow = a.flow ?? a.name;
      const cells = byFlow.get(flow) ?? byFlow.set(flow, envs.map(() => undefined)).get(flow)!;
      (cells[column] ??= []).push(a);
    }
  });
  const rows = [...byFlow.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([flow, cells]) => {
      const versions = new Set(cells.filter((c) => c !== undefined).map((c) => c!.map((a) => a.fingerprint).sort().join(',')));
      return { flow, cells, mismatch: versions.size > 1 || cells.some((c) => c === undefined) };
    });
  return { envs, judged: snapshots.map((s) => (s.snapshot?.policies ?? []).length > 0), rows };
}

/** The short version of an artifact: its image tag, else the fingerprint's first 7. */
function version(a: Running): string {
  const tag = /:([^:/@]+)$/.exec(a.name)?.[1];
  return tag ?? a.fingerprint.slice(0, 7);
}

function Cell({ running, judged }: { running: Running[] | undefined; judged: boolean }) {
  if (!running) return <span class="muted">—</span>;
  return (
    <>
      {running.map((a) => (
        <div key={a.fingerprint}>
          <a href={href(['artifacts', a.flow ? `${a.flow}@${a.fingerprint}` : a.fingerprint])} title={a.name}>
            <code>{version(a)}</code>
          </a>{' '}
          {judged && a.compliance ? <ComplianceBadge state={a.compliance.allowed ? 'ALLOWED' : a.compliance.compliant} /> : null}
          {a.instances > 1 && <span class="small muted"> ×{a.instances}</span>}
        </div>
      ))}
    </>
  );
}

export function WhereGrid({ environments }: { environments: Environment[] }) {
  const { api } = useApi();
  const shown = environments.filter((e) => !e.archived_at && e.latest_snapshot !== null).slice(0, MAX_ENVIRONMENTS);
  const names = shown.map((e) => e.name);
  const state = useAsync(
    async () => buildGrid(await Promise.all(names.map(async (env) => ({ env, snapshot: await api.snapshot(env) })))),
    [api, names.join('\n')],
    (e) => e.type === 'snapshot.created' && names.includes(e.environment ?? ''),
  );
  if (shown.length === 0) return null;
  return (
    <section aria-labelledby="where-h">
      <h2 id="where-h">What runs where</h2>
      <p class="small muted">
        The version of each flow running now in each environment (its latest snapshot). <span class="mismatch-key">Marked</span> rows differ
        between environments: what a release would promote.
      </p>
      <Async state={state}>
        {(g) => (
          <div class="table-wrap">
            <table class="where">
              <caption class="sr-only">Flows by environment: the version running now</caption>
              <thead>
                <tr>
                  <th scope="col">Flow</th>
                  {g.envs.map((env) => (
                    <th scope="col" key={env}>
                      <a href={href(['environments', env])}>{env}</a>
                      {!g.judged[g.envs.indexOf(env)] && <div class="small muted">no policy: compliance unknown</div>}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {g.rows.map((r) => (
                  <tr key={r.flow} class={r.mismatch ? 'mismatch' : undefined}>
                    <th scope="row">
                      <a href={href(['flows', r.flow])}><ArtifactName name={r.flow} /></a>
                      {r.mismatch && <span class="sr-only"> (differs between environments)</span>}
                    </th>
                    {r.cells.map((c, i) => (
                      <td key={g.envs[i]} data-label={g.envs[i]}>
                        <Cell running={c} judged={g.judged[i]!} />
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Async>
      {environments.length > shown.length && shown.length === MAX_ENVIRONMENTS && (
        <p class="small muted">Showing the first {MAX_ENVIRONMENTS} environments.</p>
      )}
    </section>
  );
}
