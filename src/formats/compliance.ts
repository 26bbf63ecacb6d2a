import type { CompiledBooleanRule, CompiledPolicy } from './environment-policy.js';
import type { FlowTemplate, TemplateAttestation } from './flow-template.js';
import type { FlowContext } from './policy-expr-eval.js';

// Compliance, from plain records (no I/O): (a) a trail and its artifacts against the flow's template, as the
// states COMPLIANT, NON-COMPLIANT and INCOMPLETE with a status per requirement, in the shape of Kosli's
// `attestations_statuses`; (b) an artifact against an environment policy, as rule evaluations with reasons
// (Kosli's resolution types: rule_satisfied, rule_not_applicable, no_provenance, missing_attestation,
// non_compliant_attestation, non_compliant_in_trail).
//
// The state of a set of attestation statuses (an artifact's, a trail's):
// 1. NON-COMPLIANT if any attestation that counts is non-compliant, required or not (a failing test report
//    fails its trail even when the template does not ask for it, as with Kosli's empty template);
// 2. else INCOMPLETE if anything required is missing (an attestation, or an artifact the template names);
// 3. else COMPLIANT.
// Attestations are append-only: among those with one name (on one trail, or one artifact), the last in the
// input counts. Inputs are therefore in recording order.

export type ComplianceState = 'COMPLIANT' | 'NON-COMPLIANT' | 'INCOMPLETE';

export interface RecordedAttestation {
  id: string;
  name: string;
  type: string;
  compliant: boolean;
}

export interface RecordedArtifact {
  name: string;
  fingerprint: string;
  attestations: readonly RecordedAttestation[];
}

export interface TrailRecord {
  attestations: readonly RecordedAttestation[];
  artifacts: readonly RecordedArtifact[];
}

/** One requirement of the template (or one unexpected attestation), in Kosli's field names. */
export interface AttestationStatus {
  attestation_name: string;
  /** The type required (`*` allowed), or for an unexpected attestation its recorded type. */
  attestation_type: string;
  status: 'COMPLETE' | 'MISSING';
  /** Null when missing. */
  is_compliant: boolean | null;
  /** Recorded, but not required by the template. */
  unexpected: boolean;
  attestation_id: string | null;
}

export interface ArtifactCompliance {
  name: string;
  /** Null for an artifact the template names that the trail has not reported. */
  fingerprint: string | null;
  status: 'COMPLETE' | 'MISSING';
  /** Reported, but not named by the template. */
  unexpected: boolean;
  state: ComplianceState;
  attestations_statuses: AttestationStatus[];
}

export interface TrailCompliance {
  state: ComplianceState;
  /** The trail's own attestations. */
  attestations_statuses: AttestationStatus[];
  /** The template's artifacts in its order (each reported one, or one MISSING entry), then unexpected ones. */
  artifacts: ArtifactCompliance[];
}

const RANK: Record<ComplianceState, number> = { COMPLIANT: 0, INCOMPLETE: 1, 'NON-COMPLIANT': 2 };

/** The worst of the states: NON-COMPLIANT over INCOMPLETE over COMPLIANT; COMPLIANT for none. */
export function worstState(states: Iterable<ComplianceState>): ComplianceState {
  let worst: ComplianceState = 'COMPLIANT';
  for (const s of states) if (RANK[s] > RANK[worst]) worst = s;
  return worst;
}

/** The last attestation of each name, in order of first appearance. */
export function latestByName(attestations: readonly RecordedAttestation[]): Map<string, RecordedAttestation> {
  const latest = new Map<string, RecordedAttestation>();
  for (const a of attestations) latest.set(a.name, a);
  return latest;
}

function statusesOf(required: readonly TemplateAttestation[], recorded: readonly RecordedAttestation[]): AttestationStatus[] {
  const latest = latestByName(recorded);
  const used = new Set<string>();
  const out: AttestationStatus[] = required.map((r) => {
    const a = latest.get(r.name);
    // A recorded attestation with the required name but another type does not satisfy the requirement.
    if (!a || (r.type !== '*' && a.type !== r.type)) {
      return { attestation_name: r.name, attestation_type: r.type, status: 'MISSING', is_compliant: null, unexpected: false, attestation_id: null };
    }
    used.add(a.name);
    return { attestation_name: r.name, attestation_type: r.type, status: 'COMPLETE', is_compliant: a.compliant, unexpected: false, attestation_id: a.id };
  });
  for (const a of latest.values()) {
    if (!used.has(a.name)) out.push({ attestation_name: a.name, attestation_type: a.type, status: 'COMPLETE', is_compliant: a.compliant, unexpected: true, attestation_id: a.id });
  }
  return out;
}

function stateOf(statuses: readonly AttestationStatus[]): ComplianceState {
  if (statuses.some((s) => s.is_compliant === false)) return 'NON-COMPLIANT';
  return statuses.some((s) => s.status === 'MISSING') ? 'INCOMPLETE' : 'COMPLIANT';
}

/** One reported artifact against the template (its own attestations; the trail's are judged with the trail). */
export function evaluateArtifactTemplate(template: FlowTemplate, artifact: RecordedArtifact): ArtifactCompliance {
  const expected = template.trail.artifacts.find((a) => a.name === artifact.name);
  const statuses = statusesOf(expected?.attestations ?? [], artifact.attestations);
  return { name: artifact.name, fingerprint: artifact.fingerprint, status: 'COMPLETE', unexpected: !expected, state: stateOf(statuses), attestations_statuses: statuses };
}

/** A trail (its attestations and every artifact reported in it) against the template it began with. */
export function evaluateTrail(template: FlowTemplate, trail: TrailRecord): TrailCompliance {
  const statuses = statusesOf(template.trail.attestations, trail.attestations);
  const artifacts: ArtifactCompliance[] = [];
  for (const expected of template.trail.artifacts) {
    const reported = trail.artifacts.filter((a) => a.name === expected.name);
    for (const a of reported) artifacts.push(evaluateArtifactTemplate(template, a));
    if (reported.length === 0) {
      const missing = statusesOf(expected.attestations, []);
      artifacts.push({ name: expected.name, fingerprint: null, status: 'MISSING', unexpected: false, state: 'INCOMPLETE', attestations_statuses: missing });
    }
  }
  const named = new Set(template.trail.artifacts.map((a) => a.name));
  for (const a of trail.artifacts) if (!named.has(a.name)) artifacts.push(evaluateArtifactTemplate(template, a));
  return { state: worstState([stateOf(statuses), ...artifacts.map((a) => a.state)]), attestations_statuses: statuses, artifacts };
}

// ---- (b) an artifact against an environment policy ----

export type RuleStatus = 'passed' | 'failed' | 'not_applicable';
export type ReasonCode = 'rule_satisfied' | 'rule_not_applicable' | 'no_provenance' | 'missing_attestation' | 'non_compliant_attestation' | 'non_compliant_in_trail';

export interface RuleRef {
  type: 'provenance' | 'trail-compliance' | 'attestation';
  /** Where the rule is in the policy file: `artifacts.provenance`, `artifacts.attestations[2]`. */
  path: string;
  /** For attestation rules. */
  name?: string;
  attestation_type?: string;
}

export interface RuleEvaluation {
  rule: RuleRef;
  status: RuleStatus;
  reason: ReasonCode;
  /** The reason in words, e.g. "artifact is missing required 'unit-tests' (type: junit) attestation in trail". */
  message: string;
  /** Ids of the attestations the decision rests on (for a signed verification summary). */
  attestation_ids: string[];
}

export interface PolicyArtifactInput {
  artifact: {
    name: string;
    fingerprint: string;
    /** Reported in a flow (Kosli: "be part of a Kosli flow"). */
    hasProvenance: boolean;
    /** The state of the trail the artifact was reported in; null when unknown. */
    trailCompliance: ComplianceState | null;
    /** The artifact's attestations, in recording order. */
    attestations: readonly RecordedAttestation[];
    /** Its trail's own attestations: these count too, so one approval on a release trail covers all its artifacts. */
    trailAttestations?: readonly RecordedAttestation[];
  };
  /** Null for an artifact without provenance. */
  flow: FlowContext | null;
}

export interface PolicyDecision {
  policy: string;
  status: 'COMPLIANT' | 'NON-COMPLIANT';
  /** True iff no rule failed. */
  compliant: boolean;
  /** Provenance, trail-compliance, then each attestation rule in the policy's order. */
  rule_evaluations: RuleEvaluation[];
}

const result = (rule: RuleRef, status: RuleStatus, reason: ReasonCode, message: string, ids: string[] = []): RuleEvaluation => ({
  rule, status, reason, message, attestation_ids: ids,
});

/**
 * Evaluates one artifact against one compiled policy. Deterministic and cheap (expressions were compiled
 * with the policy). An `if` that cannot be evaluated throws ExpressionEvaluationError naming the policy's rule
 * and the artifact. Exemptions (`allow artifact`) are the caller's: an exempt artifact is not evaluated.
 */
export function evaluatePolicy(policy: CompiledPolicy, input: PolicyArtifactInput, policyName = 'policy'): PolicyDecision {
  const { artifact, flow } = input;
  const context = { flow, artifact: { name: artifact.name, fingerprint: artifact.fingerprint } };
  const site = (path: string) => ({ rule: `${policyName} ${path}`, artifact: `${artifact.name} (${artifact.fingerprint})` });
  const exception = (rule: CompiledBooleanRule): string | undefined =>
    rule.exceptions.find((e) => e.expression.evaluate(context, site(e.path)))?.path;

  const evaluations: RuleEvaluation[] = [];
  const boolean = (rule: CompiledBooleanRule, ref: RuleRef, check: () => RuleEvaluation): void => {
    const excepted = rule.required ? exception(rule) : undefined;
    if (!rule.required) evaluations.push(result(ref, 'not_applicable', 'rule_not_applicable', `${ref.type} is not required`));
    else if (excepted) evaluations.push(result(ref, 'not_applicable', 'rule_not_applicable', `the exception at ${excepted} applies`));
    else evaluations.push(check());
  };
  const provenance: RuleRef = { type: 'provenance', path: 'artifacts.provenance' };
  boolean(policy.provenance, provenance, () =>
    artifact.hasProvenance
      ? result(provenance, 'passed', 'rule_satisfied', 'artifact has provenance')
      : result(provenance, 'failed', 'no_provenance', 'artifact has no provenance: it was not reported in any flow and no provenance attestation names it'));
  const trail: RuleRef = { type: 'trail-compliance', path: 'artifacts.trail-compliance' };
  boolean(policy.trailCompliance, trail, () => {
    if (!artifact.hasProvenance) return result(trail, 'failed', 'no_provenance', 'artifact has no provenance, so no trail');
    if (artifact.trailCompliance === 'COMPLIANT') return result(trail, 'passed', 'rule_satisfied', 'artifact is compliant in trail');
    const state = artifact.trailCompliance ?? 'not known';
    return result(trail, 'failed', 'non_compliant_in_trail', `artifact is not compliant in trail (the trail is ${state})`);
  });

  let recorded: RecordedAttestation[] | undefined; // the latest of each name, on the artifact then its trail
  for (const { path, rule, condition } of policy.attestations) {
    const ref: RuleRef = { type: 'attestation', path, name: rule.name, attestation_type: rule.type };
    const what = `'${rule.name}' (type: ${rule.type})`; // Kosli's wording, `*` included
    if (condition && !condition.evaluate(context, site(`${path}.if`))) {
      evaluations.push(result(ref, 'not_applicable', 'rule_not_applicable', `the condition is false: ${condition.canonical}`));
      continue;
    }
    if (!artifact.hasProvenance) {
      evaluations.push(result(ref, 'failed', 'no_provenance', `artifact has no provenance, so no ${what} attestation`));
      continue;
    }
    recorded ??= [...latestByName(artifact.attestations).values(), ...latestByName(artifact.trailAttestations ?? []).values()];
    const matching = recorded.filter((a) => (rule.name === '*' || a.name === rule.name) && (rule.type === '*' || a.type === rule.type));
    const good = rule.must_be_compliant ? matching.filter((a) => a.compliant) : matching;
    if (matching.length === 0) evaluations.push(result(ref, 'failed', 'missing_attestation', `artifact is missing required ${what} attestation in trail`));
    else if (good.length > 0) evaluations.push(result(ref, 'passed', 'rule_satisfied', `attestation '${good[0]!.name}' is ${rule.must_be_compliant ? 'compliant' : 'present'}`, good.map((a) => a.id)));
    else {
      const names = [...new Set(matching.map((a) => `'${a.name}'`))].join(', ');
      evaluations.push(result(ref, 'failed', 'non_compliant_attestation', `attestation ${names} is non-compliant in trail`, matching.map((a) => a.id)));
    }
  }
  const compliant = evaluations.every((e) => e.status !== 'failed');
  return { policy: policyName, status: compliant ? 'COMPLIANT' : 'NON-COMPLIANT', compliant, rule_evaluations: evaluations };
}

/** An artifact is compliant in an environment iff it is compliant with every attached policy. */
export function artifactCompliant(decisions: readonly { compliant: boolean }[]): boolean {
  return decisions.every((d) => d.compliant);
}

/** A snapshot is compliant iff all its artifacts are (the caller counts an allow-listed artifact as compliant). */
export function snapshotCompliant(artifacts: readonly { compliant: boolean }[]): boolean {
  return artifacts.every((a) => a.compliant);
}
