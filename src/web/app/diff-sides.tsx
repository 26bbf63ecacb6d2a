// The diff side by side (issue 18, "a side-by-side diff per flow"): snapshot A on the left, B on the right,
// one row per flow, so "differ runs 5a1b in A and 9c2d in B" reads across one line instead of being
// pieced together from two lists. Rows are paired by flow (or, for an artifact of no known flow, by its
// image name without tag); the server's diff (`evident diff snapshots`) is the only source.
import type { SnapshotDiff } from './api.js';
import { ArtifactName } from './components.js';
import { short } from './format.js';
import { href } from './router.js';

type DiffArtifact = SnapshotDiff['changed']['artifacts'][number];
export type ChangeKind = 'changed' | 'removed' | 'added' | 'scaled' | 'unchanged';

export interface SideRow {
  key: string;
  kind: ChangeKind;
  a: DiffArtifact | null;
  b: DiffArtifact | null;
}

/** What pairs rows: the flow, else the image name without its tag or digest. */
const pairKey = (x: DiffArtifact) => x.flow ?? x.name.replace(/@sha256:[0-9a-f]+$/, '').replace(/:[^/:]*$/, '');
const byName = (x: DiffArtifact, y: DiffArtifact) => x.name.localeCompare(y.name) || x.fingerprint.localeCompare(y.fingerprint);

/** The aligned rows: other versions of one flow on one line; scaled and (when asked) unchanged ones with the same artifact on both sides. */
export function sideBySide(d: SnapshotDiff, showUnchanged: boolean): SideRow[] {
  const groups = new Map<string, { a: DiffArtifact[]; b: DiffArtifact[] }>();
  const group = (k: string) => groups.get(k) ?? groups.set(k, { a: [], b: [] }).get(k)!;
  for (const x of d.snappish1.artifacts) group(pairKey(x)).a.push(x);
  for (const x of d.snappish2.artifacts) group(pairKey(x)).b.push(x);
  const rows: SideRow[] = [];
  for (const [key, g] of groups) {
    g.a.sort(byName);
    g.b.sort(byName);
    for (let i = 0; i < Math.max(g.a.length, g.b.length); i++) {
      const a = g.a[i] ?? null;
      const b = g.b[i] ?? null;
      rows.push({ key, kind: a && b ? 'changed' : a ? 'removed' : 'added', a, b });
    }
  }
  for (const x of d.changed.artifacts) rows.push({ key: pairKey(x), kind: 'scaled', a: x, b: x });
  if (showUnchanged) for (const x of d['not-changed'].artifacts) rows.push({ key: pairKey(x), kind: 'unchanged', a: x, b: x });
  const order: Record<ChangeKind, number> = { changed: 0, removed: 1, added: 2, scaled: 3, unchanged: 4 };
  return rows.sort((x, y) => x.key.localeCompare(y.key) || order[x.kind] - order[y.kind]);
}

const KIND_TEXT: Record<ChangeKind, string> = {
  changed: 'other version',
  removed: 'only in A',
  added: 'only in B',
  scaled: 'scaled',
  unchanged: 'unchanged',
};

const KIND_CLASS: Record<ChangeKind, string> = { changed: 'warn', removed: 'bad', added: 'ok', scaled: 'none', unchanged: 'none' };

function Side({ x, instances, label }: { x: DiffArtifact | null; instances: number | null | undefined; label: string }) {
  if (!x) return <td data-label={label} class="side empty"><span class="muted">— not running</span></td>;
  return (
    <td data-label={label} class="side">
      <ArtifactName name={x.name} />{' '}
      <a href={href(['artifacts', x.flow ? `${x.flow}@${x.fingerprint}` : x.fingerprint])}><code>{short(x.fingerprint)}</code></a>
      {instances !== null && instances !== undefined && <span class="muted small"> ×{instances}</span>}
    </td>
  );
}

/** Two columns, A and B, one row per flow: what differs reads across. */
export function SideBySide({ d, showUnchanged }: { d: SnapshotDiff; showUnchanged: boolean }) {
  const rows = sideBySide(d, showUnchanged);
  const a = d.snappish1.snapshot_id;
  const b = d.snappish2.snapshot_id;
  return (
    <section aria-labelledby="side-h">
      <h2 id="side-h">Side by side <span class="count">{rows.length}</span></h2>
      {rows.length === 0 ? (
        <p class="muted">The two snapshots run the same artifacts.</p>
      ) : (
        <div class="table-wrap">
          <table class="compact side-by-side">
            <caption class="sr-only">{`${a} and ${b} side by side, one row per flow`}</caption>
            <thead>
              <tr>
                <th scope="col">Flow</th>
                <th scope="col">A: {a}</th>
                <th scope="col">B: {b}</th>
                <th scope="col">Change</th>
              </tr>
            </thead>
            <tbody>
              {rows.slice(0, 1000).map((r, i) => (
                <tr key={`${r.key}-${r.kind}-${i}`} class={`diff-${r.kind}`}>
                  <th scope="row">{r.a?.flow ?? r.b?.flow ? <a href={href(['flows', (r.a?.flow ?? r.b?.flow)!])}>{r.key}</a> : r.key}</th>
                  <Side x={r.a} label={`A: ${a}`} instances={r.kind === 'scaled' ? r.a?.instance_count_1 : r.a?.instance_count} />
                  <Side x={r.b} label={`B: ${b}`} instances={r.kind === 'scaled' ? r.b?.instance_count_2 : r.b?.instance_count} />
                  <td data-label="Change"><span class={`badge ${KIND_CLASS[r.kind]}`}>{KIND_TEXT[r.kind]}</span></td>
                </tr>
              ))}
            </tbody>
          </table>
          {rows.length > 1000 && <p class="muted">The first 1,000 of {rows.length} rows are shown; the CLI prints all.</p>}
        </div>
      )}
    </section>
  );
}
