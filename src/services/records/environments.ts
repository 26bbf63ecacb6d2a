import { EvidentError } from '../../core/index.js';
import type { EnvironmentRecord, ExpectationRecord, OrgRecord, Page, RunningArtifact, SnapshotRecord, Store } from '../../store/index.js';
import { systemClock, type Clock } from '../clock.js';
import type { LogService } from '../log-service.js';
import { parseSnapshotExpr } from './snapshot-expr.js';
import { belowCursor, parseEventCursor, planEventPage, type EnvironmentEvent } from './environment-events.js';
import { projectionCheck } from './projection-check.js';
import { checkEnvironment, checkExpectations, checkSnapshot, checkSnapshots } from './snapshot-check.js';
import * as v from './validate.js';
import type { Outcome } from './flows.js';

export type { EnvironmentEvent } from './environment-events.js';

export const ENVIRONMENT_TYPES = ['k8s', 'ecs', 'docker', 'lambda', 's3', 'server', 'azure-apps', 'logical'] as const;

export interface CreateEnvironmentInput {
  name: string;
  type: string;
  description?: string;
  includedEnvironments?: string[];
  includeScaling?: boolean;
}

export interface ReportedArtifact {
  name: string;
  fingerprint: string;
  instances: number;
}

export interface SnapshotView {
  environment: EnvironmentRecord;
  /** Null for a logical environment (a union has no number of its own) or an environment never reported. */
  snapshot: SnapshotRecord | null;
  artifacts: (RunningArtifact & { runningSince: string })[];
}

const MAX_ARTIFACTS = 100_000;

/** Environments and their snapshots (DESIGN.md §1 Observe): snapshot N+1 exists only when the running set changed. */
export class EnvironmentService {
  constructor(private readonly store: Store, private readonly log: LogService, private readonly clock: Clock = systemClock) {}

  async create(org: OrgRecord, input: CreateEnvironmentInput): Promise<EnvironmentRecord> {
    const p = new v.Problems();
    const name = p.check('name', () => v.name('environment', input.name));
    if (!(ENVIRONMENT_TYPES as readonly string[]).includes(input.type)) p.add('type', `must be one of ${ENVIRONMENT_TYPES.join(', ')}`);
    const description = p.check('description', () => v.text(input.description ?? ''));
    const included = input.type === 'logical' ? (input.includedEnvironments ?? []) : null;
    if (input.type !== 'logical' && input.includedEnvironments?.length) p.add('included_environments', 'only a logical environment includes others');
    p.throwIfAny('environment');
    for (const inc of included ?? []) {
      const e = await this.get(org, inc);
      if (e.type === 'logical') throw new EvidentError('INVALID_ARGUMENT', `logical environment ${inc} cannot be included in another`);
    }
    const includeScaling = input.includeScaling ?? true;
    const { value } = await this.log.append(
      org, 'environment.created', { environment: name!, environment_type: input.type, description: description!, included_environments: included, include_scaling: includeScaling },
      (records, e) => records.environments.insertEnvironment({
        orgId: org.id, name: name!, type: input.type, description: description!, included, includeScaling, createdAt: e.time, archivedAt: null, entryIndex: e.index,
      }),
    );
    return value;
  }

  /**
   * Kosli's `create environment` on one that exists: description, included environments and scaling as the
   * run states them (left out: kept), as one `environment.updated` entry with the new state; nothing is
   * appended when nothing changes. Its type cannot change: its snapshots were taken as that type.
   */
  async createOrUpdate(org: OrgRecord, input: CreateEnvironmentInput): Promise<{ environment: EnvironmentRecord; outcome: Outcome }> {
    const existing = await this.store.environments.environment(org.id, v.name('environment', input.name));
    if (!existing) {
      try {
        return { environment: await this.create(org, input), outcome: 'created' };
      } catch (err) {
        if (!(err instanceof EvidentError && err.code === 'CONFLICT' && /already exists/.test(err.message))) throw err;
        return this.createOrUpdate(org, input);
      }
    }
    if (input.type !== existing.type) {
      throw new EvidentError('CONFLICT', `environment ${existing.name} is of type ${existing.type}, not ${input.type}: a type cannot change (archive it and create another)`);
    }
    const p = new v.Problems();
    const description = input.description === undefined ? existing.description : p.check('description', () => v.text(input.description!))!;
    if (existing.type !== 'logical' && input.includedEnvironments?.length) p.add('included_environments', 'only a logical environment includes others');
    p.throwIfAny('environment');
    const included = existing.type === 'logical' && input.includedEnvironments !== undefined ? input.includedEnvironments : existing.included;
    for (const inc of existing.type === 'logical' && included !== existing.included ? included ?? [] : []) {
      const e = await this.get(org, inc);
      if (e.type === 'logical') throw new EvidentError('INVALID_ARGUMENT', `logical environment ${inc} cannot be included in another`);
    }
    const includeScaling = input.includeScaling ?? existing.includeScaling;
    if (description === existing.description && includeScaling === existing.includeScaling && JSON.stringify(included) === JSON.stringify(existing.included)) {
      return { environment: existing, outcome: 'unchanged' };
    }
    if (existing.archivedAt) throw new EvidentError('CONFLICT', `environment ${existing.name} was archived at ${existing.archivedAt}: it cannot be updated`);
    const { value } = await this.log.append(
      org, 'environment.updated', { environment: existing.name, environment_type: existing.type, description, included_environments: included, include_scaling: includeScaling },
      (records, e) => records.environments.updateEnvironment(existing.id, { description, included, includeScaling }, e.index),
    );
    return { environment: value, outcome: 'updated' };
  }

  async get(org: OrgRecord, name: string): Promise<EnvironmentRecord> {
    const env = await this.store.environments.environment(org.id, v.name('environment', name));
    if (!env) throw new EvidentError('NOT_FOUND', `environment ${JSON.stringify(name)} does not exist in organisation ${org.name}`);
    await checkEnvironment(projectionCheck(this.store), org, env);
    return env;
  }

  async list(org: OrgRecord, includeArchived = false): Promise<EnvironmentRecord[]> {
    const all = await this.store.environments.environments(org.id);
    return includeArchived ? all : all.filter((e) => !e.archivedAt);
  }

  /**
   * A reporter's full current state. A new snapshot is logged only if it differs from the latest: a
   * fingerprint started or stopped, or (with scaling on) an instance count changed.
   */
  async report(org: OrgRecord, envName: string, artifacts: ReportedArtifact[]): Promise<{ created: boolean; snapshot: SnapshotRecord | null }> {
    const env = await this.get(org, envName);
    if (env.type === 'logical') throw new EvidentError('INVALID_ARGUMENT', `${env.name} is a logical environment: report to the environments it includes`);
    if (env.archivedAt) throw new EvidentError('CONFLICT', `environment ${env.name} was archived at ${env.archivedAt}: it takes no new snapshots`);
    const state = normalise(artifacts);
    // Fast path outside the log lock: most reports (a reporter runs every minute) change nothing.
    const latest = await this.store.environments.latestSnapshot(env.id);
    if (latest && sameState(await this.store.environments.runningIn(latest.id), state, env.includeScaling)) return { created: false, snapshot: latest };
    if (!latest && state.length === 0) return { created: false, snapshot: null };
    try {
      const { value } = await this.log.append(
        org, 'snapshot.created', { environment: env.name, artifacts: state.map((a) => ({ name: a.name, fingerprint: a.fingerprint, instances: a.instances })) },
        async (records, e) => {
          // Compared again under the lock: two reporters racing with the same state make one snapshot, not two.
          const previous = await records.environments.latestState(env.id);
          if (previous ? sameState(previous.running, state, env.includeScaling) : state.length === 0) throw new Unchanged(previous?.snapshot ?? null);
          return records.environments.insertSnapshot(org.id, env.id, state, e.time, e.index, previous);
        },
      );
      return { created: true, snapshot: value };
    } catch (err) {
      if (err instanceof Unchanged) return { created: false, snapshot: err.latest };
      throw err;
    }
  }

  /** An archived environment keeps its snapshots and history, leaves `list environments` and takes no reports. */
  async archive(org: OrgRecord, envName: string): Promise<EnvironmentRecord> {
    const env = await this.get(org, envName);
    if (env.archivedAt) return env;
    const { value } = await this.log.append(org, 'environment.archived', { environment: env.name }, async (records, e) => {
      await records.environments.archiveEnvironment(env.id, e.time, e.index);
      return e.time;
    });
    return { ...env, archivedAt: value };
  }

  /** "Artifact FP is being deployed to ENV": lets Evident say what should be running (and flag drift). */
  async expect(org: OrgRecord, envName: string, fingerprint: string, description = ''): Promise<ExpectationRecord> {
    const env = await this.get(org, envName);
    if (env.type === 'logical') throw new EvidentError('INVALID_ARGUMENT', `${env.name} is a logical environment: expect deployments to the environments it includes`);
    const fp = v.fingerprint(fingerprint);
    const text = v.text(description);
    const { value } = await this.log.append(
      org, 'deployment.expected', { environment: env.name, fingerprint: fp, description: text },
      (records, e) => records.environments.insertExpectation(org.id, env.id, env.name, fp, text, e.time, e.index),
    );
    return value;
  }

  /** Every deployment expectation of the environment, in order, each checked against its entry (drift's verdict rests on them). */
  async expectations(org: OrgRecord, envName: string): Promise<ExpectationRecord[]> {
    const env = await this.get(org, envName);
    const list = await this.store.environments.expectations(org.id, { envId: env.id });
    await checkExpectations(projectionCheck(this.store), org, env, list);
    return list;
  }

  async snapshots(org: OrgRecord, envName: string, cursor: string | null, limit: number): Promise<{ environment: EnvironmentRecord; page: Page<SnapshotRecord> }> {
    const environment = await this.get(org, envName);
    return { environment, page: await this.store.environments.snapshots(environment.id, cursor, limit) };
  }

  /**
   * `evident log environment`: what started, stopped or scaled in each snapshot, from comparing each snapshot
   * with the one before. Pages of at most `limit` events, newest page first, whole snapshots at a time (see
   * planEventPage for the one split), events oldest first within a page. A page costs its snapshots' running
   * sets and the one before them, whatever the length of the history (issue #21), and their log entries (one
   * batched read): a row edited on disk is TAMPERED, not an event.
   */
  async events(org: OrgRecord, envName: string, cursor: string | null = null, limit = 100): Promise<Page<EnvironmentEvent>> {
    const { items, nextCursor } = await this.eventPage(org, envName, cursor, limit);
    return { items, nextCursor };
  }

  /**
   * events(), with what it read: the environment and the page's snapshots (oldest first) with their running
   * sets, each checked against its log entry — what a verdict per snapshot is then computed from. Snapshots
   * read past the page only to find where it ends are neither checked nor shown.
   */
  async eventPage(org: OrgRecord, envName: string, cursor: string | null = null, limit = 100): Promise<Page<EnvironmentEvent> & {
    environment: EnvironmentRecord; snapshots: { snapshot: SnapshotRecord; running: RunningArtifact[] }[];
  }> {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new EvidentError('INVALID_ARGUMENT', 'limit must be a whole number >= 1');
    const position = parseEventCursor(cursor);
    const env = await this.get(org, envName);
    const reader = this.store.environments;
    const plan = await planEventPage({
      read: async (top, count) => {
        const snaps = (await reader.snapshots(env.id, top === null ? null : belowCursor(top + 1), count)).items;
        const running = await reader.runningInSnapshots(snaps.map((s) => s.id));
        return snaps.map((snapshot) => ({ snapshot, running: running.get(snapshot.id)! }));
      },
    }, position, limit);
    const shown = [...(plan.previous ? [plan.previous] : []), ...plan.snapshots];
    // What is shown as having started or stopped rests on the snapshots' log entries, not on their rows alone.
    await checkSnapshots(projectionCheck(this.store), this.store, org, env, shown.map((s) => s.snapshot), new Map(shown.map((s) => [s.snapshot.id, s.running])));
    return {
      items: plan.snapshots.flatMap((s) => s.events), nextCursor: plan.nextCursor, environment: env,
      snapshots: plan.snapshots.map(({ snapshot, running }) => ({ snapshot, running })),
    };
  }

  /** Resolves `env`, `env#N`, `env~N`, `env@{time}` to one snapshot with what ran in it. */
  async snapshot(org: OrgRecord, expr: string): Promise<SnapshotView> {
    const e = parseSnapshotExpr(expr, this.clock.now());
    const env = await this.get(org, e.env);
    if (env.type === 'logical') {
      if (e.kind !== 'latest') throw new EvidentError('INVALID_ARGUMENT', `${env.name} is logical: only its current state (${env.name}) can be asked for`);
      const parts = await Promise.all((env.included ?? []).map((name) => this.snapshot(org, name)));
      return { environment: env, snapshot: null, artifacts: parts.flatMap((p) => p.artifacts) };
    }
    const reader = this.store.environments;
    let snap: SnapshotRecord | undefined;
    if (e.kind === 'latest') snap = await reader.latestSnapshot(env.id);
    else if (e.kind === 'index') snap = await reader.snapshotByIndex(env.id, e.index);
    else if (e.kind === 'back') {
      const latest = await reader.latestSnapshot(env.id);
      snap = latest && latest.index - e.back >= 1 ? await reader.snapshotByIndex(env.id, latest.index - e.back) : undefined;
    } else snap = await reader.snapshotAt(env.id, e.time);
    if (!snap) {
      if (e.kind === 'latest') return { environment: env, snapshot: null, artifacts: [] };
      throw new EvidentError('NOT_FOUND', `no snapshot ${expr} of environment ${env.name}`);
    }
    const running = await reader.runningIn(snap.id);
    // Every use of a snapshot (assert snapshot, release plans, drift, compliance) rests on its log entry.
    await checkSnapshot(projectionCheck(this.store), this.store, org, env, snap, running);
    const since = await reader.snapshotTimes(env.id, running.map((r) => r.sinceIndex));
    return { environment: env, snapshot: snap, artifacts: running.map((r) => ({ ...r, runningSince: since.get(r.sinceIndex) ?? snap.createdAt })) };
  }
}

/** Validates and merges a reported state: one entry per fingerprint (instances summed), sorted. */
function normalise(artifacts: ReportedArtifact[]): ReportedArtifact[] {
  if (!Array.isArray(artifacts) || artifacts.length > MAX_ARTIFACTS) throw new EvidentError('INVALID_ARGUMENT', `artifacts must be a list of at most ${MAX_ARTIFACTS}`);
  const p = new v.Problems();
  const byFp = new Map<string, ReportedArtifact>();
  artifacts.forEach((a, i) => {
    const fp = p.check(`artifacts/${i}/fingerprint`, () => v.fingerprint(a?.fingerprint));
    const name = p.check(`artifacts/${i}/name`, () => v.text(a?.name, 512));
    if (!Number.isSafeInteger(a?.instances) || a.instances < 1) p.add(`artifacts/${i}/instances`, 'must be a whole number >= 1');
    if (fp === undefined || name === undefined) return;
    const prev = byFp.get(fp);
    byFp.set(fp, { fingerprint: fp, name: prev?.name ?? name, instances: (prev?.instances ?? 0) + (Number(a.instances) || 0) });
  });
  p.throwIfAny('snapshot');
  return [...byFp.values()].sort((x, y) => (x.fingerprint < y.fingerprint ? -1 : 1));
}

/** Thrown inside the log transaction to roll back a snapshot identical to the latest. */
class Unchanged extends Error {
  constructor(readonly latest: SnapshotRecord | null) {
    super('the running state is unchanged');
  }
}

function sameState(running: RunningArtifact[], next: ReportedArtifact[], scaling: boolean): boolean {
  if (running.length !== next.length) return false;
  const counts = new Map(running.map((r) => [r.fingerprint, r.instances]));
  return next.every((a) => counts.has(a.fingerprint) && (!scaling || counts.get(a.fingerprint) === a.instances));
}
