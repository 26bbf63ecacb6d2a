import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createServices, describeSnapshot, recheckVsa, type ServiceBundle } from '../../src/services/index.js';
import { leafHash, parseVerifierKey, storedHashIndex, type NoteSigner } from '../../src/ledger/index.js';
import { canonicalJson } from '../../src/formats/index.js';
import { projectionCheck } from '../../src/services/records/projection-check.js';
import type { OrgRecord, SqlStore } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';
import { testSigner } from '../helpers/keys.js';
import { dropTriggers } from '../helpers/tamper.js';

// Reliability report F1: an attacker who can write the database drops the triggers and edits a projection row
// behind the server. Every decision (assert, compliance, the signed VSA) must then either stay right or fail
// naming the entry — never silently change — on a server that cached the facts and on a fresh one alike.

const FP = 'a'.repeat(64);
const OTHER = 'b'.repeat(64);
const POLICY = `_schema: https://docs.kosli.com/schemas/policy/v1
artifacts:
  provenance: {required: true}
  trail-compliance: {required: true}
  attestations:
    - name: security-scan
      type: generic
    - name: review
      type: generic
      if: \${{ flow.tags.risk == "high" }}
`;
const TEMPLATE = 'version: 1\ntrail:\n  attestations:\n    - name: smoke\n      type: generic\n';

function statementOf(vsa: { payload: string }) {
  return JSON.parse(Buffer.from(vsa.payload, 'base64').toString('utf8'));
}

describe.each(engines())('projection rows edited behind the server on $name', (engine) => {
  let store: SqlStore;
  let cleanup: () => Promise<void>;
  let signer: NoteSigner;
  let services: ServiceBundle;
  let org: OrgRecord;
  const fresh = () => createServices(store, signer);
  const assertProd = (s: ServiceBundle, vsa = false) => s.asserts.artifact(org, { fingerprint: FP, environment: 'production' }, { vsa });

  /** The attacker's edit, then: the cached server and a fresh one never say compliant; the fresh one names the entry. */
  async function expectCaught(edit: string, table: string) {
    await sql.raw(edit).execute(store.db);
    for (const s of [fresh(), services]) {
      let outcome: { compliant?: boolean; error?: { code: string; message: string; details: unknown } };
      try {
        outcome = { compliant: (await assertProd(s, true)).compliant };
      } catch (err) {
        outcome = { error: err as never };
      }
      if (outcome.error) {
        expect(outcome.error).toMatchObject({ code: 'TAMPERED', details: { table } });
        expect(outcome.error.message).toMatch(/log entry \d+/);
      } else {
        expect(outcome.compliant).toBe(false);
      }
    }
    // The fresh server cannot have read the edited row silently.
    await expect(assertProd(fresh())).rejects.toMatchObject({ code: 'TAMPERED' });
  }

  beforeAll(async () => {
    const opened = await engine.open();
    store = opened.store;
    cleanup = opened.cleanup;
    signer = testSigner();
    services = createServices(store, signer);
    org = (await services.auth.ensureOrg('acme')).org;
    await services.flows.create(org, { name: 'app', template: TEMPLATE });
    await services.flows.tag(org, 'app', { set: { risk: 'low' } });
    await services.trails.begin(org, { flow: 'app', name: 't1' });
    await services.artifacts.report(org, { flow: 'app', trail: 't1', name: 'app', fingerprint: FP });
    await services.attestations.record(org, 'generic', { flow: 'app', trail: 't1', name: 'smoke' }, true, null);
    await services.attestations.record(org, 'generic', { flow: 'app', trail: 't1', name: 'app.security-scan', fingerprint: FP }, false, null);
    await services.environments.create(org, { name: 'production', type: 'k8s' });
    await services.environments.create(org, { name: 'staging', type: 'k8s' });
    await services.policies.create(org, { name: 'prod-policy', source: POLICY });
    await services.policies.create(org, { name: 'lax', source: '_schema: https://docs.kosli.com/schemas/policy/v1\n' });
    await services.policies.attach(org, 'production', 'prod-policy');
    await services.environments.report(org, 'production', [{ name: 'app', fingerprint: FP, instances: 1 }]);
    await services.allowances.allow(org, 'staging', OTHER, 'not this one', 'tester');
    await services.environments.expect(org, 'production', FP);
  });
  afterAll(async () => cleanup());

  it('the database refuses edits of every projection; flows, trails and environments move forward only with the log', async () => {
    for (const table of ['artifacts', 'attestations', 'expectations', 'flow_tag_entries', 'policies', 'policy_attachments', 'allowances', 'snapshots', 'snapshot_artifacts']) {
      await expect(sql.raw(`UPDATE ${table} SET org_id = org_id`).execute(store.db), table).rejects.toThrow(/append-only/);
      await expect(sql.raw(`DELETE FROM ${table}`).execute(store.db), table).rejects.toThrow(/append-only/);
    }
    for (const table of ['flows', 'trails', 'environments']) {
      await expect(sql.raw(`UPDATE ${table} SET description = 'x'`).execute(store.db), table).rejects.toThrow(/moves forward only/);
      await expect(sql.raw(`DELETE FROM ${table}`).execute(store.db), table).rejects.toThrow(/append-only|moves forward only/);
    }
    // The legitimate updates still work, each taking its entry's index.
    await services.flows.tag(org, 'app', { set: { team: 'a' } });
    await services.flows.tag(org, 'app', { unset: ['team'] });
    const flow = await services.flows.get(org, 'app');
    expect(flow.tags).toEqual({ risk: 'low' });
    expect(flow.entryIndex).toBe((await services.log.size(org)) - 1);
  });

  it('the honest decision: NON-COMPLIANT, and the signed VSA says FAILED with absolute URIs and re-checks offline', async () => {
    const r = await assertProd(services, true);
    expect(r.compliant).toBe(false);
    expect(r.failures.map((f) => f.rule)).toContain('artifacts.attestations[0] (security-scan: generic)');
    const st = statementOf(r.vsa!);
    expect(st.predicate).toMatchObject({ verificationResult: 'FAILED', verifiedLevels: ['FAILED'] });
    for (const uri of [st.predicate.policy.uri, ...st.predicate.inputAttestations.map((x: { uri: string }) => x.uri)]) expect(uri).toMatch(/^urn:evident:log:[^:/]+:(entry|checkpoint):\d+:[0-9a-f]{64}$/);
    const check = recheckVsa(JSON.parse(JSON.stringify(r.vsa)), parseVerifierKey(signer.verifierKey));
    expect(check).toMatchObject({ ok: true, signed: 'FAILED', recomputed: 'FAILED' });
    // The trail's template, the flow's tags, the policy and the attestations are all inputs.
    const types = r.vsa!.evidentLog.entries.map((e) => JSON.parse(e.entry).type);
    expect(new Set(types)).toEqual(new Set(['trail.begun', 'artifact.reported', 'attestation.reported', 'flow.tagged', 'policy.created']));
  });

  it('F1: compliant=1 written into attestations behind the server never passes the gate, cached or fresh', async () => {
    // Warm the cache of `services` on the honest rows first.
    expect((await assertProd(services)).compliant).toBe(false);
    await dropTriggers(store);
    await expectCaught(`UPDATE attestations SET compliant = 1 WHERE name = 'security-scan'`, 'attestations');
    const err = (await assertProd(fresh()).then(() => ({ message: 'passed', details: null }), (e: unknown) => e)) as { message: string };
    const entry = (await store.log.entries(org.id, 0, 100)).find((e) => e.entry.includes('"attestation":"security-scan"'))!;
    expect(err).toMatchObject({ details: { table: 'attestations', entry_index: entry.index, field: 'compliant' } });
    expect(err.message).toContain(`log entry ${entry.index}`);
    await sql.raw(`UPDATE attestations SET compliant = 0 WHERE name = 'security-scan'`).execute(store.db);
    expect((await assertProd(fresh())).compliant).toBe(false);
  });

  const edits: [string, string, string, string][] = [
    ['flows (tags)', 'flows', `UPDATE flows SET tags = '{"risk":"none"}' WHERE name = 'app'`, `UPDATE flows SET tags = '{"risk":"low"}' WHERE name = 'app'`],
    ['trails (template)', 'trails', `UPDATE trails SET template = NULL`, `UPDATE trails SET template = '${TEMPLATE.replace(/'/g, "''")}'`],
    ['artifacts (name)', 'artifacts', `UPDATE artifacts SET name = 'renamed'`, `UPDATE artifacts SET name = 'app'`],
    ['attestations (type)', 'attestations', `UPDATE attestations SET type = 'junit' WHERE name = 'security-scan'`, `UPDATE attestations SET type = 'generic' WHERE name = 'security-scan'`],
    ['policies (source)', 'policies', `UPDATE policies SET source = '${'_schema: https://docs.kosli.com/schemas/policy/v1\n'}' WHERE name = 'prod-policy'`, `UPDATE policies SET source = '${POLICY.replace(/'/g, "''")}' WHERE name = 'prod-policy'`],
    ['policy_attachments (policy)', 'policy_attachments', `UPDATE policy_attachments SET policy_name = 'lax'`, `UPDATE policy_attachments SET policy_name = 'prod-policy'`],
    ['allowances (fingerprint)', 'allowances', `UPDATE allowances SET env_id = (SELECT id FROM environments WHERE name = 'production'), fingerprint = '${FP}'`, `UPDATE allowances SET env_id = (SELECT id FROM environments WHERE name = 'staging'), fingerprint = '${OTHER}'`],
    ['environments (type)', 'environments', `UPDATE environments SET type = 'logical' WHERE name = 'production'`, `UPDATE environments SET type = 'k8s' WHERE name = 'production'`],
    ['snapshot_artifacts (fingerprint)', 'snapshot_artifacts', `UPDATE snapshot_artifacts SET fingerprint = '${OTHER}'`, `UPDATE snapshot_artifacts SET fingerprint = '${FP}'`],
  ];
  it.each(edits)('an edit of %s fails the decision naming the entry, and undoing it restores the honest decision', async (_label, table, edit, undo) => {
    await dropTriggers(store);
    if (table === 'snapshot_artifacts') {
      await sql.raw(edit).execute(store.db);
      await expect(fresh().asserts.snapshot(org, 'production')).rejects.toMatchObject({ code: 'TAMPERED', details: { table } });
      // What the environment's log (and the web UI's Log tab) says started is those rows too.
      await expect(fresh().environments.events(org, 'production')).rejects.toMatchObject({ code: 'TAMPERED', details: { table } });
      // DORA's deployments are these rows too, and so is what a release plan promotes.
      await expect(fresh().dora.metrics(org, { environment: 'production' })).rejects.toMatchObject({ code: 'TAMPERED', details: { table } });
      await expect(fresh().releasePlans.plan(org, 'production', 'staging')).rejects.toMatchObject({ code: 'TAMPERED', details: { table } });
    } else {
      await expectCaught(edit, table);
    }
    await sql.raw(undo).execute(store.db);
    expect((await assertProd(fresh(), true)).compliant).toBe(false);
    expect((await fresh().environments.events(org, 'production')).items.map((e) => [e.type, e.fingerprint])).toEqual([['started', FP]]);
  });

  it('a release plan refuses an artifact whose flow or commit was edited behind the server, naming the entry', async () => {
    const honest = await fresh().releasePlans.plan(org, 'production', 'staging');
    expect(honest.items.map((i) => [i.incoming_flow, i.incoming_fingerprint])).toEqual([['app', FP]]);
    await dropTriggers(store);
    for (const [edit, undo] of [
      [`UPDATE artifacts SET commit_url = 'https://github.com/evil/app/commit/${'0'.repeat(40)}'`, `UPDATE artifacts SET commit_url = NULL`],
      [`UPDATE artifacts SET git_commit = '${'1'.repeat(40)}'`, `UPDATE artifacts SET git_commit = NULL`],
    ]) {
      await sql.raw(edit!).execute(store.db);
      await expect(fresh().releasePlans.plan(org, 'production', 'staging')).rejects.toMatchObject({ code: 'TAMPERED', details: { table: 'artifacts' } });
      await sql.raw(undo!).execute(store.db);
    }
    expect(await fresh().releasePlans.plan(org, 'production', 'staging')).toEqual(honest);
  });

  it('an entry index a row could hold that is not in the signed tree is refused as TAMPERED', async () => {
    const size = await services.log.size(org);
    for (const index of [size, -1, 2 ** 60, 1.5, Number.NaN]) {
      await expect(projectionCheck(store).entries(org, [index])).rejects.toMatchObject({ code: 'TAMPERED', message: expect.stringContaining('is not in the signed tree') });
    }
  });

  it('an entry rewritten with its leaf hash and its stored level-0 hash is refused: it does not lead to the signed root', async () => {
    const entry = (await store.log.entries(org.id, 0, 100)).find((e) => e.entry.includes('"attestation":"security-scan"'))!;
    const body = JSON.parse(entry.entry) as Record<string, unknown>;
    expect(body.compliant).toBe(false);
    const forged = canonicalJson({ ...body, compliant: true });
    const leaf = leafHash(new TextEncoder().encode(forged));
    const original = { leaf: entry.leafHash, level0: (await store.log.readHashes(org.id, [storedHashIndex(0, entry.index)])).get(storedHashIndex(0, entry.index))! };
    await dropTriggers(store);
    const rewrite = async (text: string, hash: Uint8Array) => {
      await sql`UPDATE log_entries SET entry = ${text}, leaf_hash = ${hash} WHERE org_id = ${org.id} AND idx = ${entry.index}`.execute(store.db);
      await sql`UPDATE log_hashes SET hash = ${hash} WHERE org_id = ${org.id} AND hidx = ${storedHashIndex(0, entry.index)}`.execute(store.db);
    };
    await rewrite(forged, leaf);
    await sql.raw(`UPDATE attestations SET compliant = 1 WHERE name = 'security-scan'`).execute(store.db);
    // A fresh process: what this one verified before (entries and subtrees, per store) is forgotten.
    const check = projectionCheck(store);
    check.clear();
    check.forgetTree();
    try {
      const err = await assertProd(fresh()).then(() => null, (e: unknown) => e);
      // The entry named is one whose path to the root no longer holds: the forged one, or a neighbour whose
      // proof reads its hash.
      expect(err).toMatchObject({ code: 'TAMPERED' });
      expect((err as Error).message).toMatch(/log entry \d+ does not (lead to the signed root|hash to the subtree \(\d+, \d+\) checked before against the signed root)/);
    } finally {
      await rewrite(entry.entry, original.leaf);
      await sql.raw(`UPDATE attestations SET compliant = 0 WHERE name = 'security-scan'`).execute(store.db);
    }
    expect(original.level0).toEqual(original.leaf);
    expect((await assertProd(fresh())).compliant).toBe(false);
  });

  it('an edit that would add a passing row (a forged attestation) fails naming the entry it points at', async () => {
    await dropTriggers(store);
    const row = await sql<{ id: number }>`SELECT id FROM attestations WHERE name = 'smoke'`.execute(store.db);
    // A copy of the passing smoke row renamed security-scan: it names smoke's entry, which says otherwise.
    await sql.raw(`INSERT INTO attestations (org_id, flow_id, trail_id, name, type, artifact_fingerprint, artifact_name, git_commit, compliant, summary, description, user_data, annotations, created_at, entry_index, evidence)
      SELECT org_id, flow_id, trail_id, 'security-scan', type, '${FP}', 'app', git_commit, 1, summary, description, user_data, annotations, created_at, entry_index, evidence FROM attestations WHERE id = ${row.rows[0]!.id}`).execute(store.db);
    await expect(assertProd(fresh())).rejects.toMatchObject({ code: 'TAMPERED', details: { table: 'attestations' } });
    await sql.raw(`DELETE FROM attestations WHERE name = 'security-scan' AND compliant = 1`).execute(store.db);
    expect((await assertProd(fresh())).compliant).toBe(false);
  });
  it('drift and a snapshot\'s description are checked: an edited report or expectation, or a deleted expectation, is refused', async () => {
    const honest = await fresh().drift.drift(org, 'production');
    expect(honest.in_sync).toBe(true);
    await services.environments.expect(org, 'production', OTHER, 'next');
    await services.environments.expect(org, 'production', FP, 'back again');
    expect((await fresh().environments.expectations(org, 'production')).map((x) => x.number)).toEqual([1, 2, 3]);
    await dropTriggers(store);
    // A report's commit shown beside a running artifact (get snapshot, diff, drift) is its entry's.
    await sql.raw(`UPDATE artifacts SET git_commit = '${'1'.repeat(40)}'`).execute(store.db);
    const view = await fresh().environments.snapshot(org, 'production');
    await expect(describeSnapshot(store, org, view)).rejects.toMatchObject({ code: 'TAMPERED', details: { table: 'artifacts', field: 'git_commit' } });
    await expect(fresh().drift.drift(org, 'production')).rejects.toMatchObject({ code: 'TAMPERED', details: { table: 'artifacts' } });
    await sql.raw(`UPDATE artifacts SET git_commit = NULL`).execute(store.db);
    // An expectation pointed at another fingerprint.
    await sql.raw(`UPDATE expectations SET fingerprint = '${OTHER}' WHERE number = 3`).execute(store.db);
    await expect(fresh().drift.drift(org, 'production')).rejects.toMatchObject({ code: 'TAMPERED', details: { table: 'expectations', field: 'fingerprint' } });
    await sql.raw(`UPDATE expectations SET fingerprint = '${FP}' WHERE number = 3`).execute(store.db);
    // The newest expectation deleted: the one before it (OTHER, not running) would make drift say out of sync
    // for the wrong reason; a middle one deleted leaves a gap in the numbers.
    const rows = (await sql<Record<string, unknown>>`SELECT * FROM expectations WHERE number = 2`.execute(store.db)).rows;
    await sql.raw(`DELETE FROM expectations WHERE number = 2`).execute(store.db);
    await expect(fresh().drift.drift(org, 'production')).rejects.toMatchObject({ code: 'TAMPERED', details: { table: 'expectations', field: 'number' } });
    await expect(fresh().environments.expectations(org, 'production')).rejects.toThrow(/deployment #3 \(log entry \d+\) is the 2nd of its expectations/);
    await store.db.insertInto('expectations').values(rows[0] as never).execute();
    const after = await fresh().drift.drift(org, 'production');
    expect(after.items.map((i) => [i.fingerprint, i.state, i.expectation?.number])).toEqual([[FP, 'running', 3], [OTHER, 'not-running', 2]]);
    expect(after.in_sync).toBe(false);
  });
});
