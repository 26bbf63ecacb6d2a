import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createServices, type ServiceBundle } from '../../src/services/index.js';
import type { OrgRecord, SqlStore } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';
import { testSigner } from '../helpers/keys.js';
import { dropTriggers } from '../helpers/tamper.js';

// `get artifact` keeps each fingerprint's view while the subject map says nothing new is about it
// (src/services/records/artifact-views.ts). What it shows must still be only rows checked against the log:
// a row edited behind the server is caught by a fresh server at once, and by the warm one as soon as it has
// to read that row again (something new about the artifact, its flow or its trail, or another process's append).

const FP = 'c'.repeat(64);
const OTHER = 'd'.repeat(64);

describe.each(engines())('get artifact kept per fingerprint on $name', (engine) => {
  let store: SqlStore;
  let cleanup: () => Promise<void>;
  let services: ServiceBundle;
  let org: OrgRecord;
  const signer = testSigner();
  const fresh = () => createServices(store, signer);
  const scans = (views: { attestations: { name: string; compliant: boolean }[] }[]) => views[0]!.attestations.map((a) => [a.name, a.compliant]);

  beforeAll(async () => {
    const opened = await engine.open();
    store = opened.store;
    cleanup = opened.cleanup;
    services = createServices(store, signer);
    org = (await services.auth.ensureOrg('acme')).org;
    await services.flows.create(org, { name: 'app' });
    await services.flows.create(org, { name: 'lib' });
    await services.environments.create(org, { name: 'production', type: 'k8s' });
    await services.trails.begin(org, { flow: 'app', name: 't1' });
    await services.artifacts.report(org, { flow: 'app', trail: 't1', name: 'app', fingerprint: FP });
    await services.attestations.record(org, 'generic', { flow: 'app', trail: 't1', name: 'scan', fingerprint: FP }, false, null);
  });
  afterAll(async () => cleanup());

  it('shows what is logged after it was kept: a new attestation, a flow tag, snapshots, another process\'s append', async () => {
    const first = await services.artifacts.find(org, FP);
    expect(scans(first)).toEqual([['scan', false]]);
    expect(first[0]!.running).toEqual([]);
    const kept = { ...services.artifacts.views.stats };
    expect(await services.artifacts.find(org, FP)).toBe(first);
    expect(services.artifacts.views.stats.hits).toBe(kept.hits + 1);

    await services.attestations.record(org, 'generic', { flow: 'app', trail: 't1', name: 'tests', fingerprint: FP }, true, null);
    expect(scans(await services.artifacts.find(org, FP))).toEqual([['scan', false], ['tests', true]]);
    await services.flows.tag(org, 'app', { set: { team: 'core' } });
    expect((await services.artifacts.find(org, FP))[0]!.flow.tags).toEqual({ team: 'core' });
    // A snapshot is about its environment only: where it runs is read again after any append.
    await services.environments.report(org, 'production', [{ name: 'app', fingerprint: FP, instances: 1 }]);
    expect((await services.artifacts.find(org, FP))[0]!.running).toEqual(['production#1']);
    await services.environments.report(org, 'production', [{ name: 'lib', fingerprint: OTHER, instances: 1 }]);
    const gone = (await services.artifacts.find(org, FP))[0]!;
    expect([gone.running, gone.exited]).toEqual([[], ['production#2']]);
    // Another process appends about the fingerprint: this one's map is not at that head, so it reads again.
    await fresh().attestations.record(org, 'generic', { flow: 'app', trail: 't1', name: 'review', fingerprint: FP }, true, null);
    expect(scans(await services.artifacts.find(org, FP)).map(([name]) => name)).toEqual(['scan', 'tests', 'review']);
  });

  it('readers of a fingerprint that is being read wait for that one read', async () => {
    const s = fresh();
    const all = await Promise.all(Array.from({ length: 8 }, () => s.artifacts.find(org, FP)));
    expect(s.artifacts.views.stats.recordsReads).toBe(1);
    expect(new Set(all).size).toBe(1);
    expect(scans(all[0]!)[0]).toEqual(['scan', false]);
  });

  it('an edit behind the server: caught fresh at once; the warm view stays the verified one until it reads the row again, then TAMPERED', async () => {
    await services.artifacts.find(org, FP);
    await dropTriggers(store);
    await sql.raw(`UPDATE attestations SET compliant = 1 WHERE name = 'scan'`).execute(store.db);
    await expect(fresh().artifacts.find(org, FP)).rejects.toMatchObject({ code: 'TAMPERED', details: { table: 'attestations', field: 'compliant' } });
    // Kept from rows checked before the edit: never the edited value.
    const reads = services.artifacts.views.stats.recordsReads;
    expect(scans(await services.artifacts.find(org, FP))[0]).toEqual(['scan', false]);
    // Entries about other subjects (another flow's trail) do not make it read the rows again...
    await services.trails.begin(org, { flow: 'lib', name: 'l1' });
    expect(scans(await services.artifacts.find(org, FP))[0]).toEqual(['scan', false]);
    expect(services.artifacts.views.stats.recordsReads).toBe(reads);
    // ...an entry about the artifact does, and the edited row is refused.
    await services.attestations.record(org, 'generic', { flow: 'app', trail: 't1', name: 'late', fingerprint: FP }, true, null);
    await expect(services.artifacts.find(org, FP)).rejects.toMatchObject({ code: 'TAMPERED', details: { table: 'attestations', field: 'compliant' } });
    await expect(services.artifacts.find(org, `app@${FP}`)).rejects.toMatchObject({ code: 'TAMPERED' });
    await sql.raw(`UPDATE attestations SET compliant = 0 WHERE name = 'scan'`).execute(store.db);
    expect(scans(await services.artifacts.find(org, FP)).map(([name]) => name)).toEqual(['scan', 'tests', 'review', 'late']);
    expect(scans(await fresh().artifacts.find(org, FP))[0]).toEqual(['scan', false]);
  });
});
