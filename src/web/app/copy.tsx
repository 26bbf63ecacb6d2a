// A small copy button for fingerprints, commits and digests.
import { useState } from 'preact/hooks';

export function Copy({ text, label }: { text: string; label: string }) {
  const [done, setDone] = useState('');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setDone('copied');
    } catch {
      setDone('copy failed');
    }
    setTimeout(() => setDone(''), 2000);
  };
  return (
    <button type="button" class="copy" onClick={() => void copy()} aria-label={`Copy the ${label}`} title={`Copy the ${label}`}>
      {done || 'copy'}
    </button>
  );
}
