import type { Compliance } from './api.js';
import { ComplianceBadge } from './components.js';
import { EntryLink } from './entry-link.js';

/** What a template requires and what was recorded: the reasons behind a compliance state. */
export function ComplianceReasons({ compliance, label, hasTemplate }: { compliance: Compliance; label: string; hasTemplate?: boolean }) {
  const rows = [...compliance.attestations, ...compliance.unexpected];
  if (rows.length === 0) return <p class="muted">No attestations required or recorded.</p>;
  // Without a template nothing is "required": every attestation recorded counts by its own result, so a
  // "(not required)" label would read as "optional" on the very attestation that fails the trail.
  return (
    <div class="table-wrap cards">
      <table class="compact">
        <caption class="sr-only">{label}</caption>
        <thead>
          <tr>
            <th scope="col">Attestation</th>
            <th scope="col">Type</th>
            <th scope="col">Status</th>
            <th scope="col">Result</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((a) => (
            <tr key={`${a.attestation_name}-${a.attestation_id ?? 'missing'}`}>
              <th scope="row">
                {a.attestation_name}
                {a.unexpected && hasTemplate !== false && <span class="muted small"> (not in the template; still counts)</span>}
              </th>
              <td data-label="Type">{a.attestation_type}</td>
              <td data-label="Status">
                {a.status === 'MISSING' ? (
                  <span class="badge warn">missing</span>
                ) : a.attestation_id ? (
                  <>recorded (<EntryLink index={Number(a.attestation_id)} />)</>
                ) : (
                  'recorded'
                )}
              </td>
              <td data-label="Result">{a.is_compliant === null ? <span class="muted">—</span> : <ComplianceBadge state={a.is_compliant} />}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** An environment no policy judges: its compliance is unknown, never a green "compliant" (Kosli says Unknown). */
export function NoPolicy() {
  return <span class="badge none" title="No policy is attached to this environment, so nothing judges what runs in it">no policy</span>;
}
