import { useEffect, useState } from 'preact/hooks';
import { Async, CliCommand, ErrorMessage, PageTitle, useApi, useAsync } from '../components.js';
import { toBase64, toHex } from '../verify/bytes.js';
import { checkInclusion, loadCheckpoint, witnessLine, type CheckpointState, type InclusionResult } from '../proof.js';
import { WitnessPolicyForm } from './witness-policy.js';
import { checkRemembered, forgetSeen, rememberedLine, type RememberedCheck } from '../remembered.js';

/** Whether the log only grew since this browser last saw it (remembered.ts); a button forgets it. */
function RememberedStatus({ cp }: { cp: CheckpointState }) {
  const { api } = useApi();
  const [result, setResult] = useState<RememberedCheck | null>(null);
  const [round, setRound] = useState(0);
  const storage = globalThis.localStorage;
  useEffect(() => {
    if (!storage) return;
    const current = { note: cp.note, verifierKey: cp.verifierKey, verified: cp.signature.verified, origin: cp.checkpoint.origin, size: cp.checkpoint.size, root: cp.checkpoint.root };
    void checkRemembered(api, current, storage).then(setResult, (err: unknown) => setResult({ kind: 'corrupt', previous: { note: '', verifierKey: '', size: 0, at: new Date().toISOString() }, reason: String(err) }));
  }, [cp, round]);
  if (!storage || !result) return null;
  const line = rememberedLine(result);
  const conflict = result.kind === 'rollback' || result.kind === 'fork' || result.kind === 'key-changed' || result.kind === 'corrupt';
  return (
    <p class={line.ok ? 'ok-box' : 'error'} role="status" id="consistency-status">
      {line.text}
      {conflict && (
        <>
          {' '}
          <button type="button" class="link" onClick={() => (forgetSeen(storage, cp.checkpoint.origin), setResult(null), setRound(round + 1))}>Forget what this browser saw</button>
        </>
      )}
    </p>
  );
}

function InclusionCheck({ cp, initial, autorun }: { cp: CheckpointState; initial: number; autorun: boolean }) {
  const { api } = useApi();
  const [index, setIndex] = useState(String(initial));
  const [tamper, setTamper] = useState(false);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<InclusionResult | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const run = async (e?: Event) => {
    e?.preventDefault();
    setBusy(true);
    setError(undefined);
    setResult(null);
    try {
      const i = Number(index);
      if (!Number.isSafeInteger(i) || i < 0 || i >= cp.checkpoint.size) throw new Error(`choose an entry from 0 to ${cp.checkpoint.size - 1}`);
      setResult(await checkInclusion(api, cp, i, tamper));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  // An "entry N" link opens this page with the index: check it at once rather than wait for the button.
  useEffect(() => {
    if (autorun) void run();
  }, []);
  return (
    <section aria-labelledby="incl-h">
      <h2 id="incl-h">Check an entry is in the log</h2>
      <p>Your browser hashes the entry, follows the server’s inclusion proof and compares the result with the signed checkpoint’s root (WebCrypto SHA-256 and Ed25519; nothing is taken on trust).</p>
      <form class="filters" onSubmit={(e) => void run(e)} aria-label="Inclusion check">
        <label>
          Entry index
          <input id="entry-index" type="text" inputMode="numeric" value={index} onInput={(e) => setIndex(e.currentTarget.value)} />
        </label>
        <label class="check">
          <input id="tamper" type="checkbox" checked={tamper} onChange={(e) => setTamper(e.currentTarget.checked)} /> tamper with the proof (see a failure)
        </label>
        <button type="submit" disabled={busy}>
          {busy ? 'Verifying…' : 'Verify inclusion'}
        </button>
      </form>
      <div aria-live="polite" id="inclusion-result">
        {error !== undefined && <ErrorMessage error={error} />}
        {result && (
          <>
            <p class={result.verified ? 'ok-box' : 'error'} role="status">
              {result.verified ? `Verified: entry ${result.index} is in the log of ${cp.checkpoint.size} entries.` : `Not verified: entry ${result.index} could not be shown to be in this checkpoint.`}
            </p>
            <ol class="verify-steps">
              {result.steps.map((s) => (
                <li key={s.label} class={s.ok ? 'pass' : 'fail'}>
                  <strong>{s.ok ? 'pass' : 'FAIL'}</strong> — {s.label}
                  {s.detail && <div class="small muted"><code class="wrap">{s.detail}</code></div>}
                </li>
              ))}
            </ol>
            <h3>The entry (canonical JSON, as hashed)</h3>
            <pre class="source" tabIndex={0} aria-label={`Entry ${result.index}`}>{prettyJson(result.entry)}</pre>
          </>
        )}
      </div>
    </section>
  );
}

function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** The log: its current checkpoint, verifier key, and in-browser checks (`evident log checkpoint`, `evident verify log`). */
export function LogPage({ index }: { index: string | null }) {
  const { api } = useApi();
  const state = useAsync(() => loadCheckpoint(api), [api], () => true);
  return (
    <>
      <PageTitle title="Log">The log</PageTitle>
      <CliCommand command={['evident log checkpoint', 'evident log key', `evident log proof inclusion --index ${index ?? 'I'}`, 'evident verify log']} />
      <Async state={state}>
        {(cp) => (
          <>
            <section aria-labelledby="cp-h">
              <h2 id="cp-h">Current checkpoint</h2>
              <p class={cp.signature.verified ? 'ok-box' : 'error'} role="status" id="signature-status">
                {cp.signature.verified ? 'Signature verified in your browser with the log’s Ed25519 key.' : `Signature NOT verified: ${cp.signature.reason ?? 'unknown reason'}.`}
              </p>
              <RememberedStatus cp={cp} />
              {cp.witnesses && (
                <p class={witnessLine(cp.witnesses).ok ? 'ok-box' : 'error'} role="status" id="witness-status">
                  {witnessLine(cp.witnesses).ok ? 'Witnessed: ' : 'NOT witnessed: '}{witnessLine(cp.witnesses).text}
                </p>
              )}
              <dl class="facts">
                <dt>Origin</dt>
                <dd>{cp.checkpoint.origin}</dd>
                <dt>Tree size</dt>
                <dd id="tree-size">{cp.checkpoint.size} entries</dd>
                <dt>Root hash</dt>
                <dd><code class="wrap">{toHex(cp.checkpoint.root)}</code> <span class="small muted wrap">(base64 {toBase64(cp.checkpoint.root)})</span></dd>
                <dt>Verifier key</dt>
                <dd><code class="wrap">{cp.verifierKey}</code></dd>
              </dl>
              <details>
                <summary>The signed note, as served</summary>
                <pre class="source">{cp.note}</pre>
              </details>
            </section>
            <WitnessPolicyForm />
            {cp.checkpoint.size > 0 && <InclusionCheck key={index ?? ''} cp={cp} autorun={index !== null && /^\d+$/.test(index)} initial={index !== null && /^\d+$/.test(index) ? Number(index) : cp.checkpoint.size - 1} />}
          </>
        )}
      </Async>
    </>
  );
}
