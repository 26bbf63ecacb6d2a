import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EMPTY_FLOW_TEMPLATE, ExpressionEvaluationError, artifactCompliant, evaluateArtifactTemplate, evaluatePolicy, evaluateTrail, parseEnvironmentPolicy,
  parseFlowTemplate, snapshotCompliant, type PolicyArtifactInput, type RecordedAttestation, type RuleEvaluation,
} from '../../src/formats/index.js';

const template = parseFlowTemplate(readFileSync('test/fixtures/templates/kosli-reference-example.yml', 'utf8'));
const policyFile = (name: string) => parseEnvironmentPolicy(readFileSync(`test/fixtures/policies/${name}`, 'utf8'), name);

let ids = 0;
const att = (name: string, type: string, compliant = true): RecordedAttestation => ({ id: `att-${++ids}`, name, type, compliant });
const FP = (c: string): string => c.repeat(64);

function completeTrail() {
  return {
    attestations: [att('jira-ticket', 'jira'), att('risk-level-assessment', 'generic')],
    artifacts: [
      { name: 'backend', fingerprint: FP('b'), attestations: [att('unit-tests', 'junit'), att('security-scan', 'snyk')] },
      { name: 'frontend', fingerprint: FP('f'), attestations: [att('manual-ui-test', 'generic'), att('coverage-metrics', 'custom:coverage-metrics')] },
    ],
  };
}

describe('a trail against its template', () => {
  it('is COMPLIANT when every requirement is complete and compliant', () => {
    const result = evaluateTrail(template, completeTrail());
    expect(result.state).toBe('COMPLIANT');
    expect(result.attestations_statuses.map((s) => [s.attestation_name, s.status, s.is_compliant, s.unexpected])).toEqual([
      ['jira-ticket', 'COMPLETE', true, false], ['risk-level-assessment', 'COMPLETE', true, false],
    ]);
    expect(result.artifacts.map((a) => [a.name, a.fingerprint, a.status, a.state])).toEqual([['backend', FP('b'), 'COMPLETE', 'COMPLIANT'], ['frontend', FP('f'), 'COMPLETE', 'COMPLIANT']]);
  });

  it('is INCOMPLETE when a required attestation is missing, with its status MISSING', () => {
    const trail = completeTrail();
    trail.attestations = trail.attestations.slice(1);
    const result = evaluateTrail(template, trail);
    expect(result.state).toBe('INCOMPLETE');
    expect(result.attestations_statuses[0]).toEqual({
      attestation_name: 'jira-ticket', attestation_type: 'jira', status: 'MISSING', is_compliant: null, unexpected: false, attestation_id: null,
    });
  });

  it('is INCOMPLETE when an artifact the template names was not reported', () => {
    const trail = completeTrail();
    trail.artifacts = trail.artifacts.slice(0, 1);
    const result = evaluateTrail(template, trail);
    expect(result.state).toBe('INCOMPLETE');
    expect(result.artifacts[1]).toMatchObject({ name: 'frontend', fingerprint: null, status: 'MISSING', state: 'INCOMPLETE' });
    expect(result.artifacts[1]!.attestations_statuses.map((s) => s.status)).toEqual(['MISSING', 'MISSING']);
  });

  it('is NON-COMPLIANT when a required attestation is non-compliant, even with others missing', () => {
    const trail = completeTrail();
    trail.artifacts[0]!.attestations = [att('unit-tests', 'junit', false)];
    const result = evaluateTrail(template, trail);
    expect(result.state).toBe('NON-COMPLIANT');
    expect(result.artifacts[0]!.attestations_statuses.map((s) => [s.attestation_name, s.status, s.is_compliant])).toEqual([
      ['unit-tests', 'COMPLETE', false], ['security-scan', 'MISSING', null],
    ]);
  });

  it('lists reported-but-unexpected attestations, and a non-compliant one fails the trail', () => {
    const trail = completeTrail();
    trail.attestations.push(att('lint', 'generic', true));
    const extra = evaluateTrail(template, trail);
    expect(extra.state).toBe('COMPLIANT');
    expect(extra.attestations_statuses.at(-1)).toMatchObject({ attestation_name: 'lint', attestation_type: 'generic', status: 'COMPLETE', is_compliant: true, unexpected: true });
    trail.attestations.push(att('lint', 'generic', false));
    expect(evaluateTrail(template, trail).state).toBe('NON-COMPLIANT');
  });

  it('counts the last attestation of each name', () => {
    const trail = completeTrail();
    trail.attestations.push(att('jira-ticket', 'jira', false));
    expect(evaluateTrail(template, trail).state).toBe('NON-COMPLIANT');
    trail.attestations.push(att('jira-ticket', 'jira', true));
    const result = evaluateTrail(template, trail);
    expect(result.state).toBe('COMPLIANT');
    expect(result.attestations_statuses[0]!.attestation_id).toBe(trail.attestations.at(-1)!.id);
  });

  it('does not let an attestation of another type satisfy a requirement', () => {
    const trail = completeTrail();
    trail.artifacts[0]!.attestations[1] = att('security-scan', 'sarif');
    const backend = evaluateTrail(template, trail).artifacts[0]!;
    expect(backend.state).toBe('INCOMPLETE');
    expect(backend.attestations_statuses.slice(1).map((s) => [s.attestation_name, s.attestation_type, s.status, s.unexpected])).toEqual([
      ['security-scan', 'snyk', 'MISSING', false], ['security-scan', 'sarif', 'COMPLETE', true],
    ]);
  });

  it('lets type * match any type', () => {
    const any = parseFlowTemplate('trail:\n  attestations:\n  - {name: scan, type: "*"}\n');
    expect(evaluateTrail(any, { attestations: [att('scan', 'custom:trivy')], artifacts: [] }).state).toBe('COMPLIANT');
  });

  it('lists artifacts the template does not name as unexpected, judged by their attestations', () => {
    const trail = completeTrail();
    trail.artifacts.push({ name: 'docs', fingerprint: FP('d'), attestations: [att('spellcheck', 'generic', false)] });
    const result = evaluateTrail(template, trail);
    expect(result.artifacts.at(-1)).toMatchObject({ name: 'docs', unexpected: true, state: 'NON-COMPLIANT' });
    expect(result.state).toBe('NON-COMPLIANT');
  });

  it('with the empty template, is compliant iff every reported attestation is', () => {
    const artifact = { name: 'app', fingerprint: FP('a'), attestations: [att('tests', 'junit')] };
    expect(evaluateTrail(EMPTY_FLOW_TEMPLATE, { attestations: [], artifacts: [artifact] }).state).toBe('COMPLIANT');
    expect(evaluateArtifactTemplate(EMPTY_FLOW_TEMPLATE, { ...artifact, attestations: [att('tests', 'junit', false)] }).state).toBe('NON-COMPLIANT');
    expect(evaluateTrail(EMPTY_FLOW_TEMPLATE, { attestations: [], artifacts: [] }).state).toBe('COMPLIANT');
  });
});

// ---- policies ----

const artifactInput = (over: Partial<PolicyArtifactInput['artifact']> = {}, flow: PolicyArtifactInput['flow'] = { name: 'runner-ci', tags: {} }): PolicyArtifactInput => ({
  artifact: { name: 'cyberdojo/runner:16d9990', fingerprint: FP('c'), hasProvenance: true, trailCompliance: 'COMPLIANT', attestations: [], ...over },
  flow,
});
const brief = (e: RuleEvaluation) => [e.rule.path, e.status, e.reason];

describe('an artifact against a policy', () => {
  const reference = policyFile('kosli-reference-example.yml');

  it('explains every rule of the reference example', () => {
    const decision = evaluatePolicy(reference, artifactInput({ attestations: [att('security-scan', 'snyk', false)] }), 'prod');
    expect(decision).toMatchObject({ policy: 'prod', status: 'NON-COMPLIANT', compliant: false });
    expect(decision.rule_evaluations.map((e) => [e.rule.path, e.status, e.reason, e.message])).toEqual([
      ['artifacts.provenance', 'passed', 'rule_satisfied', 'artifact has provenance'],
      ['artifacts.trail-compliance', 'passed', 'rule_satisfied', 'artifact is compliant in trail'],
      ['artifacts.attestations[0]', 'failed', 'non_compliant_attestation', "attestation 'security-scan' is non-compliant in trail"],
      ['artifacts.attestations[1]', 'not_applicable', 'rule_not_applicable', 'the condition is false: flow.tags.risk-level == "high"'],
      ['artifacts.attestations[2]', 'failed', 'missing_attestation', "artifact is missing required 'coverage' (type: custom:coverage-metrics) attestation in trail"],
    ]);
    expect(decision.rule_evaluations[2]!.rule).toEqual({ type: 'attestation', path: 'artifacts.attestations[0]', name: 'security-scan', attestation_type: 'snyk' });
  });

  it('is compliant when every rule passes or does not apply, naming the attestations it rests on', () => {
    const good = [att('security-scan', 'snyk'), att('coverage', 'custom:coverage-metrics')];
    const decision = evaluatePolicy(reference, artifactInput({ attestations: good }));
    expect(decision.compliant).toBe(true);
    expect(decision.status).toBe('COMPLIANT');
    expect(decision.rule_evaluations[2]!.attestation_ids).toEqual([good[0]!.id]);
  });

  it('fails an artifact without provenance with no_provenance, unless an exception applies', () => {
    const stranger = artifactInput({ name: 'nginx:1.27', hasProvenance: false, trailCompliance: null }, null);
    expect(evaluatePolicy(reference, stranger).rule_evaluations.map(brief)).toEqual([
      ['artifacts.provenance', 'failed', 'no_provenance'],
      ['artifacts.trail-compliance', 'failed', 'no_provenance'],
      ['artifacts.attestations[0]', 'failed', 'no_provenance'],
      ['artifacts.attestations[1]', 'not_applicable', 'rule_not_applicable'], // flow.tags.risk-level is missing: == is false
      ['artifacts.attestations[2]', 'failed', 'no_provenance'],
    ]);
    const datadog = evaluatePolicy(policyFile('kosli-exceptions.yml'), artifactInput({ name: 'datadog:agent', hasProvenance: false, trailCompliance: null }, null));
    expect(datadog.rule_evaluations.map((e) => [brief(e), e.message])).toEqual([
      [['artifacts.provenance', 'not_applicable', 'rule_not_applicable'], 'the exception at artifacts.provenance.exceptions[0].if applies'],
      [['artifacts.trail-compliance', 'not_applicable', 'rule_not_applicable'], 'the exception at artifacts.trail-compliance.exceptions[0].if applies'],
      [['artifacts.attestations[0]', 'not_applicable', 'rule_not_applicable'], 'the condition is false: flow.tags.risk-level == "high"'],
    ]);
    expect(datadog.compliant).toBe(true);
  });

  it('fails a non-compliant or incomplete trail with non_compliant_in_trail', () => {
    for (const state of ['NON-COMPLIANT', 'INCOMPLETE', null] as const) {
      const e = evaluatePolicy(reference, artifactInput({ trailCompliance: state })).rule_evaluations[1]!;
      expect([e.status, e.reason, e.message]).toEqual(['failed', 'non_compliant_in_trail', `artifact is not compliant in trail (the trail is ${state ?? 'not known'})`]);
    }
  });

  it('does not apply rules that are not required', () => {
    const policy = parseEnvironmentPolicy('_schema: https://docs.kosli.com/schemas/policy/v1\n');
    const decision = evaluatePolicy(policy, artifactInput({ hasProvenance: false, trailCompliance: null }, null));
    expect(decision.rule_evaluations.map((e) => [brief(e), e.message])).toEqual([
      [['artifacts.provenance', 'not_applicable', 'rule_not_applicable'], 'provenance is not required'],
      [['artifacts.trail-compliance', 'not_applicable', 'rule_not_applicable'], 'trail-compliance is not required'],
    ]);
    expect(decision.compliant).toBe(true);
  });

  it('with must_be_compliant: false asks only that the attestation exists', () => {
    const policy = parseEnvironmentPolicy('_schema: /api/v1/schemas/environment-policy/v1\nartifacts:\n  attestations:\n  - {name: scan, type: snyk, must_be_compliant: false}\n');
    expect(brief(evaluatePolicy(policy, artifactInput({ attestations: [att('scan', 'snyk', false)] })).rule_evaluations[2]!)).toEqual(['artifacts.attestations[0]', 'passed', 'rule_satisfied']);
    expect(brief(evaluatePolicy(policy, artifactInput()).rule_evaluations[2]!)).toEqual(['artifacts.attestations[0]', 'failed', 'missing_attestation']);
  });

  it("matches name '*' by type, and type '*' by name", () => {
    const policy = policyFile('kosli-prod-policy.yaml'); // dependency-scan of type *, unit-test of type junit
    const ok = evaluatePolicy(policy, artifactInput({ attestations: [att('dependency-scan', 'custom:trivy'), att('unit-test', 'junit')] }));
    expect(ok.compliant).toBe(true);
    const cyberDojo = policyFile('cyber-dojo-aws-prod.yml');
    const build = artifactInput({ attestations: [att('pr-1', 'pull_request', false), att('pr-2', 'pull_request', true)] }, { name: 'runner-ci', tags: { kind: 'build' } });
    const rule = evaluatePolicy(cyberDojo, build).rule_evaluations[2]!;
    expect([rule.status, rule.message]).toEqual(['passed', "attestation 'pr-2' is compliant"]);
    const none = evaluatePolicy(cyberDojo, { ...build, artifact: { ...build.artifact, attestations: [] } }).rule_evaluations[2]!;
    expect(none.message).toBe("artifact is missing required '*' (type: pull_request) attestation in trail");
  });

  it("counts the trail's own attestations: one approval on a release trail covers each of its artifacts", () => {
    const policy = parseEnvironmentPolicy(`_schema: https://docs.kosli.com/schemas/policy/v1\nartifacts:\n  attestations:\n  - {name: release-approval, type: approval}\n`);
    const approval = att('release-approval', 'approval');
    for (const name of ['runner', 'saver', 'differ']) {
      const decision = evaluatePolicy(policy, artifactInput({ name, trailAttestations: [approval] }, { name: 'release', tags: {} }));
      expect(decision.compliant).toBe(true);
      expect(decision.rule_evaluations[2]!.attestation_ids).toEqual([approval.id]);
    }
  });

  it("applies cyber-dojo's trail-compliance exception only to flows tagged with another env", () => {
    const cyberDojo = policyFile('cyber-dojo-aws-prod.yml');
    const failing = (tags: Record<string, string>) => evaluatePolicy(cyberDojo, artifactInput({ trailCompliance: 'NON-COMPLIANT' }, { name: 'x-ci', tags })).rule_evaluations[1]!.status;
    expect(failing({ env: 'aws-beta' })).toBe('not_applicable');
    expect(failing({ env: 'aws-prod' })).toBe('failed');
    expect(failing({})).toBe('failed');
  });

  it('throws an evaluation error naming the policy rule and the artifact', () => {
    const policy = parseEnvironmentPolicy('_schema: https://docs.kosli.com/schemas/policy/v1\nartifacts:\n  attestations:\n  - {type: junit, if: "${{ flow.tags.priority < 3 }}"}\n');
    const input = artifactInput({}, { name: 'runner-ci', tags: { priority: 'high' } });
    let caught: unknown;
    try {
      evaluatePolicy(policy, input, 'prod-requirements');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ExpressionEvaluationError);
    expect((caught as ExpressionEvaluationError).rule).toBe('prod-requirements artifacts.attestations[0].if');
    expect((caught as ExpressionEvaluationError).artifact).toBe(`cyberdojo/runner:16d9990 (${FP('c')})`);
    expect((caught as Error).message).toContain("cannot compare string \"high\" with number 3 using '<'");
  });

  it('combines decisions: an artifact needs every policy, a snapshot every artifact', () => {
    expect(artifactCompliant([{ compliant: true }, { compliant: true }])).toBe(true);
    expect(artifactCompliant([{ compliant: true }, { compliant: false }])).toBe(false);
    expect(snapshotCompliant([])).toBe(true);
    expect(snapshotCompliant([{ compliant: true }, { compliant: false }])).toBe(false);
  });

  it('is deterministic: the same input gives the same decision', () => {
    const policies = [reference, policyFile('cyber-dojo-aws-prod.yml'), policyFile('kosli-prod-policy.yaml')];
    const attestation = fc.record({ id: fc.string({ maxLength: 3 }), name: fc.constantFrom('security-scan', 'coverage', 'unit-test', 'pr', 'snyk-scan'), type: fc.constantFrom('snyk', 'junit', 'pull_request', 'custom:coverage-metrics', 'decision'), compliant: fc.boolean() });
    const input = fc.record({
      artifact: fc.record({
        name: fc.constantFrom('datadog:agent', 'runner'), fingerprint: fc.constant(FP('e')), hasProvenance: fc.boolean(),
        trailCompliance: fc.constantFrom('COMPLIANT', 'NON-COMPLIANT', 'INCOMPLETE', null), attestations: fc.array(attestation, { maxLength: 4 }), trailAttestations: fc.array(attestation, { maxLength: 2 }),
      }),
      flow: fc.option(fc.record({ name: fc.constantFrom('production-promotion', 'runner-ci'), tags: fc.dictionary(fc.constantFrom('kind', 'env', 'risk-level'), fc.constantFrom('build', 'aws-prod', 'high')) }), { nil: null }),
    });
    fc.assert(fc.property(fc.constantFrom(...policies), input, (policy, i) => {
      const first = evaluatePolicy(policy, i as PolicyArtifactInput);
      expect(evaluatePolicy(policy, structuredClone(i) as PolicyArtifactInput)).toEqual(first);
      expect(first.compliant).toBe(first.rule_evaluations.every((e) => e.status !== 'failed'));
    }), { numRuns: 500 });
  });
});
