import { useState } from 'preact/hooks';
import type { Attestation } from './api.js';
import { useApi } from './components.js';
import { bytes, short } from './format.js';

/**
 * Downloads an evidence file with the token: a plain link cannot send the Authorization header, so the
 * bytes are fetched, held as a Blob and saved through an object URL.
 */
export function EvidenceLinks({ evidence }: { evidence: Attestation['evidence'] }) {
  const { api } = useApi();
  const [status, setStatus] = useState('');
  if (evidence.length === 0) return <span class="muted">none</span>;
  const download = async (digest: string, name: string | null) => {
    setStatus(`Downloading ${name ?? short(digest)}…`);
    try {
      const blob = await api.evidence(digest);
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = (name ?? digest).split('/').pop() || digest;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setStatus(`Downloaded ${name ?? short(digest)} (${bytes(blob.size)})`);
    } catch (err) {
      setStatus(`Download failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  return (
    <>
      <ul class="evidence">
        {evidence.map((e) => (
          <li key={e.digest}>
            <button type="button" class="link" onClick={() => void download(e.digest, e.name)}>
              {e.name ?? short(e.digest)}
            </button>{' '}
            <span class="muted small">
              {bytes(e.size)} · <span class="digest" title={`sha256:${e.digest}`}>sha256:{short(e.digest)}</span>
            </span>
          </li>
        ))}
      </ul>
      <span class="small" role="status" aria-live="polite">
        {status}
      </span>
    </>
  );
}
