import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createServices, type ServiceBundle } from '../../src/services/index.js';
import { leafHash, storedHashIndex, type NoteSigner } from '../../src/ledger/index.js';
import { canonicalJson } from '../../src/formats/index.js';
import { projectionCheck } from '../../src/services/records/projection-check.js';
import type { OrgRecord, SqlStore } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';
import { testSigner } from '../helpers/keys.js';
import { dropTriggers } from '../helpers/tamper.js';

// A server's compliance facts follow the log: the entries appended since its watermark (by it or by another
// server on the database) say which fingerprints' facts to drop (compliance-facts.ts). An attacker who edits
// such an entry before the server reads it, so that it names another fingerprint, must not keep the server
// deciding from the stale facts of the fingerprint the entry was really about.

const FP = 'a'.repeat(64);
const OTHER = 'b'.repeat(64);
const POLICY = `_schema: https://docs.kosli.com/schemas/policy/v1
artifacts:
  attestations:
    - name: security-scan
      type: generic
`;

describe.each(engines())('the compliance facts catch-up on $name', (engine) => {
  let store: SqlStore;
  let cleanup: () => Promise<void>;
  let signer: NoteSigner;
  let org: OrgRecord;
  /** The server whose cached facts are followed; `other` appends beside it, as a second server would. */
  let server: ServiceBundle;
  let other: ServiceBundle;
  const assertProd = () => server.asserts.artifact(org, { fingerprint: FP, environment: 'production' });
  const scan = (compliant: boolean) => other.attestations.record(org, 'generic', { flow: 'app', trail: 't1', name: 'app.security-scan', fingerprint: FP }, compliant, null);

  beforeAll(async () => {
    const opened = await engine.open();
    store = opened.store;
    cleanup = opened.cleanup;
    signer = testSigner();
    other = createServices(store, signer);
    org = (await other.auth.ensureOrg('acme')).org;
    await other.flows.create(org, { name: 'app' });
    await other.trails.begin(org, { flow: 'app', name: 't1' });
    await other.trails.begin(org, { flow: 'app', name: 't2' });
    await other.artifacts.report(org, { flow: 'app', trail: 't1', name: 'app', fingerprint: FP });
    await other.environments.create(org, { name: 'production', type: 'k8s' });
    await other.policies.create(org, { name: 'prod-policy', source: POLICY });
    await other.policies.attach(org, 'production', 'prod-policy');
    await other.environments.report(org, 'production', [{ name: 'app', fingerprint: FP, instances: 1 }]);
    server = createServices(store, signer);
  });
  afterAll(async () => cleanup());

  it('honest: an attestation appended by another server changes the cached decision', async () => {
    expect((await assertProd()).compliant).toBe(false);
    await scan(true);
    expect((await assertProd()).compliant).toBe(true);
  });

  /** Appends a failing scan, then rewrites its entry (and, if asked, its stored hashes) to name OTHER in trail t2; the server must refuse, not stay compliant. */
  async function forgeNextScan(withHashes: boolean) {
    expect((await assertProd()).compliant).toBe(true);
    await scan(false);
    const size = (await store.log.head(org.id)).size;
    const [entry] = await store.log.entries(org.id, size - 1, size);
    const body = JSON.parse(entry!.entry) as Record<string, unknown>;
    expect(body).toMatchObject({ artifact_fingerprint: FP, compliant: false });
    // Another fingerprint and another trail: nothing the entry then names is about FP's facts.
    const forged = canonicalJson({ ...body, artifact_fingerprint: OTHER, trail: 't2' });
    await dropTriggers(store);
    if (withHashes) {
      const leaf = leafHash(new TextEncoder().encode(forged));
      await sql`UPDATE log_entries SET entry = ${forged}, leaf_hash = ${leaf} WHERE org_id = ${org.id} AND idx = ${entry!.index}`.execute(store.db);
      await sql`UPDATE log_hashes SET hash = ${leaf} WHERE org_id = ${org.id} AND hidx = ${storedHashIndex(0, entry!.index)}`.execute(store.db);
    } else {
      await sql`UPDATE log_entries SET entry = ${forged} WHERE org_id = ${org.id} AND idx = ${entry!.index}`.execute(store.db);
    }
    await expect(assertProd()).rejects.toMatchObject({ code: 'TAMPERED', details: { entry_index: entry!.index } });
    return { entry: entry!, leafHash: entry!.leafHash };
  }

  it('an appended entry rewritten to name another fingerprint is refused, not followed with stale facts', async () => {
    const { entry } = await forgeNextScan(false);
    // Put back: the server then follows the log again, and the failing scan counts.
    await sql`UPDATE log_entries SET entry = ${entry.entry} WHERE org_id = ${org.id} AND idx = ${entry.index}`.execute(store.db);
    expect((await assertProd()).compliant).toBe(false);
    await scan(true);
  });

  it('the same with its leaf hash and stored level-0 hash rewritten too: it does not lead to the signed root', async () => {
    const { entry, leafHash: original } = await forgeNextScan(true);
    await sql`UPDATE log_entries SET entry = ${entry.entry}, leaf_hash = ${original} WHERE org_id = ${org.id} AND idx = ${entry.index}`.execute(store.db);
    await sql`UPDATE log_hashes SET hash = ${original} WHERE org_id = ${org.id} AND hidx = ${storedHashIndex(0, entry.index)}`.execute(store.db);
    expect((await assertProd()).compliant).toBe(false);
  });

  it("a server's own appends are followed from memory; another server's are read and checked", async () => {
    const mine = (compliant: boolean) => server.attestations.record(org, 'generic', { flow: 'app', trail: 't1', name: 'app.security-scan', fingerprint: FP }, compliant, null);
    const stats = projectionCheck(store).stats;
    await mine(true);
    let verified = stats.entriesVerified;
    let cache = await server.compliance.facts.current(org);
    expect(cache.watermark).toBe((await store.log.head(org.id)).size);
    expect(stats.entriesVerified).toBe(verified);
    expect((await assertProd()).compliant).toBe(true);
    await mine(false);
    expect((await assertProd()).compliant).toBe(false);
    await scan(true);
    verified = stats.entriesVerified;
    cache = await server.compliance.facts.current(org);
    expect(cache.watermark).toBe((await store.log.head(org.id)).size);
    expect(stats.entriesVerified).toBe(verified + 1);
    expect((await assertProd()).compliant).toBe(true);
    // Own again after another's: the gap is read from the database, then memory serves again.
    await scan(false);
    await mine(true);
    verified = stats.entriesVerified;
    expect((await assertProd()).compliant).toBe(true);
    expect(stats.entriesVerified).toBeGreaterThan(verified);
  });
});
