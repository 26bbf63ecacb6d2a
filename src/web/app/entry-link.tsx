// "entry N": a link to the log page (which checks the entry as it opens) and a button that runs the same
// proof check here, in place: the entry's leaf hash, its inclusion proof to the checkpoint's root, and the
// checkpoint's signature, all recomputed in this browser (proof.ts).
import { useState } from 'preact/hooks';
import { useApi } from './components.js';
import { checkEntry } from './proof.js';
import { href } from './router.js';

type Check = { state: 'idle' } | { state: 'busy' } | { state: 'done'; ok: boolean; text: string };

export function EntryLink({ index, label }: { index: number; label?: string }) {
  const { api } = useApi();
  const [check, setCheck] = useState<Check>({ state: 'idle' });
  const run = async () => {
    setCheck({ state: 'busy' });
    try {
      const r = await checkEntry(api, index);
      const failed = r.steps.find((s) => !s.ok);
      setCheck({ state: 'done', ok: r.verified, text: r.verified ? `in the signed log (${r.size} entries)` : `NOT verified: ${failed?.label ?? 'a step failed'}` });
    } catch (err) {
      setCheck({ state: 'done', ok: false, text: `NOT verified: ${err instanceof Error ? err.message : String(err)}` });
    }
  };
  return (
    <span class="entry-link">
      <a href={href(['log'], { index })} title="Open it on the log page">{label ?? `entry ${index}`}</a>
      {check.state === 'idle' && (
        <button type="button" class="link small" onClick={() => void run()} aria-label={`Check entry ${index} is in the signed log`}>
          check
        </button>
      )}
      <span role="status" aria-live="polite" class={check.state === 'done' ? (check.ok ? 'pass small' : 'fail small') : 'small muted'}>
        {check.state === 'busy' ? 'checking…' : check.state === 'done' ? `${check.ok ? '✓' : '✗'} ${check.text}` : ''}
      </span>
    </span>
  );
}
