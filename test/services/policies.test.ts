import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublicKey, verify } from 'node:crypto';
import { type ServiceBundle } from '../../src/services/index.js';
import { pae } from '../../src/formats/index.js';
import type { OrgRecord } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';
import { openServices } from '../helpers/services.js';

const fp = (c: string) => c.repeat(64);
const SCHEMA = '_schema: https://docs.kosli.com/schemas/policy/v1\n';
const STRICT = `${SCHEMA}artifacts:\n  provenance:\n    required: true\n  trail-compliance:\n    required: true\n  attestations:\n    - name: unit-tests\n      type: junit\n`;
const APPROVAL = `${SCHEMA}artifacts:\n  attestations:\n    - name: release-approval\n      type: approval\n`;
const TAGGED = `${SCHEMA}artifacts:\n  attestations:\n    - name: scan\n      type: generic\n      if: \${{ flow.tags.priority < 3 }}\n`;

describe.each(engines())('policies, compliance and gates on $name', (engine) => {
  let services: ServiceBundle;
  let org: OrgRecord;
  let cleanup: () => Promise<void>;
  const entries = async () => Number((await services.log.checkpoint(org)).split('\n')[1]);
  const rules = (r: { policies: { rule_evaluations: { rule: { path: string }; reason: string }[] }[] }) =>
    Object.fromEntries(r.policies.flatMap((p) => p.rule_evaluations.map((e) => [e.rule.path, e.reason])));

  beforeAll(async () => {
    ({ services, org, cleanup } = await openServices(engine));
    await services.flows.create(org, { name: 'web' });
    await services.trails.begin(org, { flow: 'web', name: 'r1' });
    await services.artifacts.report(org, { flow: 'web', trail: 'r1', name: 'web', fingerprint: fp('1') });
    await services.artifacts.report(org, { flow: 'web', trail: 'r1', name: 'api', fingerprint: fp('2') });
    await services.environments.create(org, { name: 'prod', type: 'k8s' });
    await services.environments.report(org, 'prod', [
      { name: 'web', fingerprint: fp('1'), instances: 1 }, { name: 'api', fingerprint: fp('2'), instances: 1 }, { name: 'stray', fingerprint: fp('9'), instances: 1 },
    ]);
  });
  afterAll(async () => cleanup());

  it('keeps immutable versions: new content is version N+1, the same content changes nothing', async () => {
    const a = await services.policies.create(org, { name: 'strict', source: STRICT });
    expect([a.created, a.policy.version]).toEqual([true, 1]);
    const before = await entries();
    expect((await services.policies.create(org, { name: 'strict', source: STRICT })).created).toBe(false);
    expect(await entries()).toBe(before);
    const b = await services.policies.create(org, { name: 'strict', source: STRICT + '    - name: scan\n      type: snyk\n' });
    expect(b.policy.version).toBe(2);
    expect((await services.policies.get(org, 'strict@1')).digest).toBe(a.policy.digest);
    expect((await services.policies.get(org, 'strict')).version).toBe(2);
    await expect(services.policies.get(org, 'strict@7')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses a malformed policy with line and column, storing nothing', async () => {
    const before = await entries();
    const bad = `${SCHEMA}artifacts:\n  attestations:\n    - name: x\n      type: junit\n      if: \${{ flow.name = "a" }}\n`;
    const err = await services.policies.create(org, { name: 'bad', source: bad }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', details: [expect.objectContaining({ line: 6, path: 'artifacts.attestations[0].if' })] });
    expect(await entries()).toBe(before);
    await expect(services.policies.get(org, 'bad')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('attach and detach each make one entry and a new snapshot with the same artifacts; each snapshot keeps its policy set', async () => {
    const before = await entries();
    const r = await services.policies.attach(org, 'prod', 'strict@1');
    expect(r).toMatchObject({ changed: true, policies: [{ name: 'strict', version: 1 }] });
    expect(r.snapshot?.index).toBe(2);
    expect(await entries()).toBe(before + 1);
    expect((await services.policies.attach(org, 'prod', 'strict@1')).changed).toBe(false);
    expect(await entries()).toBe(before + 1);
    const s2 = await services.environments.snapshot(org, 'prod#2');
    expect(s2.artifacts.map((a) => a.fingerprint)).toEqual((await services.environments.snapshot(org, 'prod#1')).artifacts.map((a) => a.fingerprint));
    expect(s2.artifacts.every((a) => a.sinceIndex === 1)).toBe(true);
    expect((await services.compliance.snapshot(org, await services.environments.snapshot(org, 'prod#1'))).policies).toEqual([]);
    expect((await services.compliance.snapshot(org, s2)).policies.map((p) => `${p.name}@${p.version}`)).toEqual(['strict@1']);
    // Events of `log environment` are about running artifacts: a policy snapshot adds none.
    expect((await services.environments.events(org, 'prod')).items.filter((e) => e.snapshot === 2)).toEqual([]);
  });

  it('gives each reason: no_provenance, missing_attestation, non_compliant_attestation, non_compliant_in_trail, rule_not_applicable', async () => {
    let c = await services.compliance.snapshot(org, await services.environments.snapshot(org, 'prod'));
    expect(c.compliant).toBe(false);
    expect(rules(c.artifacts.get(fp('9'))!)).toMatchObject({ 'artifacts.provenance': 'no_provenance', 'artifacts.attestations[0]': 'no_provenance' });
    expect(rules(c.artifacts.get(fp('1'))!)).toMatchObject({ 'artifacts.provenance': 'rule_satisfied', 'artifacts.trail-compliance': 'rule_satisfied', 'artifacts.attestations[0]': 'missing_attestation' });
    await services.attestations.record(org, 'junit', { flow: 'web', trail: 'r1', name: 'web.unit-tests', fingerprint: fp('1') }, false, null);
    c = await services.compliance.snapshot(org, await services.environments.snapshot(org, 'prod'));
    // A failing report fails the artifact's rule and its whole trail (so api fails trail-compliance too).
    expect(rules(c.artifacts.get(fp('1'))!)).toMatchObject({ 'artifacts.attestations[0]': 'non_compliant_attestation', 'artifacts.trail-compliance': 'non_compliant_in_trail' });
    expect(rules(c.artifacts.get(fp('2'))!)).toMatchObject({ 'artifacts.trail-compliance': 'non_compliant_in_trail' });
    await services.policies.create(org, { name: 'lenient', source: `${SCHEMA}artifacts:\n  provenance:\n    required: false\n` });
    await services.policies.attach(org, 'prod', 'lenient');
    c = await services.compliance.snapshot(org, await services.environments.snapshot(org, 'prod'));
    const lenient = c.artifacts.get(fp('9'))!.policies.find((p) => p.policy === 'lenient')!;
    expect(lenient.rule_evaluations[0]).toMatchObject({ status: 'not_applicable', reason: 'rule_not_applicable' });
    await services.policies.detach(org, 'prod', 'lenient');
    await expect(services.policies.detach(org, 'prod', 'lenient')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('counts an allowed artifact as compliant in that environment, with the reason, in one entry', async () => {
    const before = await entries();
    await services.allowances.allow(org, 'prod', fp('9'), 'vendor agent', 'tester');
    expect(await entries()).toBe(before + 1);
    const c = await services.compliance.snapshot(org, await services.environments.snapshot(org, 'prod'));
    expect(c.artifacts.get(fp('9'))).toMatchObject({ compliant: true, allowed: { reason: 'vendor agent', allowed_by: 'tester' } });
    expect((await services.allowances.list(org, 'prod')).map((a) => a.fingerprint)).toEqual([fp('9')]);
    await expect(services.allowances.allow(org, 'prod', fp('9'), ' ', 'tester')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('re-evaluates only what changed: a new fact invalidates exactly its trail, the same facts reuse cached decisions', async () => {
    const view = await services.environments.snapshot(org, 'prod');
    await services.compliance.snapshot(org, view);
    const n = services.compliance.evaluations;
    await services.compliance.snapshot(org, view);
    expect(services.compliance.evaluations).toBe(n);
    await services.attestations.record(org, 'junit', { flow: 'web', trail: 'r1', name: 'web.unit-tests', fingerprint: fp('1') }, true, null);
    const c = await services.compliance.snapshot(org, view);
    expect(services.compliance.evaluations).toBe(n + 2); // web and api share trail r1; stray is untouched
    expect(rules(c.artifacts.get(fp('1'))!)['artifacts.attestations[0]']).toBe('rule_satisfied');
  });

  it('lets one approval on a release trail cover every artifact of that release (seed 001)', async () => {
    await services.policies.create(org, { name: 'approved', source: APPROVAL });
    await services.trails.begin(org, { flow: 'web', name: 'release-7' });
    for (const [c, name] of [['a', 'web'], ['b', 'api'], ['c', 'worker']] as const) await services.artifacts.report(org, { flow: 'web', trail: 'release-7', name, fingerprint: fp(c) });
    const gate = (c: string) => services.asserts.artifact(org, { fingerprint: fp(c), policies: ['approved'] });
    expect((await gate('a')).failures[0]).toMatchObject({ reason: 'missing_attestation' });
    await services.attestations.approval(org, { flow: 'web', trail: 'release-7', name: 'release-approval', decision: 'approved' }, 'alice');
    for (const c of ['a', 'b', 'c']) expect((await gate(c)).compliant).toBe(true);
  });

  it('fails only the rule whose `if` cannot be evaluated, naming the rule and the artifact', async () => {
    await services.policies.create(org, { name: 'tagged', source: TAGGED });
    await services.flows.tag(org, 'web', { set: { priority: 'high' } });
    const r = await services.asserts.artifact(org, { fingerprint: fp('1'), policies: ['tagged'] });
    expect(r.compliant).toBe(false);
    expect(r.failures).toEqual([expect.objectContaining({ reason: 'evaluation_error', rule: 'artifacts.attestations[0] (scan: generic)' })]);
    expect(r.failures[0]!.message).toMatch(/tagged@1 artifacts\.attestations\[0\]\.if for artifact .*1111/);
    await services.flows.tag(org, 'web', { set: { priority: '5' } }); // a tag change invalidates the cached decision
    expect((await services.asserts.artifact(org, { fingerprint: fp('1'), policies: ['tagged'] })).compliant).toBe(true);
  });

  it('asserts with the environment, the flow, or a snapshot, and signs a VSA with the log key', async () => {
    expect((await services.asserts.artifact(org, { fingerprint: fp('1'), flow: 'web' })).compliant).toBe(true);
    const other = await services.asserts.artifact(org, { fingerprint: fp('9'), flow: 'web' });
    expect(other.failures.map((f) => f.reason)).toContain('no_provenance');
    const snap = await services.asserts.snapshot(org, 'prod', { vsa: true });
    expect(snap.scope).toMatch(/^snapshot prod#\d+$/);
    const statement = JSON.parse(Buffer.from(snap.vsa!.payload, 'base64').toString('utf8'));
    expect(statement).toMatchObject({
      predicateType: 'https://slsa.dev/verification_summary/v1',
      predicate: { verificationResult: snap.compliant ? 'PASSED' : 'FAILED', verifiedLevels: snap.compliant ? ['EVIDENT_POLICY_COMPLIANT'] : ['FAILED'] },
    });
    // Absolute URIs (SLSA VSA v1): the policy version's log entry, by index and leaf hash.
    expect(statement.predicate.policy.uri).toMatch(/^urn:evident:log:[^:]+:entry:\d+:[0-9a-f]{64}$/);
    expect(statement.subject).toHaveLength(3);
    expect(statement.predicate.inputAttestations.length).toBeGreaterThan(0);
    const raw = Buffer.from(snap.signed_by!.slice('ed25519:'.length), 'hex');
    const key = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]), format: 'der', type: 'spki' });
    const sig = Buffer.from(snap.vsa!.signatures[0]!.sig, 'base64');
    expect(verify(null, pae(snap.vsa!.payloadType, Buffer.from(snap.vsa!.payload, 'base64')), key, sig)).toBe(true);
    expect(verify(null, pae(snap.vsa!.payloadType, Buffer.from(snap.vsa!.payload.replace(/^./, 'x'), 'base64')), key, sig)).toBe(false);
    await expect(services.asserts.artifact(org, { fingerprint: fp('1'), flow: 'web', environment: 'prod' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
