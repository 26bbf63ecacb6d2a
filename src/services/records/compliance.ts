import {
  ExpressionEvaluationError, evaluatePolicy, type CompiledExpression, type CompiledPolicy, type PolicyDecision, type RuleEvaluation,
} from '../../formats/index.js';
import type { AllowanceRecord, EnvironmentRecord, FactSources, OrgRecord, PolicyRecord, SnapshotRecord, Store } from '../../store/index.js';
import { ComplianceFacts, type ArtifactFacts, type OrgCache } from './compliance-facts.js';
import type { SnapshotView } from './environments.js';
import { policiesAt, type PolicyService } from './policies.js';
import type { ParsePool } from '../parse-pool.js';

/** A rule evaluation as shown: formats' RuleEvaluation, whose reason may also be `evaluation_error` (below). */
export type ShownRuleEvaluation = Omit<RuleEvaluation, 'reason'> & { reason: RuleEvaluation['reason'] | 'evaluation_error' };

export interface PolicyResult {
  policy: string;
  version: number;
  compliant: boolean;
  rule_evaluations: ShownRuleEvaluation[];
}

export interface ArtifactComplianceResult {
  name: string;
  fingerprint: string;
  flow: string | null;
  trail: string | null;
  /** True iff compliant with every policy, or allowed. */
  compliant: boolean;
  /** The `allow artifact` exemption that makes it compliant whatever the policies say. */
  allowed: { reason: string; allowed_by: string; allowed_at: string } | null;
  policies: PolicyResult[];
}

export interface SnapshotCompliance {
  compliant: boolean;
  policies: { name: string; version: number; digest: string }[];
  artifacts: Map<string, ArtifactComplianceResult>;
}

/** A snapshot's results against one policy set, valid for the facts cache it was built on, as of a generation. */
interface Memo {
  cache: OrgCache;
  generation: number;
  results: Map<string, ArtifactComplianceResult>;
}

const MAX_MEMOS = 256;

interface Rules {
  policies: readonly PolicyRecord[];
  allowances: Map<string, AllowanceRecord>;
}

/** Rules as read after a catch-up of `cache`, when the environment's stamp in it was `stamp`. */
interface CachedRules extends Rules {
  cache: OrgCache;
  stamp: number;
}

interface Failure {
  path: string;
  message: string;
}

/** Where an `if` sits → the rule it belongs to: `artifacts.provenance.exceptions[0].if` → `artifacts.provenance`. */
function ruleOf(path: string): string {
  return path.replace(/\.if$/, '').replace(/\.exceptions\[\d+\]$/, '');
}

/**
 * The policy with each expression guarded: an `if` that cannot be evaluated for one artifact (a string tag
 * ordered against a number) is reported into `sink` and taken as false, so the rest of the policy is evaluated;
 * the caller then fails the rule it belongs to with reason `evaluation_error`, naming the rule and the artifact.
 * The artifact is non-compliant for that rule; the snapshot's other artifacts and rules are unaffected.
 */
function guarded(policy: CompiledPolicy, sink: { failures: Failure[] }): CompiledPolicy {
  const guard = (path: string, e: CompiledExpression): CompiledExpression => {
    const wrapper = Object.create(e) as CompiledExpression;
    wrapper.evaluate = (context, site) => {
      try {
        return e.evaluate(context, site);
      } catch (err) {
        if (!(err instanceof ExpressionEvaluationError)) throw err;
        sink.failures.push({ path, message: err.message });
        return false;
      }
    };
    return wrapper;
  };
  const rule = (r: CompiledPolicy['provenance']) => ({ ...r, exceptions: r.exceptions.map((x) => ({ path: x.path, expression: guard(x.path, x.expression) })) });
  return {
    ...policy,
    provenance: rule(policy.provenance),
    trailCompliance: rule(policy.trailCompliance),
    attestations: policy.attestations.map((a) => ({ ...a, condition: a.condition && guard(`${a.path}.if`, a.condition) })),
  };
}

/**
 * Compliance with reasons (DESIGN.md §1 Compliance): each artifact against each policy, from facts read in
 * bulk and cached per (fingerprint, facts version, policy version) — see compliance-facts.ts — so that after
 * one artifact's facts change only its decisions are computed again.
 */
export class ComplianceService {
  readonly facts: ComplianceFacts;
  private readonly guardedPolicies = new Map<number, { policy: CompiledPolicy; sink: { failures: Failure[] } }>();
  private readonly memos = new Map<string, Memo>();
  private readonly rules = new Map<string, CachedRules>();
  /** Decisions computed (not taken from the cache), for the benchmark and the tests. */
  evaluations = 0;

  constructor(private readonly store: Store, private readonly policies: PolicyService, parser?: ParsePool) {
    this.facts = new ComplianceFacts(store, parser);
  }

  async evaluate(
    org: OrgRecord, artifacts: readonly { name: string; fingerprint: string }[], policies: readonly PolicyRecord[], allowances = new Map<string, AllowanceRecord>(),
    caughtUp?: OrgCache,
  ): Promise<ArtifactComplianceResult[]> {
    const facts = await this.facts.of(org, artifacts, caughtUp);
    return artifacts.map((a) => this.result(facts.get(a.fingerprint)!, a.name, policies, allowances.get(a.fingerprint)));
  }

  /**
   * The artifacts as they stood at log entry `asOf` (a deployment as it started: `asOf` is its snapshot's
   * entry): judged on the facts recorded at or before it (see ComplianceFacts.asOf) and the exemptions recorded
   * before it — what came later changes nothing. `allowances` is the environment's list (every exemption, oldest
   * first); `sources` what ComplianceFacts.sources read for these fingerprints, to share one read between
   * several entries. Not cached: the current path (evaluate, snapshot) and its cache are untouched.
   */
  async evaluateAsOf(
    org: OrgRecord, artifacts: readonly { name: string; fingerprint: string }[], policies: readonly PolicyRecord[], allowances: readonly AllowanceRecord[],
    asOf: number, sources?: FactSources,
  ): Promise<ArtifactComplianceResult[]> {
    const facts = await this.facts.asOf(org, artifacts, asOf, sources);
    const then = new Map(allowances.filter((a) => a.entryIndex < asOf).map((a) => [a.fingerprint, a]));
    return artifacts.map((a) => this.result(facts.get(a.fingerprint)!, a.name, policies, then.get(a.fingerprint)));
  }

  private result(f: ArtifactFacts, name: string, policies: readonly PolicyRecord[], allowance: AllowanceRecord | undefined): ArtifactComplianceResult {
    const results = policies.map((p) => this.decide(f, p, name));
    return {
      name, fingerprint: f.fingerprint, flow: f.flow, trail: f.trail,
      compliant: allowance !== undefined || results.every((r) => r.compliant),
      allowed: allowance ? { reason: allowance.reason, allowed_by: allowance.createdBy, allowed_at: allowance.createdAt } : null,
      policies: results,
    };
  }

  /** One artifact as reported into one flow (its latest report there), not its latest report anywhere. */
  async evaluateInFlow(
    org: OrgRecord, artifact: { name: string; fingerprint: string }, flowId: number, policies: readonly PolicyRecord[],
  ): Promise<{ result: ArtifactComplianceResult; facts: ArtifactFacts }> {
    const facts = await this.facts.inFlow(org, artifact, flowId);
    const results = policies.map((p) => this.decide(facts, p, artifact.name));
    return {
      facts,
      result: {
        name: artifact.name, fingerprint: artifact.fingerprint, flow: facts.flow, trail: facts.trail, compliant: results.every((r) => r.compliant), allowed: null, policies: results,
      },
    };
  }

  /** A snapshot against the policies attached at it; compliant iff all its artifacts are (allowed ones count). */
  async snapshot(org: OrgRecord, view: SnapshotView): Promise<SnapshotCompliance> {
    const { policies, allowances, cache } = await this.rulesAndFacts(org, view);
    const artifacts = await this.memoised(org, view, policies, allowances, cache);
    let compliant = true;
    for (const r of artifacts.values()) if (!r.compliant) compliant = false;
    return { compliant, policies: policies.map((p) => ({ name: p.name, version: p.version, digest: p.digest })), artifacts };
  }

  /**
   * Several snapshots of one environment (a page of `evident log environment`), each artifact judged as
   * `snapshot` judges it — the policies attached at that snapshot, the environment's exemptions, the
   * artifact's facts as the log records them now, every row checked against its entry — but evaluated once
   * per distinct policy set, not once per snapshot, and not memoised (a page of 100 snapshots of 5,000
   * artifacts would fill the memos). `running` must be the snapshots' checked running sets.
   */
  async snapshotsOf(
    org: OrgRecord, env: EnvironmentRecord, snapshots: readonly { snapshot: SnapshotRecord; running: readonly { name: string; fingerprint: string }[] }[],
  ): Promise<Map<number, { policies: { name: string; version: number }[]; artifacts: Map<string, ArtifactComplianceResult> }>> {
    const out = new Map<number, { policies: { name: string; version: number }[]; artifacts: Map<string, ArtifactComplianceResult> }>();
    if (snapshots.length === 0 || env.type === 'logical') return out;
    // Rules read after the catch-up (see rulesAndFacts).
    const cache = await this.facts.current(org);
    const [attachments, list] = await Promise.all([this.policies.attachments(org, env), this.policies.allowances(org, env)]);
    const allowances = new Map(list.map((a) => [a.fingerprint, a]));
    const groups = new Map<string, { refs: [string, number][]; members: typeof snapshots[number][] }>();
    for (const s of snapshots) {
      const refs = [...policiesAt(attachments, s.snapshot.index)].sort(([a], [b]) => (a < b ? -1 : 1));
      const key = refs.map(([n, v]) => `${n}@${v}`).join(',');
      const group = groups.get(key) ?? { refs, members: [] };
      group.members.push(s);
      groups.set(key, group);
    }
    for (const group of groups.values()) {
      const policies = await Promise.all(group.refs.map(([n, v]) => this.policies.get(org, `${n}@${v}`)));
      const distinct = [...new Map(group.members.flatMap((m) => m.running.map((a) => [`${a.fingerprint} ${a.name}`, a] as const))).values()];
      const results = new Map((await this.evaluate(org, distinct, policies, allowances, cache)).map((r) => [`${r.fingerprint} ${r.name}`, r]));
      const shown = policies.map((p) => ({ name: p.name, version: p.version }));
      for (const m of group.members) {
        out.set(m.snapshot.index, { policies: shown, artifacts: new Map(m.running.map((a) => [a.fingerprint, results.get(`${a.fingerprint} ${a.name}`)!])) });
      }
    }
    return out;
  }

  /**
   * The snapshot's policy set and the environment's exemptions, with the facts caught up. The rules change
   * only by log entries naming the environment (attach, detach, allow), which the facts' catch-up reads
   * anyway: rules read after a catch-up stay valid until a later catch-up meets such an entry, so a read
   * after an unrelated change costs no query for them. (Read after the catch-up, never alongside it: rules
   * read before the catch-up's read could miss an entry its watermark already covers.)
   */
  private async rulesAndFacts(org: OrgRecord, view: SnapshotView): Promise<Rules & { cache: OrgCache }> {
    const cache = await this.facts.current(org);
    // A logical environment has no snapshots of its own, so no policies: its parts are judged where they run.
    if (view.environment.type === 'logical') return { policies: [], allowances: new Map(), cache };
    const key = `${org.id}:${view.environment.id}:${view.snapshot?.index ?? 'now'}`;
    const stamp = cache.environments.get(view.environment.name) ?? 0;
    const known = this.rules.get(key);
    if (known && known.cache === cache && known.stamp === stamp) return { policies: known.policies, allowances: known.allowances, cache };
    const [policies, list] = await Promise.all([
      this.policies.attachedAt(org, view.environment, view.snapshot?.index ?? null), this.policies.allowances(org, view.environment),
    ]);
    const rules = { policies, allowances: new Map(list.map((a) => [a.fingerprint, a])) };
    this.remember(key, { ...rules, cache, stamp });
    return { ...rules, cache };
  }

  private remember(key: string, rules: CachedRules): void {
    if (this.rules.size >= MAX_MEMOS && !this.rules.has(key)) this.rules.delete(this.rules.keys().next().value!);
    this.rules.set(key, rules);
  }

  /**
   * Snapshots are immutable, so a snapshot's results against one policy set change only when facts of its
   * artifacts do: the memo redoes just the fingerprints whose facts were dropped since it was built (and an
   * exemption is a log entry naming its fingerprint, so it drops that fingerprint's facts too).
   */
  private async memoised(
    org: OrgRecord, view: SnapshotView, policies: readonly PolicyRecord[], allowances: Map<string, AllowanceRecord>, cache: OrgCache,
  ): Promise<Map<string, ArtifactComplianceResult>> {
    const key = `${org.id}:${view.environment.id}:${view.snapshot?.id ?? 'none'}:${policies.map((p) => p.id).join(',')}`;
    // Drops after this point are redone next time, even if this evaluation already saw them.
    const generation = cache.generation;
    const memo = view.snapshot ? this.memos.get(key) : undefined;
    if (memo && memo.cache === cache && memo.results.size === view.artifacts.length) {
      const redo: { name: string; fingerprint: string }[] = [];
      if (cache.generation > memo.generation) {
        for (const [fp, generation] of cache.dropped) {
          const r = generation > memo.generation ? memo.results.get(fp) : undefined;
          if (r) redo.push({ name: r.name, fingerprint: fp });
        }
      }
      const results = new Map(memo.results);
      for (const r of await this.evaluate(org, redo, policies, allowances, cache)) results.set(r.fingerprint, r);
      // The facts may have moved on while we read: a memo built on another cache is simply not kept.
      if (this.facts.cacheOf(org) === cache) this.memos.set(key, { cache, generation, results });
      return results;
    }
    const results = new Map((await this.evaluate(org, view.artifacts, policies, allowances, cache)).map((r) => [r.fingerprint, r]));
    if (view.snapshot && this.facts.cacheOf(org) === cache) {
      if (this.memos.size >= MAX_MEMOS) this.memos.delete(this.memos.keys().next().value!);
      this.memos.set(key, { cache, generation, results });
    }
    return results;
  }

  private decide(f: ArtifactFacts, p: PolicyRecord, name: string): PolicyResult {
    let decision = f.decisions.get(p.id);
    // The snapshot's name for the artifact is part of the input (artifact.name in expressions).
    if (!decision || f.input.name !== name) {
      decision = this.compute(f, p, name);
      if (f.input.name === name) f.decisions.set(p.id, decision);
    }
    return { policy: p.name, version: p.version, compliant: decision.compliant, rule_evaluations: decision.rule_evaluations as ShownRuleEvaluation[] };
  }

  private compute(f: ArtifactFacts, p: PolicyRecord, name: string): PolicyDecision {
    this.evaluations++;
    let g = this.guardedPolicies.get(p.id);
    if (!g) {
      const sink = { failures: [] as Failure[] };
      g = { policy: guarded(this.policies.compile(p), sink), sink };
      this.guardedPolicies.set(p.id, g);
    }
    return decideGuarded(g, f, name, `${p.name}@${p.version}`);
  }
}

/** One policy decision on `f` with `g`'s expressions guarded (see guarded()): the rule an error belongs to fails. */
function decideGuarded(g: { policy: CompiledPolicy; sink: { failures: Failure[] } }, f: ArtifactFacts, name: string, label: string): PolicyDecision {
  g.sink.failures = [];
  const decision = evaluatePolicy(g.policy, { artifact: { ...f.input, name }, flow: f.flowContext }, label);
  const failures = g.sink.failures;
  if (failures.length === 0) return decision;
  const evaluations = decision.rule_evaluations.map((e): ShownRuleEvaluation => {
    const failure = failures.find((x) => ruleOf(x.path) === e.rule.path);
    return failure ? { ...e, status: 'failed', reason: 'evaluation_error', message: failure.message, attestation_ids: [] } : e;
  });
  return { ...decision, compliant: false, status: 'NON-COMPLIANT', rule_evaluations: evaluations as RuleEvaluation[] };
}

/** The decision of one compiled policy on one artifact's facts, exactly as ComplianceService makes it (uncached): for re-checking a VSA. */
export function decidePolicy(policy: CompiledPolicy, f: ArtifactFacts, name: string, label: string): PolicyDecision {
  const sink = { failures: [] as Failure[] };
  return decideGuarded({ policy: guarded(policy, sink), sink }, f, name, label);
}
