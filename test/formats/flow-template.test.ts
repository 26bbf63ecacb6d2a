import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { EvidentError } from '../../src/core/index.js';
import { ATTESTATION_TYPES, FLOW_TEMPLATE_SCHEMA, FLOW_TEMPLATE_SCHEMA_ID, parseFlowTemplate, type FlowTemplate } from '../../src/formats/index.js';

const read = (name: string): string => readFileSync(`test/fixtures/templates/${name}`, 'utf8');

function refusal(text: string): EvidentError {
  try {
    parseFlowTemplate(text, 'template.yml');
  } catch (err) {
    expect(err).toBeInstanceOf(EvidentError);
    expect((err as EvidentError).code).toBe('INVALID_ARGUMENT');
    return err as EvidentError;
  }
  throw new Error('expected the template to be refused');
}

describe("Kosli's example templates", () => {
  it('reads the reference example (trail and artifact attestations, jira and custom types)', () => {
    expect(parseFlowTemplate(read('kosli-reference-example.yml'))).toEqual({
      version: 1,
      trail: {
        attestations: [{ name: 'jira-ticket', type: 'jira' }, { name: 'risk-level-assessment', type: 'generic' }],
        artifacts: [
          { name: 'backend', attestations: [{ name: 'unit-tests', type: 'junit' }, { name: 'security-scan', type: 'snyk' }] },
          { name: 'frontend', attestations: [{ name: 'manual-ui-test', type: 'generic' }, { name: 'coverage-metrics', type: 'custom:coverage-metrics' }] },
        ],
      },
    });
  });

  it('reads the getting-started template', () => {
    expect(parseFlowTemplate(read('kosli-sw-delivery-template.yml'))).toEqual({
      version: 1,
      trail: { attestations: [{ name: 'jira-ticket', type: 'jira' }], artifacts: [{ name: 'backend', attestations: [{ name: 'unit-tests', type: 'junit' }] }] },
    });
  });

  it("reads Lab 4's template (no trail attestations)", () => {
    expect(parseFlowTemplate(read('kosli-lab-04-flow-template.yaml'))).toEqual({
      version: 1,
      trail: {
        attestations: [],
        artifacts: [{ name: 'application', attestations: [{ name: 'unit-tests', type: 'junit' }] }, { name: 'docker-image', attestations: [{ name: 'sbom', type: 'generic' }] }],
      },
    });
  });
});

describe('defaults, as in Kosli\'s schema', () => {
  const empty: FlowTemplate = { version: 1, trail: { attestations: [], artifacts: [] } };
  it.each([['version: 1\n'], ['{}'], ['version: 1\ntrail:\n'], ['trail: null'], ['trail: {}'], ['trail:\n  artifacts:\n  - name: app\n']])('%j', (text) => {
    const want = text.includes('app') ? { version: 1, trail: { attestations: [], artifacts: [{ name: 'app', attestations: [] }] } } : empty;
    expect(parseFlowTemplate(text)).toEqual(want);
  });

  it('accepts every type: built-in, custom:<name> and *', () => {
    const types = [...ATTESTATION_TYPES, 'custom:coverage-metrics', '*'];
    const text = stringify({ version: 1, trail: { attestations: types.map((type, i) => ({ name: `a${i}`, type })) } });
    expect(parseFlowTemplate(text).trail.attestations.map((a) => a.type)).toEqual(types);
  });
});

describe('refuses bad templates, saying where', () => {
  const cases: [string, string, string][] = [
    ['an unknown top-level key', 'version: 1\ntrial:\n  attestations: []\n', "template.yml:2:1: trial: unknown key 'trial' (did you mean 'trail'?); allowed here: version, trail"],
    ['another version', 'version: 2\n', 'template.yml:1:10: version: must be 1 (found 2)'],
    ['a version in quotes', 'version: "1"\n', 'template.yml:1:10: version: must be 1 (found "1")'],
    ['an unknown type',
      'version: 1\ntrail:\n  attestations:\n  - name: pr\n    type: pull-request\n',
      "template.yml:5:11: trail.attestations[0].type: unknown attestation type 'pull-request' (did you mean 'pull_request'?): use one of generic, junit, snyk, sarif, pull_request, approval, provenance, jira, sonar, decision, sbom, custom:<name> or *"],
    ['a missing type', 'trail:\n  artifacts:\n  - name: backend\n    attestations:\n    - name: unit-tests\n', "template.yml:5:7: trail.artifacts[0].attestations[0].type: missing 'type'"],
    ['a missing name', 'trail:\n  attestations:\n  - type: junit\n', "template.yml:3:5: trail.attestations[0].name: missing 'name'"],
    ['an empty custom type', 'trail:\n  attestations:\n  - {name: cov, type: "custom:"}\n', "template.yml:3:23: trail.attestations[0].type: unknown attestation type 'custom:'"],
    ['a duplicate attestation name',
      'trail:\n  attestations:\n  - {name: tests, type: junit}\n  - {name: tests, type: generic}\n', "template.yml:4:12: trail.attestations[1].name: duplicate attestation name 'tests'"],
    ['a duplicate artifact name', 'trail:\n  artifacts:\n  - name: app\n  - name: app\n', "template.yml:4:11: trail.artifacts[1].name: duplicate artifact name 'app'"],
    ['a name Evident cannot record', 'trail:\n  attestations:\n  - {name: unit tests, type: junit}\n',
      "template.yml:3:12: trail.attestations[0].name: invalid name 'unit tests': use 1-64 letters, digits, '_' or '-', starting with a letter or digit"],
    ['an unknown artifact key', 'trail:\n  artifacts:\n  - name: app\n    attestation: []\n',
      "template.yml:4:5: trail.artifacts[0].attestation: unknown key 'attestation' (did you mean 'attestations'?); allowed here: name, attestations"],
    ['a trail that is a list', 'trail: []\n', 'template.yml:1:8: trail: must be a mapping (attestations, artifacts)'],
    ['attestations that are a mapping', 'trail:\n  attestations: {}\n', 'template.yml:2:17: trail.attestations: must be a list'],
    ['a type that is not a string', 'trail:\n  attestations:\n  - {name: a, type: 5}\n', 'template.yml:3:21: trail.attestations[0].type: must be a string (found 5)'],
    ['an empty file', '', 'template.yml:1:1: (document): must be a mapping (version, trail)'],
    ['a list', '- version: 1\n', 'template.yml:1:1: (document): must be a mapping (version, trail)'],
    ['a YAML syntax error', 'version: 1\ntrail:\n  attestations: [\n', 'template.yml:4:1: (yaml): invalid YAML:'],
    ['a duplicate key', 'version: 1\nversion: 1\n', 'template.yml:2:1: (yaml): invalid YAML: Map keys must be unique'],
    ['an unquoted *', 'trail:\n  attestations:\n  - {name: any, type: *}\n', 'template.yml:3:23: (yaml): invalid YAML:'],
  ];
  for (const [what, text, want] of cases) {
    it(what, () => {
      const err = refusal(text);
      expect(err.message).toContain(want);
      expect(err.message.startsWith('invalid flow template: template.yml:')).toBe(true);
    });
  }

  it('reports every problem at once, each with its line and column in the details', () => {
    const text = 'version: 1\ntrail:\n  attestations:\n  - {name: a, type: junk}\n  artifacts:\n  - name: app\n    colour: red\n';
    const err = refusal(text);
    expect(err.details).toEqual([
      { path: 'trail.attestations[0].type', message: expect.stringContaining("unknown attestation type 'junk'"), line: 4, column: 21 },
      { path: 'trail.artifacts[0].colour', message: "unknown key 'colour'; allowed here: name, attestations", line: 7, column: 5 },
    ]);
  });
});

describe('the JSON Schema agrees with the parser', () => {
  const ajv = new Ajv({ allErrors: true, strict: true });
  const validate = ajv.compile(FLOW_TEMPLATE_SCHEMA);
  const parses = (value: unknown): boolean => {
    try {
      parseFlowTemplate(stringify(value));
      return true;
    } catch (err) {
      expect(err).toBeInstanceOf(EvidentError);
      return false;
    }
  };

  it(`has the $id ${FLOW_TEMPLATE_SCHEMA_ID}`, () => expect(FLOW_TEMPLATE_SCHEMA.$id).toBe('/api/v1/schemas/flow-template/v1'));

  const name = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,20}$/);
  const type = fc.oneof(fc.constantFrom(...ATTESTATION_TYPES, '*'), fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/).map((n) => `custom:${n}`));
  const attestations = fc.uniqueArray(fc.record({ name, type }), { selector: (a) => a.name, maxLength: 5 });
  const artifact = fc.record({ name, attestations }, { requiredKeys: ['name'] });
  const trail = fc.record({ attestations, artifacts: fc.uniqueArray(artifact, { selector: (a) => a.name, maxLength: 4 }) }, { requiredKeys: [] });
  const template = fc.record({ version: fc.constant(1), trail: fc.option(trail, { nil: null }) }, { requiredKeys: [] });

  it('accepts the same generated valid templates', () => {
    fc.assert(fc.property(template, (t) => {
      expect(validate(t)).toBe(true);
      expect(parses(t)).toBe(true);
    }), { numRuns: 500 });
  });

  const invalid: unknown[] = [
    { version: 2 }, { version: '1' }, { version: null }, { extra: 1 }, { trail: [] }, { trail: 'x' }, { trail: { foo: [] } }, { trail: { attestations: {} } },
    { trail: { attestations: [{ name: 'a' }] } }, { trail: { attestations: [{ type: 'junit' }] } }, { trail: { attestations: [{ name: 'a', type: 'pull-request' }] } },
    { trail: { attestations: [{ name: 'a', type: 'custom:' }] } }, { trail: { attestations: [{ name: 'a', type: 5 }] } }, { trail: { attestations: [{ name: 'a b', type: 'junit' }] } },
    { trail: { attestations: [{ name: 'a', type: 'junit', x: 1 }] } }, { trail: { attestations: ['junit'] } }, { trail: { artifacts: [{ attestations: [] }] } },
    { trail: { artifacts: [{ name: 'x', extra: 1 }] } }, { trail: { artifacts: [{ name: 'x', attestations: [{ name: 'a', type: 'JUnit' }] }] } }, [], 'template', 1,
  ];
  it.each(invalid.map((v) => [JSON.stringify(v), v]))('refuses %s in both', (_, value) => {
    expect(validate(value)).toBe(false);
    expect(parses(value)).toBe(false);
  });

  it('refuses generated templates with an unknown key in both', () => {
    const extra = fc.stringMatching(/^[a-z_]{1,8}$/).filter((k) => !['version', 'trail', 'attestations', 'artifacts', 'name', 'type'].includes(k));
    fc.assert(fc.property(template, extra, fc.nat(2), (t, key, where) => {
      const bad = structuredClone(t) as Record<string, unknown>;
      const target = where === 0 || !bad.trail ? bad : (bad.trail as Record<string, unknown>);
      target[key] = 1;
      expect(validate(bad)).toBe(false);
      expect(parses(bad)).toBe(false);
    }), { numRuns: 300 });
  });
});
