import path from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePolicyDefinition, parseEnvironmentPolicy } from '../../src/formats/index.js';
import { runParse } from '../../src/services/parse-jobs.js';
import { ParsePool } from '../../src/services/parse-pool.js';
import { forgetParsedTemplates } from '../../src/services/records/templates.js';
import { createServices, type ServiceBundle } from '../../src/services/index.js';
import type { OrgRecord, Store } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';
import { testSigner } from '../helpers/keys.js';
import { openServices } from '../helpers/services.js';

// Reliability report F4, templates and policies: up to 256 KiB of YAML (487 ms for a 79 KiB template) was read
// on the event loop, when written and when first read. Both are now read by the parser workers. The proof that
// a read happened in a worker: a pool with a 1 ms limit stops it, which a parse in this thread never does.
const script = pathToFileURL(path.resolve('dist/src/services/parse-worker.js'));
const bytes = (s: string) => new TextEncoder().encode(s);

function bigTemplate(artifacts: number, salt: string): string {
  const lines = ['version: 1', 'trail:', '  artifacts:'];
  for (let k = 0; k < artifacts; k++) lines.push(`  - name: art-${salt}-${k}`, '    attestations:', `    - name: unit-${k}`, '      type: junit');
  return `${lines.join('\n')}\n`;
}

const POLICY = `_schema: https://docs.kosli.com/schemas/policy/v1
artifacts:
  provenance:
    required: true
    exceptions:
    - if: \${{ matches(artifact.name, "^datadog:.*") }}
  attestations:
  - name: unit-tests
    type: junit
    if: \${{ flow.name == "web" }}
  - type: snyk
    must_be_compliant: false
`;

describe('templates and policies parsed by the workers', () => {
  it('give the same answers, and the same located errors, as in this thread', async () => {
    const pool = new ParsePool({ script, workers: 1 });
    try {
      const template = bigTemplate(20, 'a');
      expect(await pool.parse('template', bytes(template), 't.yml')).toEqual(runParse('template', bytes(template), 't.yml'));
      expect(await pool.parse('policy', bytes(POLICY), 'p.yml')).toEqual(parseEnvironmentPolicy(POLICY, 'p.yml').definition);
      const bad = 'version: 1\ntrail:\n  attestations:\n  - name: pr\n    type: pull-request\n';
      const inThread = (() => { try { runParse('template', bytes(bad), 'bad.yml'); } catch (err) { return err; } })() as { code: string; message: string; details: unknown };
      await expect(pool.parse('template', bytes(bad), 'bad.yml')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: inThread.message, details: inThread.details });
      await expect(pool.parse('policy', bytes('_schema: nope\n'), 'p.yml')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/p\.yml:1:\d+: _schema/) });
    } finally {
      await pool.close();
    }
  });

  it('compiles a policy from its definition as from its source (property)', () => {
    const expr = fc.constantFrom('${{ flow.name == "web" }}', '${{ matches(artifact.name, "^a.*") }}', '${{ not (flow.tags.risk == "high") }}');
    const rule = fc.record({ name: fc.constantFrom('*', 'unit', 'scan-1'), type: fc.constantFrom('junit', 'snyk', 'generic', 'custom:coverage'), mbc: fc.boolean(), cond: fc.option(expr) });
    fc.assert(fc.property(fc.array(rule, { maxLength: 6 }), fc.array(expr, { maxLength: 3 }), fc.boolean(), (rules, exceptions, required) => {
      const yaml = ['_schema: https://docs.kosli.com/schemas/policy/v1', 'artifacts:', '  provenance:', `    required: ${required}`, '    exceptions:',
        ...exceptions.map((e) => `    - if: '${e}'`), ...(exceptions.length === 0 ? ['    []'] : []), '  attestations:',
        ...rules.map((r) => `  - {name: '${r.name}', type: ${r.type}, must_be_compliant: ${r.mbc}${r.cond ? `, if: '${r.cond}'` : ''}}`), ...(rules.length === 0 ? ['  []'] : [])];
      const direct = parseEnvironmentPolicy(yaml.join('\n').replace('    exceptions:\n    []', '    exceptions: []').replace('  attestations:\n  []', '  attestations: []'));
      const viaDefinition = compilePolicyDefinition(structuredClone(direct.definition));
      const shape = (p: typeof direct) => ({
        definition: p.definition,
        provenance: { required: p.provenance.required, exceptions: p.provenance.exceptions.map((e) => [e.path, e.expression.canonical]) },
        trail: p.trailCompliance,
        attestations: p.attestations.map((a) => [a.path, a.rule, a.condition?.canonical ?? null]),
      });
      expect(shape(viaDefinition)).toEqual(shape(direct));
      const context = { flow: { name: 'web', tags: { risk: 'high' } }, artifact: { name: 'api', fingerprint: 'a'.repeat(64) } } as never;
      viaDefinition.attestations.forEach((a, i) => expect(a.condition?.evaluate(context)).toBe(direct.attestations[i]!.condition?.evaluate(context)));
    }), { numRuns: 100 });
  });
});

describe.each(engines())('services read templates and policies in the workers on $name', (engine) => {
  let services: ServiceBundle;
  let store: Store;
  let org: OrgRecord;
  let cleanup: () => Promise<void>;
  const bundles: ServiceBundle[] = [];
  const withWorkers = (timeoutMs: number) => {
    const b = createServices(store, testSigner(), { parsing: { script, workers: 1, timeoutMs } });
    bundles.push(b);
    return b;
  };

  beforeAll(async () => {
    ({ services, org, cleanup } = await openServices(engine));
    store = services.store;
  });
  afterAll(async () => {
    await Promise.all(bundles.map((b) => b.parser.close()));
    await cleanup();
  });

  it('refuses a write whose template or policy the worker could not read in time, and stores nothing', async () => {
    const hurried = withWorkers(1);
    const size = async () => services.log.size(org);
    const before = await size();
    await expect(hurried.flows.create(org, { name: 'big', template: bigTemplate(900, 'w') })).rejects.toMatchObject({ code: 'VERIFICATION_FAILED', message: expect.stringMatching(/took longer than 1 ms/) });
    const policy = POLICY + Array.from({ length: 900 }, (_, k) => `  - {name: r${k}, type: junit}`).join('\n');
    await expect(hurried.policies.create(org, { name: 'big', source: policy })).rejects.toMatchObject({ code: 'VERIFICATION_FAILED' });
    expect(await size()).toBe(before);
    await expect(services.flows.get(org, 'big')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('reads a stored template and policy in a worker, and fails the read rather than judge by nothing when it cannot', async () => {
    const template = bigTemplate(900, 'r');
    await services.flows.create(org, { name: 'shop', template });
    const trail = await services.trails.begin(org, { flow: 'shop', name: 't1' });
    const expected = await services.trails.compliance(org, 'shop', trail);
    await services.policies.create(org, { name: 'strict', source: POLICY });

    forgetParsedTemplates();
    const hurried = withWorkers(1);
    await expect(hurried.trails.compliance(org, 'shop', trail)).rejects.toMatchObject({ code: 'VERIFICATION_FAILED' });
    await expect(hurried.policies.get(org, 'strict')).rejects.toMatchObject({ code: 'VERIFICATION_FAILED' });

    const patient = withWorkers(60_000);
    expect(await patient.trails.compliance(org, 'shop', trail)).toEqual(expected);
    const stored = await patient.policies.get(org, 'strict');
    expect(patient.policies.compile(stored).definition).toEqual(parseEnvironmentPolicy(POLICY).definition);
  });
});
