import type * as pols from './policy-schemas.js';
import { EnvironmentsApi } from './environments-api.js';

/** Deciding: policies, their attachments, exemptions and assert gates (docs/policies.md). */
export class PoliciesApi extends EnvironmentsApi {
  createPolicy(input: pols.PolicyCreate) {
    return this.json('Policy', 'POST', this.orgPath('/policies'), undefined, input);
  }

  /** NAME (latest version) or NAME@VERSION. */
  getPolicy(ref: string) {
    return this.json('Policy', 'GET', this.orgPath(`/policies/${encodeURIComponent(ref)}`));
  }

  listPolicies() {
    return this.json('PolicyList', 'GET', this.orgPath('/policies'));
  }

  attachPolicy(env: string, policy: string) {
    return this.json('AttachResult', 'POST', this.orgPath(`/environments/${encodeURIComponent(env)}/policies`), undefined, { policy });
  }

  detachPolicy(env: string, policy: string) {
    return this.json('AttachResult', 'DELETE', this.orgPath(`/environments/${encodeURIComponent(env)}/policies/${encodeURIComponent(policy)}`));
  }

  allowArtifact(env: string, input: { fingerprint: string; reason: string }) {
    return this.json('Allowance', 'POST', this.orgPath(`/environments/${encodeURIComponent(env)}/allowances`), undefined, input);
  }

  listAllowances(env: string) {
    return this.json('AllowanceList', 'GET', this.orgPath(`/environments/${encodeURIComponent(env)}/allowances`));
  }

  assertArtifact(input: pols.AssertArtifact) {
    return this.json('AssertResult', 'POST', this.orgPath('/assert/artifact'), undefined, input);
  }

  assertSnapshot(input: pols.AssertSnapshot) {
    return this.json('AssertResult', 'POST', this.orgPath('/assert/snapshot'), undefined, input);
  }
}
