import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServiceBundle } from '../../src/services/index.js';
import type { OrgRecord } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';
import { openServices } from '../helpers/services.js';

const fp = (c: string) => c.repeat(64);
const TEMPLATE = `version: 1
trail:
  attestations:
  - name: ticket
    type: generic
  artifacts:
  - name: backend
    attestations:
    - name: unit-tests
      type: junit
  - name: frontend
`;

describe.each(engines())('flow templates, compliance states and tags on $name', (engine) => {
  let services: ServiceBundle;
  let org: OrgRecord;
  let cleanup: () => Promise<void>;
  const size = async () => services.log.size(org);

  beforeAll(async () => {
    ({ services, org, cleanup } = await openServices(engine));
  });
  afterAll(async () => cleanup());

  it('refuses a malformed template with the line and column of each problem, and stores nothing', async () => {
    const before = await size();
    const bad = 'version: 1\ntrail:\n  attestations:\n  - name: pr\n    type: pull-request\n  colour: blue\n';
    const err = await services.flows.create(org, { name: 'bad', template: bad }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((err as Error).message).toMatch(/template\.yml:5:11: trail\.attestations\[0\]\.type: unknown attestation type 'pull-request' \(did you mean 'pull_request'\?\)/);
    expect((err as { details: unknown[] }).details).toEqual(expect.arrayContaining([
      expect.objectContaining({ path: 'trail.attestations[0].type', line: 5, column: 11 }),
      expect.objectContaining({ line: 6 }),
    ]));
    await expect(services.flows.get(org, 'bad')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await size()).toBe(before);
  });

  it('keeps the template a trail began with, and judges each trail by its own', async () => {
    const flow = await services.flows.create(org, { name: 'shop', template: TEMPLATE });
    expect(flow.template).toBe(TEMPLATE);
    await services.trails.begin(org, { flow: 'shop', name: 't1' });
    const loose = 'version: 1\ntrail:\n  artifacts:\n  - name: backend\n';
    const own = await services.trails.begin(org, { flow: 'shop', name: 't2', template: loose });
    expect(own.template).toBe(loose);
    const before = await size();
    await expect(services.trails.begin(org, { flow: 'shop', name: 't3', template: 'trail: [1' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT', details: [expect.objectContaining({ line: 1 })],
    });
    expect(await size()).toBe(before);
    await expect(services.trails.get(org, 'shop', 't3')).rejects.toMatchObject({ code: 'NOT_FOUND' });

    for (const trail of ['t1', 't2']) {
      await services.artifacts.report(org, { flow: 'shop', trail, name: 'backend', fingerprint: fp(trail === 't1' ? '1' : '2') });
    }
    const t1 = (await services.trails.get(org, 'shop', 't1')).trail;
    const t2 = (await services.trails.get(org, 'shop', 't2')).trail;
    expect(t1.template).toBe(TEMPLATE);
    // t1 misses the ticket, backend's unit tests and the frontend; t2's template asks only for a backend.
    const c1 = await services.trails.compliance(org, 'shop', t1);
    expect(c1.state).toBe('INCOMPLETE');
    expect(c1.attestations_statuses).toEqual([expect.objectContaining({ attestation_name: 'ticket', status: 'MISSING', is_compliant: null })]);
    expect(c1.artifacts.map((a) => [a.name, a.status, a.state])).toEqual([['backend', 'COMPLETE', 'INCOMPLETE'], ['frontend', 'MISSING', 'INCOMPLETE']]);
    expect((await services.trails.compliance(org, 'shop', t2)).state).toBe('COMPLIANT');
  });

  it('moves a trail through INCOMPLETE, NON-COMPLIANT and COMPLIANT, listing unexpected attestations', async () => {
    const att = (name: string, compliant: boolean, type = 'generic', fingerprint?: string) =>
      services.attestations.record(org, type, { flow: 'shop', trail: 't1', name, fingerprint }, compliant, null);
    await att('ticket', true);
    await att('unit-tests', false, 'junit', fp('1'));
    await services.artifacts.report(org, { flow: 'shop', trail: 't1', name: 'frontend', fingerprint: fp('3') });
    const t1 = (await services.trails.get(org, 'shop', 't1')).trail;
    expect((await services.trails.compliance(org, 'shop', t1)).state).toBe('NON-COMPLIANT');
    await att('unit-tests', true, 'junit', fp('1')); // the latest of a name counts
    await att('lint', true); // not asked for: unexpected, and compliant
    const c = await services.trails.compliance(org, 'shop', t1);
    expect(c.state).toBe('COMPLIANT');
    expect(c.attestations_statuses.map((s) => [s.attestation_name, s.status, s.is_compliant, s.unexpected])).toEqual([
      ['ticket', 'COMPLETE', true, false], ['lint', 'COMPLETE', true, true],
    ]);
    // An artifact's own view uses the same template.
    const [view] = await services.artifacts.find(org, `shop@${fp('1')}`);
    expect(view!.state).toBe('COMPLIANT');
    expect(view!.compliance.attestations_statuses).toEqual([expect.objectContaining({ attestation_name: 'unit-tests', attestation_type: 'junit', status: 'COMPLETE' })]);
    await att('lint', false);
    expect((await services.trails.compliance(org, 'shop', t1)).state).toBe('NON-COMPLIANT');
    // A required name recorded with another type does not satisfy the requirement.
    await services.trails.begin(org, { flow: 'shop', name: 't4' });
    await services.artifacts.report(org, { flow: 'shop', trail: 't4', name: 'backend', fingerprint: fp('4') });
    await services.attestations.record(org, 'generic', { flow: 'shop', trail: 't4', name: 'unit-tests', fingerprint: fp('4') }, true, null);
    const [wrongType] = await services.artifacts.find(org, fp('4'));
    expect(wrongType!.state).toBe('INCOMPLETE');
    expect(wrongType!.compliance.attestations_statuses.map((s) => [s.attestation_name, s.status, s.unexpected])).toEqual([
      ['unit-tests', 'MISSING', false], ['unit-tests', 'COMPLETE', true],
    ]);
  });

  it('tags a flow with one log entry per change, validates keys and values, and reads tags of many flows at once', async () => {
    await services.flows.create(org, { name: 'api' });
    const before = await size();
    const tagged = await services.flows.tag(org, 'api', { set: { team: 'core', tier: '1' } });
    expect(tagged.tags).toEqual({ team: 'core', tier: '1' });
    expect(await size()).toBe(before + 1);
    const [entry] = (await services.log.entries(org, before, before + 1)).items;
    expect(JSON.parse(entry!.entry)).toMatchObject({ type: 'flow.tagged', flow: 'api', set: { team: 'core', tier: '1' }, unset: [] });
    await services.flows.tag(org, 'api', { set: { team: 'core' } }); // nothing changes: nothing written
    expect(await size()).toBe(before + 1);
    expect((await services.flows.tag(org, 'api', { set: { owner: 'ann' }, unset: ['tier'] })).tags).toEqual({ owner: 'ann', team: 'core' });
    await expect(services.flows.tag(org, 'api', { set: { 'bad key': 'x' } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: [{ path: 'set.bad key' }] });
    await expect(services.flows.tag(org, 'api', { set: { k: 'x'.repeat(257) } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(services.flows.tag(org, 'api', { set: { k: 'v' }, unset: ['k'] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(services.flows.tag(org, 'api', {})).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(services.flows.tag(org, 'nope', { set: { k: 'v' } })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // Concurrent taggings of one flow keep each other's keys (merged under the log lock).
    await Promise.all(['a', 'b', 'c'].map((k) => services.flows.tag(org, 'api', { set: { [k]: k } })));
    expect((await services.flows.get(org, 'api')).tags).toEqual({ a: 'a', b: 'b', c: 'c', owner: 'ann', team: 'core' });
    // A key such as __proto__ is an ordinary key.
    expect((await services.flows.tag(org, 'api', { set: JSON.parse('{"__proto__":"x"}') as Record<string, string> })).tags).toHaveProperty('__proto__', 'x');
    const tags = await services.flows.tags(org, ['api', 'shop', 'missing']);
    expect([...tags.keys()].sort()).toEqual(['api', 'shop']);
    expect(tags.get('shop')).toEqual({});
    expect(tags.get('api')).toMatchObject({ team: 'core' });
  });
});
