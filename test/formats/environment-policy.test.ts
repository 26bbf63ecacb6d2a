import { readFileSync, readdirSync } from 'node:fs';
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { EvidentError } from '../../src/core/index.js';
import {
  ATTESTATION_TYPES, ENVIRONMENT_POLICY_SCHEMA, ENVIRONMENT_POLICY_SCHEMA_ID, KOSLI_POLICY_SCHEMA_URL, parseEnvironmentPolicy, type PolicyDefinition,
} from '../../src/formats/index.js';

const DIR = 'test/fixtures/policies';
const read = (name: string): string => readFileSync(`${DIR}/${name}`, 'utf8');

function refusal(text: string): EvidentError {
  try {
    parseEnvironmentPolicy(text, 'policy.yml');
  } catch (err) {
    expect(err).toBeInstanceOf(EvidentError);
    expect((err as EvidentError).code).toBe('INVALID_ARGUMENT');
    return err as EvidentError;
  }
  throw new Error('expected the policy to be refused');
}

const off = { required: false, exceptions: [] };

describe("Kosli's example policies", () => {
  it('reads the reference example, filling in the defaults', () => {
    const policy = parseEnvironmentPolicy(read('kosli-reference-example.yml'));
    expect(policy.definition).toEqual<PolicyDefinition>({
      _schema: 'https://docs.kosli.com/schemas/policy/v1',
      artifacts: {
        provenance: { required: true, exceptions: [{ if: '${{ matches(artifact.name, "^datadog:.*") }}' }] },
        'trail-compliance': { required: true, exceptions: [] },
        attestations: [
          { name: 'security-scan', type: 'snyk', must_be_compliant: true },
          { name: 'pull-request', type: 'pull_request', must_be_compliant: true, if: '${{ flow.tags.risk-level == "high" }}' },
          { name: 'coverage', type: 'custom:coverage-metrics', must_be_compliant: true },
        ],
      },
    });
    expect(policy.provenance.exceptions.map((e) => [e.path, e.expression.canonical])).toEqual([['artifacts.provenance.exceptions[0].if', 'matches(artifact.name, "^datadog:.*")']]);
    expect(policy.attestations.map((a) => a.condition?.canonical ?? null)).toEqual([null, 'flow.tags.risk-level == "high"', null]);
  });

  it('reads the getting-started policy (type "*")', () => {
    expect(parseEnvironmentPolicy(read('kosli-prod-policy.yaml')).definition.artifacts).toEqual({
      provenance: { required: true, exceptions: [] },
      'trail-compliance': off,
      attestations: [{ name: 'dependency-scan', type: '*', must_be_compliant: true }, { name: 'unit-test', type: 'junit', must_be_compliant: true }],
    });
  });

  it("reads the exceptions example and cyber-dojo's rules (name '*', must_be_compliant, exists())", () => {
    expect(parseEnvironmentPolicy(read('kosli-exceptions.yml')).trailCompliance.exceptions).toHaveLength(1);
    const cyberDojo = parseEnvironmentPolicy(read('cyber-dojo-aws-prod.yml'));
    expect(cyberDojo.definition.artifacts.attestations.map((a) => [a.name, a.type])).toEqual([['*', 'pull_request'], ['snyk-container-scan', 'generic'], ['snyk-scan', 'decision']]);
    expect(cyberDojo.trailCompliance.exceptions[0]!.expression.canonical).toBe('exists(flow.tags.env) and flow.tags.env != "aws-prod"');
  });

  it.each(readdirSync(DIR))('reads %s as the schema says it is valid', (name) => {
    const validate = new Ajv({ strict: true }).compile(ENVIRONMENT_POLICY_SCHEMA);
    expect(validate(parse(read(name)))).toBe(true);
    expect(() => parseEnvironmentPolicy(read(name), name)).not.toThrow();
  });
});

describe('_schema', () => {
  const withSchema = (url: string): string => `_schema: ${url}\n`;
  it.each([
    KOSLI_POLICY_SCHEMA_URL,
    'https://kosli.mintlify.app/schemas/policy/v1',
    'https://kosli.com/schemas/policy/environment/v1',
    ENVIRONMENT_POLICY_SCHEMA_ID,
    'https://evident.example.com/api/v1/schemas/environment-policy/v1',
    'http://localhost:8080/api/v1/schemas/environment-policy/v1',
  ])('accepts %s', (url) => {
    expect(parseEnvironmentPolicy(withSchema(url)).definition).toEqual({ _schema: url, artifacts: { provenance: off, 'trail-compliance': off, attestations: [] } });
  });

  it.each([
    ['https://docs.kosli.com/schemas/policy/v2', 'policy.yml:1:10: _schema: unsupported policy format version v2 (only v1)'],
    ['https://evident.example.com/api/v1/schemas/environment-policy/v2', 'unsupported policy format version v2 (only v1)'],
    ['https://docs.kosli.com/schemas/policy/v1.json', "unknown policy schema 'https://docs.kosli.com/schemas/policy/v1.json'"],
    ['https://example.com/schemas/policy/v1', "unknown policy schema 'https://example.com/schemas/policy/v1': use https://docs.kosli.com/schemas/policy/v1 or /api/v1/schemas/environment-policy/v1"],
    ['ftp://evident.example.com/api/v1/schemas/environment-policy/v1', 'unknown policy schema'],
  ])('refuses %s', (url, want) => expect(refusal(withSchema(url)).message).toContain(want));

  it('is required', () => {
    expect(refusal('artifacts: {}\n').message).toContain("policy.yml:1:1: _schema: missing '_schema': use https://docs.kosli.com/schemas/policy/v1 or /api/v1/schemas/environment-policy/v1");
  });
});

describe('refuses bad policies, saying where', () => {
  const head = `_schema: ${KOSLI_POLICY_SCHEMA_URL}\n`;
  const cases: [string, string, string][] = [
    ['a malformed if', `${head}artifacts:\n  attestations:\n    - name: pull-request\n      type: pull_request\n      if: \${{ flow.tags.risk-level == }}\n`,
      'policy.yml:6:39: artifacts.attestations[0].if: invalid expression: expected a value, found the end of the expression'],
    ['a malformed exception', `${head}artifacts:\n  provenance:\n    required: true\n    exceptions:\n      - if: \${{ matches(artifact.name, "^datadog:.*" }}\n`,
      "policy.yml:6:54: artifacts.provenance.exceptions[0].if: invalid expression: expected ',' or ')', found the end of the expression"],
    ['an if in quotes, still located', `${head}artifacts:\n  attestations:\n    - type: junit\n      if: "\${{ flow.nme == 'x' }}"\n`,
      "policy.yml:5:16: artifacts.attestations[0].if: invalid expression: unknown context 'flow.nme'"],
    ['an if with YAML escapes, located at its start', `${head}artifacts:\n  attestations:\n    - type: junit\n      if: "\${{ flow.nme == \\"x\\" }}"\n`,
      "policy.yml:5:11: artifacts.attestations[0].if: invalid expression: unknown context 'flow.nme'"],
    ["Kosli's doc typo type: pull-request", `${head}artifacts:\n  attestations:\n    - name: "*"\n      type: pull-request\n`,
      "policy.yml:5:13: artifacts.attestations[0].type: unknown attestation type 'pull-request' (did you mean 'pull_request'?)"],
    ['name and type both *', `${head}artifacts:\n  attestations:\n    - name: "*"\n      type: "*"\n`,
      "policy.yml:4:7: artifacts.attestations[0]: 'name' and 'type' cannot both be * (name defaults to *)"],
    ['type * with the default name', `${head}artifacts:\n  attestations:\n    - type: "*"\n`, "policy.yml:4:7: artifacts.attestations[0]: 'name' and 'type' cannot both be *"],
    ['a missing type', `${head}artifacts:\n  attestations:\n    - name: unit-tests\n`, "policy.yml:4:7: artifacts.attestations[0].type: missing 'type'"],
    ['an unknown rule key', `${head}artifacts:\n  attestations:\n    - type: junit\n      must_be_complaint: false\n`,
      "policy.yml:5:7: artifacts.attestations[0].must_be_complaint: unknown key 'must_be_complaint' (did you mean 'must_be_compliant'?)"],
    ['an unknown artifacts key', `${head}artifacts:\n  trail_compliance:\n    required: true\n`,
      "policy.yml:3:3: artifacts.trail_compliance: unknown key 'trail_compliance' (did you mean 'trail-compliance'?); allowed here: provenance, trail-compliance, attestations"],
    ['an unknown top-level key', `${head}environments: []\n`, "policy.yml:2:1: environments: unknown key 'environments'; allowed here: _schema, artifacts"],
    ['required that is not a boolean', `${head}artifacts:\n  provenance:\n    required: yes\n`, 'policy.yml:4:15: artifacts.provenance.required: must be true or false (found "yes")'],
    ['an exception without if', `${head}artifacts:\n  provenance:\n    exceptions:\n      - {}\n`, "policy.yml:5:9: artifacts.provenance.exceptions[0].if: missing 'if'"],
    ['an if that is not a string', `${head}artifacts:\n  attestations:\n    - type: junit\n      if: true\n`, 'policy.yml:5:11: artifacts.attestations[0].if: must be a string (found true)'],
    ['a name Evident cannot record', `${head}artifacts:\n  attestations:\n    - {name: unit.tests, type: junit}\n`, "policy.yml:4:14: artifacts.attestations[0].name: invalid name 'unit.tests'"],
    ['exceptions that are not a list', `${head}artifacts:\n  trail-compliance:\n    exceptions: {if: x}\n`, 'policy.yml:4:17: artifacts.trail-compliance.exceptions: must be a list'],
    ['a YAML syntax error', `${head}artifacts:\n  provenance: {required: true\n`, 'policy.yml:4:1: (yaml): invalid YAML'],
  ];
  for (const [what, text, want] of cases) {
    it(what, () => {
      const err = refusal(text);
      expect(err.message).toContain(want);
      expect(err.message.startsWith('invalid environment policy: policy.yml:')).toBe(true);
    });
  }

  it('reports every problem at once, in file order, with line and column in the details', () => {
    const text = `${head}artifacts:\n  provenance:\n    required: maybe\n  attestations:\n    - type: jnuit\n      if: \${{ flow.name = "x" }}\n`;
    expect(refusal(text).details).toEqual([
      { path: 'artifacts.provenance.required', message: 'must be true or false (found "maybe")', line: 4, column: 15 },
      { path: 'artifacts.attestations[0].type', message: expect.stringContaining("unknown attestation type 'jnuit' (did you mean 'junit'?)"), line: 6, column: 13 },
      { path: 'artifacts.attestations[0].if', message: 'invalid expression: unexpected "=": use \'==\' to compare', line: 7, column: 25 },
    ]);
  });
});

describe('the JSON Schema agrees with the parser', () => {
  const validate = new Ajv({ allErrors: true, strict: true }).compile(ENVIRONMENT_POLICY_SCHEMA);
  const parses = (value: unknown): boolean => {
    try {
      parseEnvironmentPolicy(stringify(value));
      return true;
    } catch (err) {
      expect(err).toBeInstanceOf(EvidentError);
      return false;
    }
  };

  it(`has the $id ${ENVIRONMENT_POLICY_SCHEMA_ID}`, () => expect(ENVIRONMENT_POLICY_SCHEMA.$id).toBe('/api/v1/schemas/environment-policy/v1'));

  const name = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,15}$/);
  const type = fc.oneof(fc.constantFrom(...ATTESTATION_TYPES), fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/).map((n) => `custom:${n}`));
  const condition = fc.constantFrom('${{ flow.tags.risk-level == "high" }}', '${{ matches(artifact.name, "^datadog:.*") }}', 'exists(flow)', '${{ flow.name in [a, b] }}');
  const booleanRule = fc.record({ required: fc.boolean(), exceptions: fc.array(fc.record({ if: condition }), { maxLength: 3 }) }, { requiredKeys: [] });
  const rule = fc.oneof(
    fc.record({ name: fc.oneof(name, fc.constant('*')), type, must_be_compliant: fc.boolean(), if: condition }, { requiredKeys: ['type'] }),
    fc.record({ name, type: fc.constant('*'), must_be_compliant: fc.boolean() }, { requiredKeys: ['name', 'type'] }),
  );
  const policy = fc.record({
    _schema: fc.constantFrom(KOSLI_POLICY_SCHEMA_URL, ENVIRONMENT_POLICY_SCHEMA_ID, 'https://evident.example.com:8443/api/v1/schemas/environment-policy/v1'),
    artifacts: fc.record({ provenance: booleanRule, 'trail-compliance': booleanRule, attestations: fc.array(rule, { maxLength: 5 }) }, { requiredKeys: [] }),
  }, { requiredKeys: ['_schema'] });

  it('accepts the same generated valid policies', () => {
    fc.assert(fc.property(policy, (p) => {
      expect(validate(p)).toBe(true);
      expect(parses(p)).toBe(true);
    }), { numRuns: 500 });
  });

  const s = KOSLI_POLICY_SCHEMA_URL;
  const invalid: unknown[] = [
    {}, { artifacts: {} }, { _schema: 'https://docs.kosli.com/schemas/policy/v2' }, { _schema: 'https://example.com/x/v1' }, { _schema: 1 }, { _schema: s, extra: 1 },
    { _schema: s, artifacts: [] }, { _schema: s, artifacts: { foo: {} } }, { _schema: s, artifacts: { provenance: { required: 'yes' } } },
    { _schema: s, artifacts: { provenance: { required: true, extra: 1 } } }, { _schema: s, artifacts: { provenance: { exceptions: [{}] } } },
    { _schema: s, artifacts: { provenance: { exceptions: [{ if: 'exists(flow)', else: 1 }] } } }, { _schema: s, artifacts: { 'trail-compliance': { exceptions: {} } } },
    { _schema: s, artifacts: { attestations: [{ name: 'x' }] } }, { _schema: s, artifacts: { attestations: [{ type: '*' }] } },
    { _schema: s, artifacts: { attestations: [{ name: '*', type: '*' }] } }, { _schema: s, artifacts: { attestations: [{ type: 'pull-request' }] } },
    { _schema: s, artifacts: { attestations: [{ type: 'junit', must_be_compliant: 'no' }] } }, { _schema: s, artifacts: { attestations: [{ type: 'junit', if: true }] } },
    { _schema: s, artifacts: { attestations: [{ type: 'junit', if: '' }] } }, { _schema: s, artifacts: { attestations: [{ type: 'junit', name: 'a b' }] } },
    { _schema: s, artifacts: { attestations: [{ type: 'junit', colour: 'red' }] } }, { _schema: s, artifacts: { attestations: {} } }, [], 'policy',
  ];
  it.each(invalid.map((v) => [JSON.stringify(v), v]))('refuses %s in both', (_, value) => {
    expect(validate(value)).toBe(false);
    expect(parses(value)).toBe(false);
  });
});
