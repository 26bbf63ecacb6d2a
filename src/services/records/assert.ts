import { EvidentError } from '../../core/index.js';
import { type DsseEnvelope } from '../../formats/index.js';
import type { NoteSigner } from '../../ledger/index.js';
import type { AllowanceRecord, OrgRecord, PolicyRecord, Store } from '../../store/index.js';
import type { LogService } from '../log-service.js';
import { systemClock, type Clock } from '../clock.js';
import type { AllowanceService } from './allowances.js';
import type { ArtifactComplianceResult, ComplianceService } from './compliance.js';
import type { EnvironmentService } from './environments.js';
import type { PolicyService } from './policies.js';
import * as v from './validate.js';
import { sha256Hex, signerPublicKey, type VsaLog } from './vsa.js';
import { signRecheckedVsa, type VsaScope } from './vsa-sign.js';
import { FLOW_POLICY_SOURCE } from './vsa-recheck.js';

export interface AssertArtifactInput {
  fingerprint: string;
  /** Judge by the policies attached to this environment now (and its exemptions). */
  environment?: string;
  /** Judge by these policies: NAME or NAME@VERSION. */
  policies?: string[];
  /** Judge as compliant in this flow: reported in it, and its trail compliant. */
  flow?: string;
}

export interface AssertFailure {
  artifact: string;
  fingerprint: string;
  policy: string;
  version: number;
  rule: string;
  reason: string;
  message: string;
}

export interface AssertResult {
  compliant: boolean;
  /** What the decision was made against: `environment aws-prod`, `policies a@1,b@2`, `flow runner`, `snapshot aws-prod#7`. */
  scope: string;
  policies: { name: string; version: number; digest: string }[];
  artifacts: ArtifactComplianceResult[];
  /** Every failed rule of every non-compliant artifact (allowed ones are compliant and list none). */
  failures: AssertFailure[];
  /**
   * With `vsa`: the decision as a signed SLSA VSA v1 (DSSE envelope) carrying, in member `evidentLog`, the
   * checkpoint and the entries with proofs it rests on (docs/log.md "VSA"); and the key that verifies it.
   */
  vsa?: DsseEnvelope & { evidentLog: VsaLog };
  signed_by?: string;
}

const FLOW_POLICY: PolicyRecord = {
  id: -1, orgId: 0, name: 'flow-compliance', version: 1, description: 'built in: reported in a flow, and compliant in its trail', definition: null,
  source: FLOW_POLICY_SOURCE, digest: `sha256:${sha256Hex(FLOW_POLICY_SOURCE)}`, createdAt: '1970-01-01T00:00:00.000Z', entryIndex: 0,
};

/** Gates (`evident assert`): a decision with every failing rule and why, optionally signed as a SLSA VSA. */
export class AssertService {
  constructor(
    private readonly store: Store,
    private readonly environments: EnvironmentService,
    private readonly policies: PolicyService,
    private readonly compliance: ComplianceService,
    private readonly allowances: AllowanceService,
    private readonly signer: NoteSigner,
    private readonly log: LogService,
    private readonly clock: Clock = systemClock,
    /** With witnesses configured: a VSA carries its checkpoint cosigned when they answer in time. */
    private readonly cosign?: (org: OrgRecord, note: string) => Promise<string>,
  ) {}

  async artifact(org: OrgRecord, input: AssertArtifactInput, options: { vsa?: boolean } = {}): Promise<AssertResult> {
    const fingerprint = v.fingerprint(input.fingerprint);
    const scopes = [input.environment, input.policies?.length ? input.policies : undefined, input.flow].filter((x) => x !== undefined);
    if (scopes.length > 1) throw new EvidentError('INVALID_ARGUMENT', 'give at most one of environment, policies and flow');
    let policies: PolicyRecord[] = [FLOW_POLICY];
    let allowances = new Map<string, AllowanceRecord>();
    let scope = 'flow compliance';
    let resource = `urn:evident:${org.name}:artifact:${fingerprint}`;
    const extra: AssertFailure[] = [];
    const report = (await this.store.records.latestReports(org.id, [fingerprint])).get(fingerprint);
    const name = report?.artifact.displayName ?? report?.artifact.name ?? fingerprint.slice(0, 12);
    if (input.environment !== undefined) {
      const env = await this.environments.get(org, input.environment);
      const latest = env.type === 'logical' ? undefined : await this.store.environments.latestSnapshot(env.id);
      policies = env.type === 'logical' ? [] : await this.policies.attachedAt(org, env, latest?.index ?? null);
      allowances = await this.allowances.byFingerprint(org, env);
      scope = `environment ${env.name}`;
      resource = `urn:evident:${org.name}:environment:${env.name}`;
    } else if (input.policies?.length) {
      policies = await Promise.all(input.policies.map((p) => this.policies.get(org, p)));
      scope = `policies ${policies.map((p) => `${p.name}@${p.version}`).join(',')}`;
    } else if (input.flow !== undefined) {
      const flow = await this.store.records.flow(org.id, v.name('flow', input.flow));
      if (!flow) throw new EvidentError('NOT_FOUND', `flow ${JSON.stringify(input.flow)} does not exist in organisation ${org.name}`);
      scope = `flow ${flow.name}`;
      const reported = (await this.store.records.artifactsByFingerprint(org.id, fingerprint)).some((a) => a.flowId === flow.id);
      if (!reported) {
        extra.push({ artifact: name, fingerprint, policy: scope, version: 1, rule: 'flow', reason: 'no_provenance', message: `artifact was not reported in flow ${flow.name}` });
      }
      // Judged by its report in this flow (and that trail), even if another flow reported it since.
      const { result } = await this.compliance.evaluateInFlow(org, { name, fingerprint }, flow.id, policies);
      if (extra.length > 0) result.compliant = false;
      return this.finish(org, scope, resource, policies, [result], extra, options.vsa ?? false, { flowId: flow.id, allowances: [] });
    }
    const [result] = await this.compliance.evaluate(org, [{ name, fingerprint }], policies, allowances);
    if (extra.length > 0 && !result!.allowed) result!.compliant = false;
    return this.finish(org, scope, resource, policies, [result!], extra, options.vsa ?? false, { allowances: [...allowances.values()] });
  }

  async snapshot(org: OrgRecord, expr: string, options: { vsa?: boolean } = {}): Promise<AssertResult> {
    const view = await this.environments.snapshot(org, expr);
    const sc = await this.compliance.snapshot(org, view);
    const label = `${view.environment.name}${view.snapshot ? `#${view.snapshot.index}` : ''}`;
    const policies = await Promise.all(sc.policies.map((p) => this.policies.get(org, `${p.name}@${p.version}`)));
    const allowances = view.environment.type === 'logical' ? [] : [...(await this.allowances.byFingerprint(org, view.environment)).values()];
    return this.finish(org, `snapshot ${label}`, `urn:evident:${org.name}:snapshot:${label}`, policies, [...sc.artifacts.values()], [], options.vsa ?? false, { allowances });
  }

  private async finish(
    org: OrgRecord, scope: string, resource: string, policies: PolicyRecord[], artifacts: ArtifactComplianceResult[], extra: AssertFailure[], vsa: boolean,
    vsaScope: VsaScope,
  ): Promise<AssertResult> {
    const failures: AssertFailure[] = [...extra];
    for (const a of artifacts) {
      if (a.allowed) continue;
      for (const p of a.policies) {
        for (const e of p.rule_evaluations) {
          if (e.status !== 'failed') continue;
          const rule = e.rule.name ? `${e.rule.path} (${e.rule.name}: ${e.rule.attestation_type})` : e.rule.path;
          failures.push({ artifact: a.name, fingerprint: a.fingerprint, policy: p.policy, version: p.version, rule, reason: e.reason, message: e.message });
        }
      }
    }
    const result: AssertResult = {
      compliant: artifacts.every((a) => a.compliant), scope, policies: policies.map((p) => ({ name: p.name, version: p.version, digest: p.digest })), artifacts, failures,
    };
    if (!vsa) return result;
    const file = await signRecheckedVsa(
      { store: this.store, log: this.log, facts: this.compliance.facts, signer: this.signer, clock: this.clock, cosign: this.cosign }, org,
      {
        subject: artifacts.map((a) => ({ name: a.name, digest: { sha256: a.fingerprint } })), resourceUri: resource, policies,
        builtIn: policies.length === 1 && policies[0] === FLOW_POLICY, passed: result.compliant, scope: vsaScope,
      },
    );
    return { ...result, vsa: file, signed_by: signerPublicKey(this.signer) };
  }
}
