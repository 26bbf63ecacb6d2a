import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DoraFollower, createServices, type Clock, type ServiceBundle } from '../../src/services/index.js';
import { RETRY_AFTER_MS, snapshotEnvironment } from '../../src/services/records/dora-follow.js';
import type { OrgRecord, SqlStore } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';
import { testSigner } from '../helpers/keys.js';
import { dropTriggers } from '../helpers/tamper.js';

// DORA's ledgers kept current as the log grows (issue #21, tenth round): the server extends them shortly after
// snapshots commit and builds them at start, so that a request finds them ready. What a request answers must be
// what a fresh process (which reads and checks every row again) answers, and a row edited behind the server
// must still be refused.

const TESTS_POLICY = '_schema: https://docs.kosli.com/schemas/policy/v1\nartifacts:\n  attestations:\n    - name: unit-tests\n      type: junit\n';
const H = 3_600_000;

class SetClock implements Clock {
  t = Date.parse('2026-11-01T00:00:00Z');
  now(): Date {
    return new Date(this.t);
  }
}

describe('snapshotEnvironment', () => {
  it('names the environment of a snapshot entry only', () => {
    expect(snapshotEnvironment('{"artifacts":[],"environment":"prod","org":"a","time":"t","type":"snapshot.created","v":1}')).toBe('prod');
    // An attestation whose data quotes a snapshot's type is not a snapshot.
    expect(snapshotEnvironment('{"environment":"prod","note":{"type":"snapshot.created"},"type":"attestation.recorded","v":1}')).toBeNull();
    expect(snapshotEnvironment('{"type":"trail.begun","v":1}')).toBeNull();
    expect(() => snapshotEnvironment('"type":"snapshot.created" not json')).toThrow();
  });
});

describe.each(engines())('DORA followed as the log grows on $name', (engine) => {
  let store: SqlStore;
  let cleanup: () => Promise<void>;
  let services: ServiceBundle;
  let follower: DoraFollower;
  let org: OrgRecord;
  const clock = new SetClock();
  const signer = testSigner();
  const warnings: { env: string; code: unknown }[] = [];
  const fresh = () => createServices(store, signer, { clock });
  const follow = (s: ServiceBundle) => {
    const f = new DoraFollower(s.dora, s.environments, store, (_org, env, err) => warnings.push({ env, code: (err as { code?: unknown }).code }), 5);
    s.log.onCommit((o, entries) => f.committed(o, entries));
    return f;
  };
  let envs = 0;
  let fps = 0;

  beforeAll(async () => {
    ({ store, cleanup } = await engine.open());
    services = createServices(store, signer, { clock });
    follower = follow(services);
    org = (await services.auth.ensureOrg('acme')).org;
    for (const flow of ['f1', 'f2']) {
      await services.flows.create(org, { name: flow });
      await services.trails.begin(org, { flow, name: 'r1' });
    }
    await services.policies.create(org, { name: 'tests', source: TESTS_POLICY });
  });
  afterAll(async () => {
    await follower.close();
    await cleanup();
  });

  async function scenario(n: number): Promise<{ env: string; fp: string[] }> {
    const env = `e${++envs}`;
    await services.environments.create(org, { name: env, type: 'k8s' });
    await services.policies.attach(org, env, 'tests');
    return { env, fp: Array.from({ length: n }, () => (++fps).toString(16).padStart(64, '0')) };
  }
  const snap = (env: string, list: string[]) => services.environments.report(org, env, list.map((f) => ({ fingerprint: f, name: `a${f.slice(-6)}`, instances: 1 })));
  const query = (env: string) => ({ environment: env, since: '2026-10-01', until: '2027-01-01', limit: 1000 });
  const envId = async (env: string) => (await store.environments.environment(org.id, env))!.id;

  it('extends the ledger and builds its index as snapshots commit, before any request; the answer is a fresh process\'s', async () => {
    const { env, fp } = await scenario(4);
    await services.artifacts.report(org, { flow: 'f1', trail: 'r1', name: `a${fp[0]!.slice(-6)}`, fingerprint: fp[0]!, commitTime: new Date(clock.t - 2 * H).toISOString() });
    for (let i = 1; i <= 4; i++) {
      clock.t += H;
      await snap(env, fp.slice(0, i));
    }
    await follower.idle();
    const ledger = services.dora.ledgerOf(await envId(env))!;
    expect(ledger.deployments).toHaveLength(4);
    expect(ledger.builds).toBe(1);
    const through = ledger.through;
    const answer = await services.dora.metrics(org, query(env));
    // Nothing left for the request to read or build.
    expect(ledger.through).toBe(through);
    expect(ledger.builds).toBe(1);
    expect(answer.overall.deployments).toBe(4);
    expect(answer).toEqual(await fresh().dora.metrics(org, query(env)));
    expect(answer).toEqual(await services.dora.recomputed(org, query(env)));

    // More snapshots and a report moving a deployed artifact into another flow, after the first request.
    await services.artifacts.report(org, { flow: 'f2', trail: 'r1', name: `a${fp[0]!.slice(-6)}`, fingerprint: fp[0]!, commitTime: new Date(clock.t - 5 * H).toISOString() });
    clock.t += H;
    await snap(env, fp.slice(1));
    clock.t += H;
    await snap(env, fp);
    await follower.idle();
    expect(ledger.deployments).toHaveLength(5);
    const refreshes = ledger.refreshes;
    const after = await services.dora.metrics(org, query(env));
    expect(ledger.builds).toBe(1);
    expect(ledger.refreshes).toBe(refreshes); // refreshed in the background, not at the request
    expect(after.flows.find((f) => f.flow === 'f2')?.deployments).toBe(2);
    expect(after).toEqual(await fresh().dora.metrics(org, query(env)));
    expect(after).toEqual(await services.dora.recomputed(org, query(env)));
    expect(warnings).toEqual([]);
  });

  it('a run start edited before the follower reads it: the background extension is refused and reported, the request answers TAMPERED', async () => {
    const { env, fp } = await scenario(2);
    // A process of its own whose follower is told of commits by hand, so the edit lands before it reads.
    const s = fresh();
    let now = 0;
    // Its own warnings: the suite's follower (of `services`) follows this environment too, on its own time.
    const mine: { env: string; code: unknown }[] = [];
    const f = new DoraFollower(s.dora, s.environments, store, (_org, e, err) => mine.push({ env: e, code: (err as { code?: unknown }).code }), 5, () => now);
    const told = () => f.committed(org, [{ entry: JSON.stringify({ environment: env, type: 'snapshot.created' }) }]);
    clock.t += H;
    await snap(env, [fp[0]!]);
    told();
    await f.idle();
    const id = await envId(env);
    const ledger = s.dora.ledgerOf(id)!;
    expect(ledger.deployments).toHaveLength(1);
    await dropTriggers(store);
    const other = 'f'.repeat(64);
    clock.t += H;
    const created = await snap(env, [fp[0]!, fp[1]!]);
    await sql`UPDATE snapshot_artifacts SET fingerprint = ${other} WHERE env_id = ${id} AND idx = ${created.snapshot!.index} AND fingerprint = ${fp[1]!}`.execute(store.db);
    told();
    await f.idle();
    expect(ledger.deployments).toHaveLength(1);
    expect(mine).toEqual([{ env, code: 'TAMPERED' }]);
    // Not followed again for a while: later commits warn no more.
    told();
    await f.idle();
    expect(mine).toHaveLength(1);
    await expect(s.dora.metrics(org, query(env))).rejects.toMatchObject({ code: 'TAMPERED', details: { table: 'snapshot_artifacts' } });
    await expect(fresh().dora.metrics(org, query(env))).rejects.toMatchObject({ code: 'TAMPERED' });
    await sql`UPDATE snapshot_artifacts SET fingerprint = ${fp[1]!} WHERE env_id = ${id} AND idx = ${created.snapshot!.index} AND fingerprint = ${other}`.execute(store.db);
    // Followed again after RETRY_AFTER_MS: the honest row is read in the background, before any request.
    now += RETRY_AFTER_MS;
    told();
    await f.idle();
    expect(ledger.deployments).toHaveLength(2);
    const answer = await s.dora.metrics(org, query(env));
    expect(answer.overall.deployments).toBe(2);
    expect(answer).toEqual(await fresh().dora.metrics(org, query(env)));
    await f.close();
    warnings.length = 0;
  });

  it('preload builds every environment\'s ledger of a large enough log at start, from checked rows', async () => {
    const { env, fp } = await scenario(3);
    for (let i = 1; i <= 3; i++) {
      clock.t += H;
      await snap(env, fp.slice(0, i));
    }
    const restarted = fresh();
    const f = new DoraFollower(restarted.dora, restarted.environments, store, (_org, e, err) => warnings.push({ env: e, code: (err as { code?: unknown }).code }));
    // Below the threshold: nothing is built.
    await f.preload(Number.MAX_SAFE_INTEGER);
    expect(restarted.dora.ledgerOf(await envId(env))).toBeUndefined();
    await f.preload(0);
    const ledger = restarted.dora.ledgerOf(await envId(env))!;
    expect(ledger.deployments).toHaveLength(3);
    expect(ledger.builds).toBe(1);
    const answer = await restarted.dora.metrics(org, query(env));
    expect(ledger.builds).toBe(1);
    expect(answer).toEqual(await fresh().dora.metrics(org, query(env)));

    // An edited row the restarted process has not read: its preload refuses it and leaves the ledger out.
    const id = await envId(env);
    await dropTriggers(store);
    const first = answer.deployments.at(-1)!.snapshot;
    const other = 'e'.repeat(64);
    await sql`UPDATE snapshot_artifacts SET fingerprint = ${other} WHERE env_id = ${id} AND idx = ${first} AND fingerprint = ${fp[0]!}`.execute(store.db);
    const again = fresh();
    const g = new DoraFollower(again.dora, again.environments, store, (_org, e, err) => warnings.push({ env: e, code: (err as { code?: unknown }).code }));
    warnings.length = 0;
    await g.preload(0);
    expect(warnings).toContainEqual({ env, code: 'TAMPERED' });
    expect(again.dora.ledgerOf(id)?.deployments ?? []).toHaveLength(0);
    await expect(again.dora.metrics(org, query(env))).rejects.toMatchObject({ code: 'TAMPERED' });
    await sql`UPDATE snapshot_artifacts SET fingerprint = ${fp[0]!} WHERE env_id = ${id} AND idx = ${first} AND fingerprint = ${other}`.execute(store.db);
    warnings.length = 0;
  });

  it('after close, commits start no extension', async () => {
    const s = fresh();
    const f = follow(s);
    await f.close();
    const { env, fp } = await scenario(1);
    clock.t += H;
    await s.environments.report(org, env, [{ fingerprint: fp[0]!, name: 'x', instances: 1 }]);
    await f.idle();
    expect(s.dora.ledgerOf(await envId(env))).toBeUndefined();
  });
});
