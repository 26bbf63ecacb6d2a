import type { AllowanceRecord, EnvironmentRecord, OrgRecord, Store } from '../../store/index.js';
import type { LogService } from '../log-service.js';
import type { EnvironmentService } from './environments.js';
import { allowanceClaim } from './fact-claims.js';
import { projectionCheck } from './projection-check.js';
import * as v from './validate.js';

/**
 * `evident allow artifact FP --environment E --reason TEXT` (Kosli's allowlist): the fingerprint counts as
 * compliant in that environment whatever the policies say, with the reason shown beside its evaluations.
 * Exemptions are records like any other: one log entry each, never removed.
 */
export class AllowanceService {
  constructor(private readonly store: Store, private readonly log: LogService, private readonly environments: EnvironmentService) {}

  async allow(org: OrgRecord, envName: string, fingerprint: string, reason: string, allowedBy: string): Promise<AllowanceRecord & { environment: string }> {
    const p = new v.Problems();
    const fp = p.check('fingerprint', () => v.fingerprint(fingerprint));
    const why = p.check('reason', () => v.text(reason, 4096));
    if (why !== undefined && why.trim() === '') p.add('reason', 'say why the artifact is allowed');
    p.throwIfAny('allowance');
    const env = await this.environments.get(org, envName);
    const { value } = await this.log.append(
      org, 'artifact.allowed', { environment: env.name, fingerprint: fp!, reason: why!, allowed_by: allowedBy },
      async (records, e) => {
        const row: AllowanceRecord = { envId: env.id, fingerprint: fp!, reason: why!, createdBy: allowedBy, createdAt: e.time, entryIndex: e.index };
        await records.policies.insertAllowance(org.id, row);
        return row;
      },
    );
    return { ...value, environment: env.name };
  }

  async list(org: OrgRecord, envName: string): Promise<AllowanceRecord[]> {
    const env = await this.environments.get(org, envName);
    return this.store.policies.allowances(env.id);
  }


  /** The latest exemption of each fingerprint in the environment, each checked against its log entry. */
  async byFingerprint(org: OrgRecord, env: EnvironmentRecord): Promise<Map<string, AllowanceRecord>> {
    const rows = await this.store.policies.allowances(env.id);
    await projectionCheck(this.store).rows(org, rows.map((a) => allowanceClaim(env.name, a)));
    return new Map(rows.map((a) => [a.fingerprint, a]));
  }
}
