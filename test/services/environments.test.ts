import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServiceBundle } from '../../src/services/index.js';
import type { OrgRecord } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';
import { openServices } from '../helpers/services.js';

const fp = (c: string) => c.repeat(64);

describe.each(engines())('environment service on $name', (engine) => {
  let services: ServiceBundle;
  let org: OrgRecord;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ services, org, cleanup } = await openServices(engine));
  });
  afterAll(async () => cleanup());

  it('makes one snapshot when reporters race with the same state (compared again under the log lock)', async () => {
    await services.environments.create(org, { name: 'race', type: 'k8s' });
    await services.environments.report(org, 'race', [{ name: 'a', fingerprint: fp('a'), instances: 1 }]);
    const next = [{ name: 'a', fingerprint: fp('a'), instances: 1 }, { name: 'b', fingerprint: fp('b'), instances: 2 }];
    const results = await Promise.all(Array.from({ length: 5 }, () => services.environments.report(org, 'race', next)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(results.map((r) => r.snapshot?.index)).toEqual([2, 2, 2, 2, 2]);
    const { page } = await services.environments.snapshots(org, 'race', null, 10);
    expect(page.items.map((s) => s.index)).toEqual([2, 1]);
  });

  it('pages environment events by events, whole snapshots, newest page first, each page compared with the snapshot before it', async () => {
    await services.environments.create(org, { name: 'paged', type: 'k8s' });
    const states = [[['a', 1]], [['a', 2]], [['a', 2], ['b', 1]], [['b', 1]], [['c', 1]]] as const;
    for (const s of states) await services.environments.report(org, 'paged', s.map(([n, i]) => ({ name: n, fingerprint: fp(n), instances: i })));
    const all = (await services.environments.events(org, 'paged')).items;
    const first = await services.environments.events(org, 'paged', null, 2);
    expect(first.items.map((e) => [e.snapshot, e.type, e.name])).toEqual([[5, 'started', 'c'], [5, 'exited', 'b']]);
    const second = await services.environments.events(org, 'paged', first.nextCursor, 2);
    expect(second.items.map((e) => [e.snapshot, e.type, e.name])).toEqual([[3, 'started', 'b'], [4, 'exited', 'a']]);
    const third = await services.environments.events(org, 'paged', second.nextCursor, 2);
    expect(third.items.map((e) => [e.snapshot, e.type, e.name])).toEqual([[1, 'started', 'a'], [2, 'scaled', 'a']]);
    expect(third.nextCursor).toBeNull();
    expect([...third.items, ...second.items, ...first.items]).toEqual(all);
  });

  it("list flows: each flow's latest trail, none for a flow without trails (whose descent lands on another flow's)", async () => {
    for (const [flow, trails] of [['lt-a', ['a1', 'a2']], ['lt-b', []], ['lt-c', ['c1']]] as const) {
      await services.flows.create(org, { name: flow });
      for (const t of trails) await services.trails.begin(org, { flow, name: t });
    }
    await services.trails.begin(org, { flow: 'lt-a', name: 'a3' });
    const page = await services.flows.overview(org, { limit: 1000 });
    const latest = new Map(page.items.map((s) => [s.flow.name, s.latestTrail?.name ?? null]));
    expect([latest.get('lt-a'), latest.get('lt-b'), latest.get('lt-c')]).toEqual(['a3', null, 'c1']);
  });

  it('archives an environment: kept and readable, out of the default list, refusing reports, one log entry', async () => {
    await services.environments.create(org, { name: 'old', type: 'server' });
    await services.environments.report(org, 'old', [{ name: 'a', fingerprint: fp('a'), instances: 1 }]);
    const before = (await services.log.checkpoint(org)).split('\n')[1];
    const archived = await services.environments.archive(org, 'old');
    expect(archived.archivedAt).toMatch(/^\d{4}-/);
    expect(Number((await services.log.checkpoint(org)).split('\n')[1])).toBe(Number(before) + 1);
    expect((await services.environments.archive(org, 'old')).archivedAt).toBe(archived.archivedAt);
    expect((await services.environments.list(org)).map((e) => e.name)).not.toContain('old');
    expect((await services.environments.list(org, true)).map((e) => e.name)).toContain('old');
    await expect(services.environments.report(org, 'old', [])).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await services.environments.snapshot(org, 'old#1')).artifacts.map((a) => a.name)).toEqual(['a']);
  });

  it('compares the latest expectation of each flow with what runs (drift)', async () => {
    await services.environments.create(org, { name: 'prod', type: 'ecs' });
    await services.flows.create(org, { name: 'web' });
    await services.trails.begin(org, { flow: 'web', name: 't1' });
    for (const [c, name] of [['1', 'web:1'], ['2', 'web:2']] as const) {
      await services.artifacts.report(org, { flow: 'web', trail: 't1', fingerprint: fp(c), name: 'web', displayName: name });
    }
    await services.environments.expect(org, 'prod', fp('1'));
    await services.environments.expect(org, 'prod', fp('2'), 'release 2');
    await services.environments.expect(org, 'prod', fp('9'));
    // web:2 is expected (superseding web:1, which still runs); fp 9 never ran; x was never expected.
    await services.environments.report(org, 'prod', [
      { name: 'web:1', fingerprint: fp('1'), instances: 1 }, { name: 'web:2', fingerprint: fp('2'), instances: 3 }, { name: 'x', fingerprint: fp('e'), instances: 1 },
    ]);
    const d = await services.drift.drift(org, 'prod');
    expect(d.in_sync).toBe(false);
    expect(d.snapshot).toBe(1);
    expect(d.items.map((i) => [i.state, i.fingerprint[0], i.instances, i.expectation?.number ?? null])).toEqual([
      ['running', '2', 3, 2], ['not-running', '9', 0, 3], ['superseded-still-running', '1', 1, 1], ['never-expected', 'e', 1, null],
    ]);
    expect(d.items[0]).toMatchObject({ flow: 'web', name: 'web:2', expectation: { description: 'release 2' } });
    await services.environments.report(org, 'prod', [{ name: 'web:2', fingerprint: fp('2'), instances: 3 }]);
    await services.environments.expect(org, 'prod', fp('2'));
    const later = await services.drift.drift(org, 'prod');
    expect(later.items.filter((i) => i.state !== 'running').map((i) => i.fingerprint[0])).toEqual(['9']);
  });
});
