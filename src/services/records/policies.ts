import { createHash } from 'node:crypto';
import { EvidentError } from '../../core/index.js';
import { compilePolicyDefinition, parseEnvironmentPolicy, type CompiledPolicy } from '../../formats/index.js';
import type { AllowanceRecord, EnvironmentRecord, OrgRecord, PolicyAttachmentRecord, PolicyRecord, SnapshotRecord, Store } from '../../store/index.js';
import type { LogService } from '../log-service.js';
import type { EnvironmentService } from './environments.js';
import { allowanceClaim, attachmentClaim, policyClaim } from './fact-claims.js';
import { projectionCheck } from './projection-check.js';
import * as v from './validate.js';
import { IN_THREAD_PARSER } from './templates.js';
import type { ParsePool } from '../parse-pool.js';

/** Compiled policy versions kept per process (oldest dropped first). */
const COMPILED_MAX = 1000;

export interface CreatePolicyInput {
  name: string;
  /** The YAML (or JSON) text of the policy. */
  source: string;
  description?: string;
}

export interface AttachResult {
  environment: string;
  /** False when the policy set did not change (nothing logged). */
  changed: boolean;
  /** The snapshot made with the new policy set; null for an environment never reported (applies from its first). */
  snapshot: SnapshotRecord | null;
  policies: { name: string; version: number }[];
}

/** Thrown inside a log transaction to roll it back when there is nothing to record. */
class Unchanged<T> extends Error {
  constructor(readonly value: T) {
    super('unchanged');
  }
}

/** `NAME` or `NAME@VERSION`. */
export function parsePolicyRef(ref: string): { name: string; version?: number } {
  const [name, version, extra] = ref.split('@');
  if (extra !== undefined || (version !== undefined && !/^[1-9][0-9]{0,8}$/.test(version))) {
    throw new EvidentError('INVALID_ARGUMENT', `a policy is NAME or NAME@VERSION, not ${JSON.stringify(ref)}`);
  }
  return { name: v.name('policy', name), ...(version ? { version: Number(version) } : {}) };
}

/** The policies in force: replays attach/detach events up to snapshot `index` (all of them for null). */
export function policiesAt(events: readonly PolicyAttachmentRecord[], index: number | null): Map<string, number> {
  const set = new Map<string, number>();
  for (const e of events) {
    if (index !== null && e.snapshotIndex > index) break;
    if (e.action === 'attach') set.set(e.policyName, e.policyVersion!);
    else set.delete(e.policyName);
  }
  return set;
}

const sortedSet = (set: Map<string, number>) => [...set].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, version]) => ({ name, version }));

/**
 * Environment policies (DESIGN.md §1 Policy): immutable versions, attached to environments. Attaching or
 * detaching changes what the environment's artifacts are judged by, so it makes snapshot N+1 with the same
 * running artifacts as N: every snapshot has one policy set, and history reads "from #N on, judged by ...".
 */
export class PolicyService {
  private readonly compiled = new Map<number, CompiledPolicy>();

  constructor(
    private readonly store: Store, private readonly log: LogService, private readonly environments: EnvironmentService,
    private readonly parser: ParsePool = IN_THREAD_PARSER,
  ) {}

  /** A new version, unless the source is the same as the latest version's (then nothing is logged). */
  async create(org: OrgRecord, input: CreatePolicyInput): Promise<{ policy: PolicyRecord; created: boolean }> {
    const p = new v.Problems();
    const name = p.check('name', () => v.name('policy', input.name));
    const description = p.check('description', () => v.text(input.description ?? ''));
    if (typeof input.source !== 'string') p.add('source', 'must be the text of the policy');
    p.throwIfAny('policy');
    // Refused with line:column before anything is stored (details carry every problem). Up to 256 KiB of YAML:
    // read in a parser worker, so a large policy does not stop the server while it is read (F4).
    const definition = await this.parser.parse('policy', new TextEncoder().encode(input.source), `${name!}.yml`);
    const digest = `sha256:${createHash('sha256').update(input.source, 'utf8').digest('hex')}`;
    const same = (x: PolicyRecord | undefined) => x !== undefined && x.digest === digest && x.description === description;
    const latest = await this.store.policies.policy(org.id, name!);
    if (same(latest)) return { policy: latest!, created: false };
    try {
      const { value } = await this.log.append(
        org, 'policy.created', { policy: name!, description: description!, digest, definition, source: input.source },
        async (records, e) => {
          const now = await records.policies.latestPolicy(org.id, name!);
          if (same(now)) throw new Unchanged(now!);
          return records.policies.insertPolicy({
            orgId: org.id, name: name!, description: description!, definition, source: input.source, digest, createdAt: e.time, entryIndex: e.index,
          });
        },
      );
      return { policy: value, created: true };
    } catch (err) {
      if (err instanceof Unchanged) return { policy: err.value as PolicyRecord, created: false };
      throw err;
    }
  }

  /** `NAME` (latest version) or `NAME@VERSION`. */
  async get(org: OrgRecord, ref: string): Promise<PolicyRecord> {
    const { name, version } = parsePolicyRef(ref);
    const found = await this.store.policies.policy(org.id, name, version);
    if (!found) throw new EvidentError('NOT_FOUND', `policy ${ref} does not exist in organisation ${org.name}`);
    // Every use of a policy version judges by its source: checked against its log entry first.
    await projectionCheck(this.store).rows(org, [policyClaim(found)]);
    await this.prepare(found);
    return found;
  }

  /** The latest version of each policy, with how many versions it has. */
  async list(org: OrgRecord): Promise<{ policy: PolicyRecord; versions: number }[]> {
    const latest = new Map<string, { policy: PolicyRecord; versions: number }>();
    for (const p of await this.store.policies.policies(org.id)) latest.set(p.name, { policy: p, versions: p.version });
    return [...latest.values()];
  }

  /** The policy's expressions compiled once per version (versions are immutable). */
  compile(policy: PolicyRecord): CompiledPolicy {
    return this.compiled.get(policy.id) ?? this.remember(policy.id, parseEnvironmentPolicy(policy.source, `${policy.name}.yml`));
  }

  /**
   * Compiles a version before `compile` is asked for it: its YAML read in a parser worker (from its source,
   * checked against its log entry by `get`), only its expressions compiled here.
   */
  private async prepare(policy: PolicyRecord): Promise<void> {
    if (this.compiled.has(policy.id)) return;
    const source = `${policy.name}.yml`;
    const definition = await this.parser.parse('policy', new TextEncoder().encode(policy.source), source);
    this.remember(policy.id, compilePolicyDefinition(definition, source));
  }

  private remember(id: number, policy: CompiledPolicy): CompiledPolicy {
    if (this.compiled.size >= COMPILED_MAX) this.compiled.delete(this.compiled.keys().next().value!);
    this.compiled.set(id, policy);
    return policy;
  }

  /** The policy versions attached to an environment at a snapshot (null: now). */
  async attachedAt(org: OrgRecord, env: EnvironmentRecord, index: number | null): Promise<PolicyRecord[]> {
    const set = policiesAt(await this.attachments(org, env), index);
    return Promise.all(sortedSet(set).map((x) => this.get(org, `${x.name}@${x.version}`)));
  }

  /** The environment's attach and detach events, oldest first, each checked against its log entry. */
  async attachments(org: OrgRecord, env: EnvironmentRecord): Promise<PolicyAttachmentRecord[]> {
    const rows = await this.store.policies.attachments(env.id);
    await projectionCheck(this.store).rows(org, rows.map((a) => attachmentClaim(env.name, a)));
    return rows;
  }

  /** The environment's exemptions (`allow artifact`), oldest first, each checked against its log entry. */
  async allowances(org: OrgRecord, env: EnvironmentRecord): Promise<AllowanceRecord[]> {
    const rows = await this.store.policies.allowances(env.id);
    await projectionCheck(this.store).rows(org, rows.map((a) => allowanceClaim(env.name, a)));
    return rows;
  }

  /** Attaches the latest version (or NAME@VERSION); attaching a newer version of an attached policy replaces it. */
  async attach(org: OrgRecord, envName: string, ref: string): Promise<AttachResult> {
    const policy = await this.get(org, ref);
    return this.change(org, envName, 'attach', policy.name, policy.version);
  }

  async detach(org: OrgRecord, envName: string, name: string): Promise<AttachResult> {
    return this.change(org, envName, 'detach', v.name('policy', name), null);
  }

  private async change(org: OrgRecord, envName: string, action: 'attach' | 'detach', name: string, version: number | null): Promise<AttachResult> {
    const env = await this.environments.get(org, envName);
    if (env.type === 'logical') throw new EvidentError('INVALID_ARGUMENT', `${env.name} is a logical environment: attach policies to the environments it includes`);
    if (env.archivedAt) throw new EvidentError('CONFLICT', `environment ${env.name} is archived`);
    const payload = action === 'attach' ? { environment: env.name, policy: name, version } : { environment: env.name, policy: name };
    try {
      const { value } = await this.log.append(org, `policy.${action === 'attach' ? 'attached' : 'detached'}`, payload, async (records, e) => {
        const set = policiesAt(await records.policies.attachments(env.id), null);
        if (action === 'attach' ? set.get(name) === version : !set.has(name)) {
          throw new Unchanged<AttachResult>({ environment: env.name, changed: false, snapshot: null, policies: sortedSet(set) });
        }
        if (action === 'attach') set.set(name, version!);
        else set.delete(name);
        // The same running artifacts, judged from now on by the new policy set: snapshot N+1.
        const state = await records.environments.latestState(env.id);
        const snapshot = state
          ? await records.environments.insertSnapshot(org.id, env.id, state.running.map((r) => ({ fingerprint: r.fingerprint, name: r.name, instances: r.instances })), e.time, e.index, state)
          : null;
        await records.policies.insertAttachment(org.id, {
          envId: env.id, policyName: name, policyVersion: version, action, snapshotIndex: snapshot?.index ?? 0, createdAt: e.time, entryIndex: e.index,
        });
        return { environment: env.name, changed: true, snapshot, policies: sortedSet(set) };
      });
      return value;
    } catch (err) {
      if (err instanceof Unchanged) {
        if (action === 'detach') throw new EvidentError('NOT_FOUND', `policy ${name} is not attached to ${env.name}`);
        const latest = await this.store.environments.latestSnapshot(env.id);
        return { ...(err.value as AttachResult), snapshot: latest ?? null };
      }
      throw err;
    }
  }
}
