import { useState } from 'preact/hooks';
import type { Snapshot } from './api.js';
import { ArtifactName, ComplianceBadge, Empty, usePages } from './components.js';
import { short, when } from './format.js';
import { href } from './router.js';
import { useSort } from './sort.js';

type Running = Snapshot['artifacts'][number];

/** Why an artifact is not compliant: each failing rule's message, or the exemption that allows it. */
export function Reasons({ a }: { a: Running }) {
  const c = a.compliance;
  if (!c) return null;
  if (c.allowed) return <div class="small">allowed: {c.allowed.reason}</div>;
  const failing = c.policies.flatMap((p) => p.rule_evaluations.filter((r) => r.status === 'failed').map((r) => `${p.policy}@${p.version}: ${r.message || r.reason}`));
  return failing.length ? (
    <ul class="reasons small">
      {failing.slice(0, 5).map((f) => <li key={f}>{f}</li>)}
      {failing.length > 5 && <li>… {failing.length - 5} more</li>}
    </ul>
  ) : null;
}

/** The running artifacts of a snapshot, filtered and a page at a time (an environment may run 5,000). */
export function SnapshotArtifacts({ snapshot }: { snapshot: Snapshot }) {
  const [filter, setFilter] = useState('');
  const [onlyBad, setOnlyBad] = useState(false);
  const t = filter.toLowerCase();
  const rows = snapshot.artifacts.filter(
    (a) => (!t || a.name.toLowerCase().includes(t) || (a.flow ?? '').toLowerCase().includes(t) || a.fingerprint.startsWith(t)) && (!onlyBad || a.compliance?.compliant === false),
  );
  // Sorted before paging, so the first page is the top of the whole snapshot (non-compliant first, say).
  const sorted = useSort(rows, {
    artifact: (a) => a.name, flow: (a) => a.flow, fingerprint: (a) => a.fingerprint, instances: (a) => a.instances, since: (a) => a.running_since,
    compliance: (a) => (a.compliance ? (a.compliance.allowed ? 1 : a.compliance.compliant ? 2 : 0) : null),
  }, { artifact: 'Artifact', flow: 'Flow', fingerprint: 'Fingerprint', instances: 'Instances', since: 'Running since', compliance: 'Compliance (worst first)' }, 'artifacts');
  const { page, pager } = usePages(sorted.rows, 100);
  if (snapshot.artifacts.length === 0) return <Empty>Nothing runs in this snapshot.</Empty>;
  return (
    <>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter running artifacts">
        <label>
          Name, flow or fingerprint
          <input type="search" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
        </label>
        <label class="check">
          <input type="checkbox" checked={onlyBad} onChange={(e) => setOnlyBad(e.currentTarget.checked)} /> only non-compliant
        </label>
        <span role="status" aria-live="polite" class="small">
          {rows.length} of {snapshot.artifacts.length} artifacts
        </span>
      </form>
      {sorted.control}
      <div class="table-wrap">
        <table>
          <caption class="sr-only">Running artifacts</caption>
          <thead>
            <tr>
              {sorted.header('artifact', 'Artifact')}
              {sorted.header('flow', 'Flow')}
              {sorted.header('fingerprint', 'Fingerprint')}
              {sorted.header('instances', 'Instances')}
              {sorted.header('since', 'Running since')}
              {sorted.header('compliance', 'Compliance')}
            </tr>
          </thead>
          <tbody>
            {page.map((a) => (
              <tr key={`${a.name}-${a.fingerprint}`}>
                <th scope="row"><ArtifactName name={a.name} /></th>
                <td>{a.flow ? <a href={href(['flows', a.flow])}>{a.flow}</a> : <span class="muted">unknown</span>}</td>
                <td>
                  <a href={href(['artifacts', a.flow ? `${a.flow}@${a.fingerprint}` : a.fingerprint])}>
                    <code>{short(a.fingerprint)}</code>
                  </a>
                </td>
                <td class="num">{a.instances}</td>
                <td>{when(a.running_since)}</td>
                <td>
                  {a.compliance ? <ComplianceBadge state={a.compliance.compliant} /> : <span class="muted">no policy</span>}
                  <Reasons a={a} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {pager}
    </>
  );
}
