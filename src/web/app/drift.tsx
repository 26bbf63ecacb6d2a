// An environment's drift: the latest expectation per flow (`evident expect deployment`) against what runs
// now (`evident get environment ENV --expected`, GET …/environments/:env/drift).
import type { Drift } from './api.js';
import { useMemo } from 'preact/hooks';
import { ArtifactName, Async, CliCommand, Empty, useApi, useAsync, usePages } from './components.js';
import { shellArg, short, withoutRegistries } from './format.js';
import { href } from './router.js';
import { Time } from './time.js';

type State = Drift['items'][number]['state'];

const STATES: Record<State, { text: string; cls: string; meaning: string }> = {
  running: { text: 'running', cls: 'ok', meaning: 'expected and running' },
  'not-running': { text: 'not running', cls: 'bad', meaning: 'expected, not running (yet)' },
  'superseded-still-running': { text: 'superseded, still running', cls: 'warn', meaning: 'a newer artifact of its flow is expected, this one still runs' },
  'never-expected': { text: 'never expected', cls: 'warn', meaning: 'runs without an expectation' },
};
const ORDER: State[] = ['not-running', 'superseded-still-running', 'never-expected', 'running'];

function Table({ d }: { d: Drift }) {
  const items = useMemo(
    () => [...d.items].sort((a, b) => ORDER.indexOf(a.state) - ORDER.indexOf(b.state) || (a.flow ?? '').localeCompare(b.flow ?? '')),
    [d],
  );
  // An environment may run thousands of artifacts never expected: only one page of rows in the DOM.
  const { page, pager } = usePages(items, 100);
  if (d.items.length === 0) return <Empty>Nothing expected and nothing running.</Empty>;
  const counts = ORDER.map((s) => [s, d.items.filter((i) => i.state === s).length] as const).filter(([, n]) => n > 0);
  return (
    <>
      <p class="small" role="status">
        {d.in_sync ? <span class="badge ok">in sync</span> : <span class="badge warn">drift</span>}{' '}
        {counts.map(([s, n]) => `${n} ${STATES[s].text}`).join(' · ')}
        {d.snapshot !== null && <> · against <a href={href(['snapshots', `${d.environment}#${d.snapshot}`])}>#{d.snapshot}</a></>}
      </p>
      <div class="table-wrap">
        <table class="compact">
          <caption class="sr-only">Expected against running in {d.environment}</caption>
          <thead>
            <tr>
              <th scope="col">State</th>
              <th scope="col">Flow</th>
              <th scope="col">Artifact</th>
              <th scope="col">Instances</th>
              <th scope="col">Expectation</th>
            </tr>
          </thead>
          <tbody>
            {page.map((i) => (
              <tr key={`${i.state}-${i.name}-${i.fingerprint}`}>
                <td><span class={`badge ${STATES[i.state].cls}`} title={STATES[i.state].meaning}>{STATES[i.state].text}</span></td>
                <th scope="row">{i.flow ? <a href={href(['flows', i.flow])}>{i.flow}</a> : <span class="muted">unknown</span>}</th>
                <td>
                  <a href={href(['artifacts', i.flow ? `${i.flow}@${i.fingerprint}` : i.fingerprint])}><ArtifactName name={i.name} /></a>
                  <div class="small"><code>{short(i.fingerprint)}</code></div>
                </td>
                <td class="num">{i.instances}</td>
                <td>{i.expectation ? <>#{i.expectation.number} · <Time iso={i.expectation.expected_at} relative={false} />{i.expectation.description && <div class="small muted" title={i.expectation.description}>{withoutRegistries(i.expectation.description)}</div>}</> : <span class="muted">none</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {pager}
    </>
  );
}

export function DriftSection({ env }: { env: string }) {
  const { api } = useApi();
  const state = useAsync(() => api.drift(env), [api, env], (e) => e.environment === env);
  return (
    <section aria-labelledby="drift-h">
      <h2 id="drift-h">Expected against running</h2>
      <CliCommand command={`evident get environment ${shellArg(env)} --expected`} label="Drift from the command line" />
      <Async state={state}>{(d) => <Table d={d} />}</Async>
    </section>
  );
}
