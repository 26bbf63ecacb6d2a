import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServices, type Clock, type ServiceBundle } from '../../src/services/index.js';
import type { OrgRecord, SqlStore } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';
import { testSigner } from '../helpers/keys.js';
import { dropTriggers } from '../helpers/tamper.js';

// DORA from the ledger (issue #21): each deployment verified and judged once per process, extended by snapshot
// index, attributions following later reports, the list paged — and always the figures a computation from the
// rows alone gives (DoraService.recomputed). The figures come from the ledger's index (dora-index.ts, seventh
// round): test/services/dora-index.test.ts checks it against the pass over the window without a database.

const TESTS_POLICY = '_schema: https://docs.kosli.com/schemas/policy/v1\nartifacts:\n  attestations:\n    - name: unit-tests\n      type: junit\n';
const H = 3_600_000;

class SetClock implements Clock {
  t = Date.parse('2026-11-01T00:00:00Z');
  now(): Date {
    return new Date(this.t);
  }
}

describe.each(engines())('DORA ledger on $name', (engine) => {
  let store: SqlStore;
  let cleanup: () => Promise<void>;
  let services: ServiceBundle;
  let org: OrgRecord;
  const clock = new SetClock();
  const signer = testSigner();
  const fresh = () => createServices(store, signer, { clock });
  let envs = 0;
  let fps = 0;

  beforeAll(async () => {
    ({ store, cleanup } = await engine.open());
    services = createServices(store, signer, { clock });
    org = (await services.auth.ensureOrg('acme')).org;
    for (const flow of ['f1', 'f2']) {
      await services.flows.create(org, { name: flow });
      await services.trails.begin(org, { flow, name: 'r1' });
    }
    await services.policies.create(org, { name: 'tests', source: TESTS_POLICY });
  });
  afterAll(async () => cleanup());

  /** A new environment and `n` new fingerprints, so each scenario starts from nothing. */
  async function scenario(n: number, policy = true): Promise<{ env: string; fp: string[] }> {
    const env = `e${++envs}`;
    await services.environments.create(org, { name: env, type: 'k8s' });
    if (policy) await services.policies.attach(org, env, 'tests');
    return { env, fp: Array.from({ length: n }, () => (++fps).toString(16).padStart(64, '0')) };
  }
  const snap = (env: string, list: string[]) => services.environments.report(org, env, list.map((f) => ({ fingerprint: f, name: `a${f.slice(-6)}`, instances: 1 })));
  const query = (env: string, q: Record<string, unknown> = {}) => ({ environment: env, since: '2026-10-01', until: '2027-01-01', limit: 1000, ...q });

  it('pages the deployments newest first with a cursor; the figures cover the whole window on every page', async () => {
    const { env, fp } = await scenario(5, false);
    for (let i = 1; i <= 5; i++) {
      clock.t += H;
      await snap(env, fp.slice(0, i));
    }
    const all = await services.dora.metrics(org, query(env));
    expect(all.deployments.map((d) => d.snapshot)).toEqual([5, 4, 3, 2, 1]);
    expect(all.next_cursor).toBeNull();
    const seen: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await services.dora.metrics(org, query(env, { limit: 2, cursor }));
      expect(page.overall).toEqual(all.overall);
      expect(page.series).toEqual(all.series);
      seen.push(...page.deployments.map((d) => d.snapshot));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual([5, 4, 3, 2, 1]);
    await expect(services.dora.metrics(org, query(env, { cursor: 'nonsense' }))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: [{ path: 'cursor' }] });
    await expect(services.dora.metrics(org, query(env, { limit: 0 }))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: [{ path: 'limit' }] });
  });

  it('an artifact reported again in another flow after the ledger was built moves its deployments and lead time there', async () => {
    const { env, fp } = await scenario(1);
    const [f] = fp as [string];
    await services.artifacts.report(org, { flow: 'f1', trail: 'r1', name: 'app', fingerprint: f, commitTime: new Date(clock.t - 2 * H).toISOString() });
    clock.t += H;
    await snap(env, [f]);
    const before = await services.dora.metrics(org, query(env));
    expect(before.deployments.map((d) => [d.flow, d.lead_time_seconds])).toEqual([['f1', 3 * 3600]]);
    expect(before.flows.map((x) => x.flow)).toEqual(['f1']);
    await services.artifacts.report(org, { flow: 'f2', trail: 'r1', name: 'app', fingerprint: f, gitCommit: 'c'.repeat(40), commitTime: new Date(clock.t - 10 * H).toISOString() });
    const after = await services.dora.metrics(org, query(env));
    expect(after.deployments.map((d) => [d.flow, d.git_commit, d.lead_time_seconds])).toEqual([['f2', 'c'.repeat(40), 10 * 3600]]);
    expect(after.flows.map((x) => x.flow)).toEqual(['f2']);
    expect((await services.dora.metrics(org, query(env, { flow: 'f1' }))).overall.deployments).toBe(0);
    expect(after).toEqual(await services.dora.recomputed(org, query(env)));
  });

  it('a run start edited behind the server after the ledger was built, in a snapshot it has not read yet, is TAMPERED; rows it read stay as it verified them', async () => {
    const { env, fp } = await scenario(2);
    clock.t += H;
    await snap(env, [fp[0]!]);
    const honest = await services.dora.metrics(org, query(env));
    expect(honest.overall.deployments).toBe(1);
    const first = honest.deployments[0]!.snapshot;
    clock.t += H;
    await snap(env, [fp[0]!, fp[1]!]);
    await dropTriggers(store);
    const envId = (await store.environments.environment(org.id, env))!.id;
    const other = 'f'.repeat(64);
    await sql`UPDATE snapshot_artifacts SET fingerprint = ${other} WHERE env_id = ${envId} AND idx = ${first + 1} AND fingerprint = ${fp[1]!}`.execute(store.db);
    // The ledger's next extension reads the edited row, checks it against its snapshot's entry and refuses it.
    await expect(services.dora.metrics(org, query(env))).rejects.toMatchObject({ code: 'TAMPERED', details: { table: 'snapshot_artifacts' } });
    await expect(services.dora.metrics(org, query(env))).rejects.toMatchObject({ code: 'TAMPERED' });
    await sql`UPDATE snapshot_artifacts SET fingerprint = ${fp[1]!} WHERE env_id = ${envId} AND idx = ${first + 1} AND fingerprint = ${other}`.execute(store.db);
    const extended = await services.dora.metrics(org, query(env));
    expect(extended.overall.deployments).toBe(2);
    // An edit of a row the ledger already holds (the first start): this process verified it when it read it and
    // keeps what it verified; a fresh process reads the row again and refuses it.
    await sql`UPDATE snapshot_artifacts SET fingerprint = ${other} WHERE env_id = ${envId} AND idx = ${first} AND fingerprint = ${fp[0]!}`.execute(store.db);
    expect(await services.dora.metrics(org, query(env))).toEqual(extended);
    await expect(fresh().dora.metrics(org, query(env))).rejects.toMatchObject({ code: 'TAMPERED', details: { table: 'snapshot_artifacts' } });
    await sql`UPDATE snapshot_artifacts SET fingerprint = ${fp[0]!} WHERE env_id = ${envId} AND idx = ${first} AND fingerprint = ${other}`.execute(store.db);
    expect(await fresh().dora.metrics(org, query(env))).toEqual(extended);
  });

  // Random histories: snapshots of a random running set, reports (again, into either flow, with a commit time),
  // passing or failing tests, the clock moving (back too: a clock that stepped back), and queries of random windows in between —
  // the ledger, extended as it goes, must give exactly what a computation from the rows gives.
  type Op =
    | { op: 'snap'; set: number }
    | { op: 'report'; i: number; flow: 'f1' | 'f2'; lead: number }
    | { op: 'attest'; i: number; pass: boolean }
    | { op: 'tick'; minutes: number }
    | { op: 'query'; from: number; span: number; flow: 'f1' | 'f2' | null; bucket: 'day' | 'week' };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ op: fc.constant('snap' as const), set: fc.integer({ min: 0, max: 15 }) }),
    fc.record({ op: fc.constant('report' as const), i: fc.integer({ min: 0, max: 3 }), flow: fc.constantFrom('f1' as const, 'f2' as const), lead: fc.integer({ min: -2, max: 72 }) }),
    fc.record({ op: fc.constant('attest' as const), i: fc.integer({ min: 0, max: 3 }), pass: fc.boolean() }),
    fc.record({ op: fc.constant('tick' as const), minutes: fc.integer({ min: -10 * 24 * 60, max: 3 * 24 * 60 }) }),
    fc.record({ op: fc.constant('query' as const), from: fc.integer({ min: -48, max: 480 }), span: fc.integer({ min: 1, max: 480 }), flow: fc.constantFrom(null, 'f1' as const, 'f2' as const), bucket: fc.constantFrom('day' as const, 'week' as const) }),
  );

  it('equals a computation from the rows for random histories and windows (property)', async () => {
    await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
      const { env, fp } = await scenario(4, envs % 2 === 0);
      const start = clock.t;
      const reported = new Map<number, string>();
      const check = async (from: number, span: number, flow: string | null, bucket: 'day' | 'week') => {
        const q = { environment: env, since: new Date(start + from * H).toISOString(), until: new Date(start + (from + span) * H).toISOString(), bucket, limit: 1000, ...(flow ? { flow } : {}) };
        expect(await services.dora.metrics(org, q)).toEqual(await services.dora.recomputed(org, q));
        // A small page and the next one (the indexed report pages by position in the flow's or all deployments, issue #21 seventh round).
        const small = { ...q, limit: 2 };
        const page = await services.dora.metrics(org, small);
        expect(page).toEqual(await services.dora.recomputed(org, small));
        if (page.next_cursor) expect(await services.dora.metrics(org, { ...small, cursor: page.next_cursor })).toEqual(await services.dora.recomputed(org, { ...small, cursor: page.next_cursor }));
      };
      for (const o of ops) {
        if (o.op === 'snap') await snap(env, fp.filter((_, i) => (o.set >> i) & 1));
        else if (o.op === 'report') {
          await services.artifacts.report(org, { flow: o.flow, trail: 'r1', name: `a${fp[o.i]!.slice(-6)}`, fingerprint: fp[o.i]!, commitTime: new Date(clock.t - o.lead * H).toISOString() });
          reported.set(o.i, o.flow);
        } else if (o.op === 'attest') {
          const flow = reported.get(o.i);
          if (flow) await services.attestations.record(org, 'junit', { flow, trail: 'r1', name: `a${fp[o.i]!.slice(-6)}.unit-tests`, fingerprint: fp[o.i]! }, o.pass, null);
        } else if (o.op === 'tick') clock.t += o.minutes * 60_000;
        else await check(o.from, o.span, o.flow, o.bucket);
      }
      await check(-24 * 30, 24 * 60, null, 'week');
    }), {
      numRuns: 25,
      // Snapshots at +2 d, +10 d, then back to +1 d and +3 d: a window around the first must still find it.
      examples: [[[
        { op: 'tick', minutes: 2 * 1440 }, { op: 'snap', set: 1 }, { op: 'tick', minutes: 8 * 1440 }, { op: 'snap', set: 2 }, { op: 'tick', minutes: -9 * 1440 },
        { op: 'snap', set: 4 }, { op: 'tick', minutes: 2 * 1440 }, { op: 'snap', set: 8 }, { op: 'query', from: 36, span: 24, flow: null, bucket: 'day' },
      ]]],
    });
  });
});
