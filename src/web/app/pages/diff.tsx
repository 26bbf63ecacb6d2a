import { useState } from 'preact/hooks';
import type { SnapshotDiff } from '../api.js';
import { ArtifactName, Async, CliCommand, Empty, PageTitle, useApi, useAsync } from '../components.js';
import { shellArg, short } from '../format.js';
import { href, navigate } from '../router.js';
import { SideBySide } from '../diff-sides.js';
import { Time } from '../time.js';

type DiffArtifact = SnapshotDiff['changed']['artifacts'][number];

function DiffTable({ title, rows, counts }: { title: string; rows: DiffArtifact[]; counts?: boolean }) {
  return (
    <section aria-label={title}>
      <h2>
        {title} <span class="count">{rows.length}</span>
      </h2>
      {rows.length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <div class="table-wrap">
          <table class="compact">
            <caption class="sr-only">{title}</caption>
            <thead>
              <tr>
                <th scope="col">Artifact</th>
                <th scope="col">Flow</th>
                <th scope="col">Fingerprint</th>
                <th scope="col">{counts ? 'Instances A → B' : 'Instances'}</th>
                <th scope="col">Latest change</th>
              </tr>
            </thead>
            <tbody>
              {rows.slice(0, 1000).map((a) => (
                <tr key={`${a.name}-${a.fingerprint}`}>
                  <th scope="row"><ArtifactName name={a.name} /></th>
                  <td>{a.flow ?? <span class="muted">unknown</span>}</td>
                  <td>
                    <a href={href(['artifacts', a.flow ? `${a.flow}@${a.fingerprint}` : a.fingerprint])}>
                      <code>{short(a.fingerprint)}</code>
                    </a>
                  </td>
                  <td class="num">{counts ? `${a.instance_count_1 ?? '?'} → ${a.instance_count_2 ?? '?'}` : a.instance_count}</td>
                  <td><Time iso={a.most_recent_timestamp} relative={false} /></td>
                </tr>
              ))}
            </tbody>
          </table>
          {rows.length > 1000 && <p class="muted">The first 1,000 of {rows.length} are shown; the CLI prints all.</p>}
        </div>
      )}
    </section>
  );
}

function DiffResult({ a, b, showUnchanged }: { a: string; b: string; showUnchanged: boolean }) {
  const { api } = useApi();
  const state = useAsync(() => api.diff(a, b, showUnchanged), [api, a, b, showUnchanged]);
  return (
    <Async state={state}>
      {(d) => (
        <>
          <p role="status">
            <a href={href(['snapshots', d.snappish1.snapshot_id])}>{d.snappish1.snapshot_id}</a> → <a href={href(['snapshots', d.snappish2.snapshot_id])}>{d.snappish2.snapshot_id}</a>:{' '}
            {d.snappish1.artifacts.length} only in A, {d.snappish2.artifacts.length} only in B, {d.changed.artifacts.length} scaled.
          </p>
          <SideBySide d={d} showUnchanged={showUnchanged} />
          <DiffTable title={`Only in A (${d.snappish1.snapshot_id})`} rows={d.snappish1.artifacts} />
          <DiffTable title={`Only in B (${d.snappish2.snapshot_id})`} rows={d.snappish2.artifacts} />
          <DiffTable title="Instance count changed" rows={d.changed.artifacts} counts />
          {showUnchanged && <DiffTable title="Unchanged" rows={d['not-changed'].artifacts} />}
        </>
      )}
    </Async>
  );
}

/** The difference between any two snapshots, also of different environments (`evident diff snapshots A B`). */
export function DiffPage({ a, b, showUnchanged }: { a: string; b: string; showUnchanged: boolean }) {
  const { api } = useApi();
  const [fa, setA] = useState(a);
  const [fb, setB] = useState(b);
  const [fu, setU] = useState(showUnchanged);
  // A picker, not only a blank box: each environment's latest snapshot and the one before it.
  const envs = useAsync(() => api.environments(), [api]);
  const choices = (envs.data?.items ?? []).filter((e) => e.latest_snapshot !== null).flatMap((e) => [e.name, `${e.name}~1`]);
  return (
    <>
      <PageTitle title="Diff snapshots">Diff two snapshots</PageTitle>
      <CliCommand command={`evident diff snapshots ${shellArg(a || 'A')} ${shellArg(b || 'B')}${showUnchanged ? ' --show-unchanged' : ''}`} />
      <form
        class="filters"
        aria-label="Snapshots to compare"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(href(['diff'], { a: fa.trim(), b: fb.trim(), unchanged: fu }));
        }}
      >
        <label>
          Snapshot A
          <input id="diff-a" type="text" list="diff-choices" required value={fa} placeholder="aws-beta or aws-prod#12" onInput={(e) => setA(e.currentTarget.value)} />
        </label>
        <label>
          Snapshot B
          <input id="diff-b" type="text" list="diff-choices" required value={fb} placeholder="aws-prod" onInput={(e) => setB(e.currentTarget.value)} />
        </label>
        <label class="check">
          <input type="checkbox" checked={fu} onChange={(e) => setU(e.currentTarget.checked)} /> show unchanged
        </label>
        <button type="submit">Compare</button>
        <datalist id="diff-choices">{choices.map((n) => <option key={n} value={n} />)}</datalist>
      </form>
      <p class="small muted">A snapshot is ENV (the latest), ENV#N, ENV~N (N before the latest) or ENV@{'{'}2024-03-01T12:00:00Z{'}'}.</p>
      {a && b ? <DiffResult a={a} b={b} showUnchanged={showUnchanged} /> : <Empty>Choose two snapshots to compare.</Empty>}
    </>
  );
}
