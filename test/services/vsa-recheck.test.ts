import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServices, recheckVsa, signVsa, type ServiceBundle, type VsaLog } from '../../src/services/index.js';
import { parseVerifierKey, type NoteSigner } from '../../src/ledger/index.js';
import type { OrgRecord } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';
import { testSigner } from '../helpers/keys.js';

// `evident verify vsa` (recheckVsa): a VSA is re-checked from the checkpoint and entries it carries alone.

const FP = 'c'.repeat(64);
const POLICY = '_schema: https://docs.kosli.com/schemas/policy/v1\nartifacts:\n  attestations:\n    - name: security-scan\n      type: generic\n';

type Statement = { predicate: Record<string, any> } & Record<string, unknown>; // eslint-disable-line @typescript-eslint/no-explicit-any
type VsaFile = { payload: string; payloadType: string; signatures: { keyid: string; sig: string }[]; evidentLog: VsaLog };

const statementOf = (f: VsaFile) => JSON.parse(Buffer.from(f.payload, 'base64').toString('utf8'));
const copy = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

describe.each(engines())('re-checking a VSA on $name', (engine) => {
  let services: ServiceBundle;
  let org: OrgRecord;
  let signer: NoteSigner;
  let cleanup: () => Promise<void>;
  let passed: VsaFile;

  beforeAll(async () => {
    const opened = await engine.open();
    cleanup = opened.cleanup;
    signer = testSigner();
    services = createServices(opened.store, signer);
    org = (await services.auth.ensureOrg('acme')).org;
    await services.flows.create(org, { name: 'app' });
    await services.trails.begin(org, { flow: 'app', name: 't1' });
    await services.artifacts.report(org, { flow: 'app', trail: 't1', name: 'app', fingerprint: FP });
    await services.attestations.record(org, 'generic', { flow: 'app', trail: 't1', name: 'app.security-scan', fingerprint: FP }, true, null);
    await services.policies.create(org, { name: 'scan', source: POLICY });
    passed = (await services.asserts.artifact(org, { fingerprint: FP, policies: ['scan'] }, { vsa: true })).vsa as VsaFile;
  });
  afterAll(async () => cleanup());

  const key = () => parseVerifierKey(signer.verifierKey);
  /** A VSA with its statement changed by `edit`, signed again with `by` (the log key by default). */
  const resigned = (edit: (statement: Statement, log: VsaLog) => void, by: NoteSigner = signer): VsaFile => {
    const st = statementOf(passed);
    const log = copy(passed.evidentLog);
    edit(st, log);
    return { ...signVsa(st, by), evidentLog: log };
  };

  it('a PASSED VSA re-checks: signature, checkpoint, each entry with its proof, and the verdict recomputed', () => {
    const r = recheckVsa(copy(passed), key());
    expect(r).toMatchObject({ ok: true, signed: 'PASSED', recomputed: 'PASSED', subjects: [{ fingerprint: FP, compliant: true }] });
    const st = statementOf(passed);
    expect(st.predicate.verifiedLevels).toEqual(['EVIDENT_POLICY_COMPLIANT']);
    expect(st.predicate.policy.uri).toMatch(/^urn:evident:log:[^:]+:entry:\d+:[0-9a-f]{64}$/);
    expect(st.predicate.inputAttestations[0].uri).toMatch(new RegExp(`^urn:evident:log:[^:]+:checkpoint:${r.checkpoint!.size}:${r.checkpoint!.root}$`));
  });

  it('the verdict edited and re-signed with another key is refused (not the log key)', () => {
    const forged = resigned((st) => { st.predicate.verificationResult = 'FAILED'; st.predicate.verifiedLevels = ['FAILED']; }, testSigner());
    const r = recheckVsa(forged, key());
    expect(r.ok).toBe(false);
    expect(r.checks.at(-1)!.message).toMatch(/no signature by the log key/);
  });

  it('a verdict the entries do not give is refused even when signed by the log key', () => {
    const r = recheckVsa(resigned((st) => { st.predicate.verificationResult = 'FAILED'; st.predicate.verifiedLevels = ['FAILED']; }), key());
    expect(r).toMatchObject({ ok: false, signed: 'FAILED', recomputed: 'PASSED' });
    expect(r.checks.at(-1)!.message).toMatch(/recomputed from the entries is PASSED; the VSA says FAILED/);
  });

  it('an input named but left out of the file is refused', () => {
    const file = copy(passed);
    const attestation = file.evidentLog.entries.find((e) => JSON.parse(e.entry).type === 'attestation.reported')!;
    file.evidentLog.entries = file.evidentLog.entries.filter((e) => e !== attestation);
    const r = recheckVsa(file, key());
    expect(r.ok).toBe(false);
    expect(r.checks.at(-1)!.message).toBe(`input entry ${attestation.index} is named but not carried: an input was left out`);
  });

  it('an input left out of the statement too (re-signed) makes the recomputed verdict differ', () => {
    const r = recheckVsa(resigned((st, log) => {
      const gone = log.entries.find((e) => JSON.parse(e.entry).type === 'attestation.reported')!;
      st.predicate.inputAttestations = st.predicate.inputAttestations.filter((x: { uri: string }) => !x.uri.includes(`:entry:${gone.index}:`));
      log.entries = log.entries.filter((e) => e !== gone);
    }), key());
    expect(r).toMatchObject({ ok: false, signed: 'PASSED', recomputed: 'FAILED' });
  });

  it('an edited entry text or a wrong proof is refused', () => {
    const edited = copy(passed);
    const e = edited.evidentLog.entries.find((x) => JSON.parse(x.entry).type === 'attestation.reported')!;
    e.entry = e.entry.replace('"compliant":true', '"compliant":false');
    expect(recheckVsa(edited, key()).checks.at(-1)!.message).toMatch(/its sha256 is not the digest the VSA names/);
    const proof = copy(passed);
    const p = proof.evidentLog.entries.find((x) => x.inclusion_proof.length > 0)!;
    p.inclusion_proof[0] = '00'.repeat(32);
    expect(recheckVsa(proof, key()).checks.at(-1)!.message).toMatch(/inclusion proof/);
  });
});
