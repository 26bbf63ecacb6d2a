import type { Compliance } from './api.js';
import { ComplianceBadge } from './components.js';
import { href } from './router.js';

/** What a template requires and what was recorded: the reasons behind a compliance state. */
export function ComplianceReasons({ compliance, label }: { compliance: Compliance; label: string }) {
  const rows = [...compliance.attestations, ...compliance.unexpected];
  if (rows.length === 0) return <p class="muted">No attestations required or recorded.</p>;
  return (
    <div class="table-wrap">
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
                {a.unexpected && <span class="muted small"> (not required)</span>}
              </th>
              <td>{a.attestation_type}</td>
              <td>
                {a.status === 'MISSING' ? (
                  <span class="badge warn">missing</span>
                ) : a.attestation_id ? (
                  <a href={href(['log'], { index: a.attestation_id })} title="its log entry">
                    recorded (entry {a.attestation_id})
                  </a>
                ) : (
                  'recorded'
                )}
              </td>
              <td>{a.is_compliant === null ? <span class="muted">—</span> : <ComplianceBadge state={a.is_compliant} />}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
