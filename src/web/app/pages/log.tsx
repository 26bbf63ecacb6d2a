import { useState } from 'preact/hooks';
import type { Api } from '../api.js';
import { Async, CliCommand, ErrorMessage, PageTitle, useApi, useAsync } from '../components.js';
import { fromHex, toBase64, toHex } from '../verify/bytes.js';
import { leafHash, verifyInclusion } from '../verify/merkle.js';
import { parseCheckpointText, parseVerifierKey, verifyNote, type Checkpoint } from '../verify/note.js';
import { checkWitnessPolicy, parseWitnessPolicy, type WitnessVerdict } from '../verify/witness.js';
import { WitnessPolicyForm, savedWitnessPolicy } from './witness-policy.js';

interface CheckpointState {
  note: string;
  verifierKey: string;
  checkpoint: Checkpoint;
  signature: { verified: boolean; reason?: string };
  /** Set when the user saved a witness policy in this browser (docs/log.md "Witnesses"). */
  witnesses?: WitnessVerdict | { error: string };
}

/** Fetches the key and the checkpoint and checks the signature (and the witness policy, if any) here, in the browser. */
async function loadCheckpoint(api: Api): Promise<CheckpointState> {
  const [{ verifier_key }, note] = await Promise.all([api.logKey(), api.checkpoint()]);
  const key = await parseVerifierKey(verifier_key);
  const opened = await verifyNote(note, key);
  const saved = savedWitnessPolicy();
  let witnesses: CheckpointState['witnesses'];
  if (saved) {
    try {
      witnesses = await checkWitnessPolicy(note, await parseWitnessPolicy(saved.keys, saved.threshold));
    } catch (err) {
      witnesses = { error: (err as Error).message };
    }
  }
  return { note, verifierKey: verifier_key, checkpoint: parseCheckpointText(opened.text), signature: { verified: opened.verified, reason: opened.reason }, witnesses };
}

function witnessLine(w: NonNullable<CheckpointState['witnesses']>): { ok: boolean; text: string } {
  if ('error' in w) return { ok: false, text: `Witness policy unusable: ${w.error}` };
  const who = w.results.map((r) => `${r.name}: ${r.status}`).join(', ');
  return { ok: w.ok, text: `${w.valid} valid witness cosignature${w.valid === 1 ? '' : 's'} of ${w.required} required (${who})` };
}

interface Step {
  label: string;
  ok: boolean;
  detail?: string;
}

interface InclusionResult {
  index: number;
  entry: string;
  steps: Step[];
  verified: boolean;
}

/** RFC 9162 §2.1.3.2 in the browser: leaf hash from the entry's bytes, proof from the server, root from the checkpoint. */
async function checkInclusion(api: Api, cp: CheckpointState, index: number, tamper: boolean): Promise<InclusionResult> {
  const size = cp.checkpoint.size;
  const steps: Step[] = [];
  const page = await api.logEntries(index, index + 1);
  const item = page.items[0];
  if (!item) throw new Error(`the log has no entry ${index}`);
  const leaf = await leafHash(new TextEncoder().encode(item.entry));
  steps.push({ label: 'Leaf hash SHA-256(0x00 ‖ entry) matches the server’s', ok: toHex(leaf) === item.leaf_hash, detail: toHex(leaf) });
  const proof = await api.inclusionProof(index, size);
  const hashes = proof.hashes.map(fromHex);
  if (tamper && hashes[0]) hashes[0] = hashes[0].map((b, i) => (i === 0 ? b ^ 0x01 : b));
  const included = await verifyInclusion(index, size, leaf, hashes, cp.checkpoint.root);
  steps.push({
    label: `Inclusion proof (${hashes.length} hashes${tamper ? ', first one tampered with' : ''}) leads to the checkpoint’s root`,
    ok: included,
    detail: `tree size ${size}, root ${toHex(cp.checkpoint.root)}`,
  });
  steps.push({ label: 'The checkpoint’s signature verifies with the log’s key', ok: cp.signature.verified, detail: cp.signature.reason });
  if (cp.witnesses) {
    const w = witnessLine(cp.witnesses);
    steps.push({ label: 'The checkpoint is cosigned by enough of your witnesses', ok: w.ok, detail: w.text });
  }
  return { index, entry: item.entry, steps, verified: steps.every((s) => s.ok) };
}

function InclusionCheck({ cp, initial }: { cp: CheckpointState; initial: number }) {
  const { api } = useApi();
  const [index, setIndex] = useState(String(initial));
  const [tamper, setTamper] = useState(false);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<InclusionResult | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const run = async (e: Event) => {
    e.preventDefault();
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
  const state = useAsync(() => loadCheckpoint(api), [api]);
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
                <dd><code class="wrap">{toHex(cp.checkpoint.root)}</code> <span class="small muted">(base64 {toBase64(cp.checkpoint.root)})</span></dd>
                <dt>Verifier key</dt>
                <dd><code class="wrap">{cp.verifierKey}</code></dd>
              </dl>
              <details>
                <summary>The signed note, as served</summary>
                <pre class="source">{cp.note}</pre>
              </details>
            </section>
            <WitnessPolicyForm />
            {cp.checkpoint.size > 0 && <InclusionCheck key={index ?? ""} cp={cp} initial={index !== null && /^\d+$/.test(index) ? Number(index) : cp.checkpoint.size - 1} />}
          </>
        )}
      </Async>
    </>
  );
}
