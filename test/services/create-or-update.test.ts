import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServiceBundle } from '../../src/services/index.js';
import type { OrgRecord } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';
import { openServices } from '../helpers/services.js';

const TEMPLATE = 'version: 1\ntrail:\n  attestations:\n    - name: unit-tests\n      type: junit\n';

// Kosli's `create flow`, `begin trail` and `create environment` create or update (issue 15): a re-run that
// changes something is one log entry that carries the new state and moves the row's entry_index to it; a
// re-run that changes nothing appends nothing.
describe.each(engines())('create-or-update on $name', (engine) => {
  let services: ServiceBundle;
  let org: OrgRecord;
  let cleanup: () => Promise<void>;
  const size = async () => Number((await services.log.checkpoint(org)).split('\n')[1]);

  beforeAll(async () => {
    ({ services, org, cleanup } = await openServices(engine));
  });
  afterAll(async () => cleanup());

  it('creates a flow, updates it with one entry, and appends nothing for a no-op re-run', async () => {
    const first = await services.flows.createOrUpdate(org, { name: 'runner', description: 'one' });
    expect(first.outcome).toBe('created');
    const start = await size();
    expect((await services.flows.createOrUpdate(org, { name: 'runner', description: 'one' })).outcome).toBe('unchanged');
    expect((await services.flows.createOrUpdate(org, { name: 'runner' })).outcome).toBe('unchanged'); // left out: kept
    expect(await size()).toBe(start);
    const updated = await services.flows.createOrUpdate(org, { name: 'runner', description: 'two', template: TEMPLATE });
    expect(updated.outcome).toBe('updated');
    expect(await size()).toBe(start + 1);
    expect(updated.flow).toMatchObject({ description: 'two', template: TEMPLATE, entryIndex: start, createdAt: first.flow.createdAt });
    expect(updated.flow.entryIndex).toBeGreaterThan(first.flow.entryIndex);
    expect(await services.flows.get(org, 'runner')).toMatchObject({ description: 'two', entryIndex: start });
    await expect(services.flows.createOrUpdate(org, { name: 'runner', template: 'a: [' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await size()).toBe(start + 1);
  });

  it('begins a trail, updates what a re-run states, keeps what it leaves out', async () => {
    await services.flows.createOrUpdate(org, { name: 'trails', template: TEMPLATE });
    const first = await services.trails.beginOrUpdate(org, { flow: 'trails', name: 't1', description: 'd', userData: { pr: 1 } });
    expect(first.outcome).toBe('created');
    const start = await size();
    expect((await services.trails.beginOrUpdate(org, { flow: 'trails', name: 't1', description: 'd', userData: { pr: 1 } })).outcome).toBe('unchanged');
    expect((await services.trails.beginOrUpdate(org, { flow: 'trails', name: 't1' })).outcome).toBe('unchanged');
    expect(await size()).toBe(start);
    const updated = await services.trails.beginOrUpdate(org, { flow: 'trails', name: 't1', originUrl: 'https://ci.example/1', userData: { pr: 2 } });
    expect(updated.outcome).toBe('updated');
    expect(updated.trail).toMatchObject({ description: 'd', originUrl: 'https://ci.example/1', userData: { pr: 2 }, template: TEMPLATE, entryIndex: start });
    expect(await size()).toBe(start + 1);
    // get() must not answer from its memory of the trail before the update
    expect((await services.trails.get(org, 'trails', 't1')).trail.entryIndex).toBe(start);
  });

  it('creates an environment, updates its description, refuses a change of type', async () => {
    expect((await services.environments.createOrUpdate(org, { name: 'prod', type: 'k8s', description: 'a' })).outcome).toBe('created');
    const start = await size();
    expect((await services.environments.createOrUpdate(org, { name: 'prod', type: 'k8s', description: 'a' })).outcome).toBe('unchanged');
    expect(await size()).toBe(start);
    const updated = await services.environments.createOrUpdate(org, { name: 'prod', type: 'k8s', description: 'b', includeScaling: false });
    expect(updated).toMatchObject({ outcome: 'updated', environment: { description: 'b', includeScaling: false, entryIndex: start } });
    await expect(services.environments.createOrUpdate(org, { name: 'prod', type: 'ecs' })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await size()).toBe(start + 1);
  });

  it('two concurrent first runs make one flow, not an error', async () => {
    const results = await Promise.all(Array.from({ length: 4 }, () => services.flows.createOrUpdate(org, { name: 'racy', description: 'x' })));
    expect(results.filter((r) => r.outcome === 'created')).toHaveLength(1);
    expect(new Set(results.map((r) => r.flow.id)).size).toBe(1);
  });
});
