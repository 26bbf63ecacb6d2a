import { useState } from 'preact/hooks';

const STORAGE_KEY = 'evident.witnessPolicy';

/** The witness policy saved in this browser: witness verifier keys and k (docs/log.md "Witnesses"). */
export function savedWitnessPolicy(): { keys: string; threshold?: number } | undefined {
  try {
    const raw = globalThis.localStorage?.getItem(STORAGE_KEY);
    if (!raw) return undefined;
    const value = JSON.parse(raw) as { keys?: unknown; threshold?: unknown };
    if (typeof value.keys !== 'string' || value.keys.trim() === '') return undefined;
    return { keys: value.keys, threshold: typeof value.threshold === 'number' ? value.threshold : undefined };
  } catch {
    return undefined;
  }
}

/** Lets the user give the page a policy "k of these n witness keys"; the page then checks every checkpoint against it. */
export function WitnessPolicyForm() {
  const saved = savedWitnessPolicy();
  const [keys, setKeys] = useState(saved?.keys ?? '');
  const [threshold, setThreshold] = useState(saved?.threshold !== undefined ? String(saved.threshold) : '');
  const save = (e: Event) => {
    e.preventDefault();
    if (keys.trim() === '') globalThis.localStorage?.removeItem(STORAGE_KEY);
    else globalThis.localStorage?.setItem(STORAGE_KEY, JSON.stringify({ keys, threshold: threshold === '' ? undefined : Number(threshold) }));
    globalThis.location?.reload();
  };
  return (
    <section aria-labelledby="witness-h">
      <h2 id="witness-h">Witness policy</h2>
      <p class="small muted">
        Witness verifier keys (one per line) and how many of them must have cosigned the checkpoint. Kept in this browser only; the same as
        <code> evident verify log --witness KEY --witness-threshold K</code>.
      </p>
      <form onSubmit={save}>
        <textarea id="witness-keys" rows={3} cols={80} value={keys} onInput={(e) => setKeys((e.target as HTMLTextAreaElement).value)} aria-label="Witness verifier keys" />
        <label>
          {' '}k = <input id="witness-threshold" type="number" min={1} value={threshold} placeholder="all" onInput={(e) => setThreshold((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit">Save policy</button>
      </form>
    </section>
  );
}
