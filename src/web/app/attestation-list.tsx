// Attestations as cards: what each says (attestation-content.tsx) beside its evidence files, with its
// result, its target and its log entry. Used by the trail and the artifact pages.
import type { Attestation } from './api.js';
import { AttestationContent } from './attestation-content.js';
import { ArtifactName, ComplianceBadge } from './components.js';
import { EntryLink } from './entry-link.js';
import { EvidenceLinks } from './evidence.js';
import { short } from './format.js';
import { href } from './router.js';
import { Time } from './time.js';

export function AttestationList({ items, showTarget = true }: { items: Attestation[]; showTarget?: boolean }) {
  if (items.length === 0) return <p class="muted">None recorded.</p>;
  return (
    <ul class="attestations plain">
      {items.map((a) => (
        <li key={a.entry_index} class="card attestation" id={`attestation-${a.entry_index}`}>
          <h3>
            {a.name} <span class="muted small">{a.type}</span> <ComplianceBadge state={a.compliant} />
          </h3>
          <p class="small muted">
            {showTarget && (
              <>
                of{' '}
                {a.artifact_fingerprint ? (
                  <a href={href(['artifacts', `${a.flow}@${a.artifact_fingerprint}`])}>{a.artifact_name ? <ArtifactName name={a.artifact_name} /> : short(a.artifact_fingerprint)}</a>
                ) : a.artifact_name ? (
                  <>artifact {a.artifact_name}</>
                ) : (
                  'the trail'
                )}{' '}
                ·{' '}
              </>
            )}
            recorded <Time iso={a.created_at} /> · <EntryLink index={a.entry_index} />
          </p>
          <div class="attestation-body">
            <div class="attestation-content">
              <AttestationContent a={a} />
            </div>
            <div class="attestation-evidence">
              <p class="small"><strong>Evidence files</strong></p>
              <EvidenceLinks evidence={a.evidence} />
            </div>
          </div>
        </li>
      ))}
    </ul>
  );
}
