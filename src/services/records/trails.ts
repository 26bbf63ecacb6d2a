import { EvidentError } from '../../core/index.js';
import { parseFlowTemplate, type TrailCompliance } from '../../formats/index.js';
import type { FlowRecord, OrgRecord, Page, Store, TrailRecord } from '../../store/index.js';
import type { LogService } from '../log-service.js';
import { trailContentClaims } from './fact-claims.js';
import { projectionCheck } from './projection-check.js';
import { complianceOfTrail } from './trail-compliance.js';
import * as v from './validate.js';

export interface BeginTrailInput {
  flow: string;
  name: string;
  description?: string;
  gitCommit?: string | null;
  commitUrl?: string | null;
  originUrl?: string | null;
  userData?: unknown;
  /** Overrides the flow's template for this trail. */
  template?: string | null;
}

const USER_DATA_MAX = 64 * 1024;

/** Trails: one run of a flow, named by the user (commit, PR, release). Keeps its own copy of the template. */
export class TrailService {
  private readonly found = new Map<string, { flow: FlowRecord; trail: TrailRecord }>();

  constructor(private readonly store: Store, private readonly log: LogService) {}

  async begin(org: OrgRecord, input: BeginTrailInput): Promise<TrailRecord> {
    const p = new v.Problems();
    p.check('flow', () => v.name('flow', input.flow));
    const name = p.check('name', () => v.name('trail', input.name));
    const description = p.check('description', () => v.text(input.description ?? ''));
    const gitCommit = p.check('git_commit', () => v.optional(input.gitCommit, v.commit));
    const commitUrl = p.check('commit_url', () => v.optional(input.commitUrl, v.url));
    const originUrl = p.check('origin_url', () => v.optional(input.originUrl, v.url));
    if (input.userData !== undefined && JSON.stringify(input.userData).length > USER_DATA_MAX) p.add('user_data', 'larger than 64 KiB');
    p.throwIfAny('trail');
    // An override is refused with the line and column of each problem, and nothing is stored.
    if (input.template) parseFlowTemplate(input.template);
    const flow = await this.flow(org, input.flow);
    if (flow.archivedAt) throw new EvidentError('CONFLICT', `flow ${flow.name} is archived: no new trails`);
    // The trail keeps its own copy: changing the flow's template later does not change what this trail is judged by.
    const template = input.template || flow.template;
    const { value } = await this.log.append(
      org, 'trail.begun',
      { flow: flow.name, trail: name!, description: description!, git_commit: gitCommit ?? null, commit_url: commitUrl ?? null,
        origin_url: originUrl ?? null, user_data: input.userData ?? null, template: template ?? null },
      (records, e) => records.insertTrail({
        orgId: org.id, flowId: flow.id, name: name!, description: description!, gitCommit: gitCommit ?? null, commitUrl: commitUrl ?? null,
        originUrl: originUrl ?? null, userData: input.userData ?? null, template: template ?? null, createdAt: e.time, entryIndex: e.index,
      }),
    );
    return value;
  }

  async flow(org: OrgRecord, name: string): Promise<FlowRecord> {
    const flow = await this.store.records.flow(org.id, v.name('flow', name));
    if (!flow) throw new EvidentError('NOT_FOUND', `flow ${JSON.stringify(name)} does not exist in organisation ${org.name}`);
    return flow;
  }

  /**
   * Trails are never renamed or deleted, so a found (flow, trail) pair is remembered: every attestation
   * looks one up. The flow's archived state may be stale here; beginning a trail reads it afresh.
   */
  async get(org: OrgRecord, flowName: string, name: string): Promise<{ flow: FlowRecord; trail: TrailRecord }> {
    const key = `${org.id}\u0000${flowName}\u0000${name}`;
    const cached = this.found.get(key);
    if (cached) return cached;
    const { flow, trail } = await this.store.records.flowAndTrail(org.id, v.name('flow', flowName), v.name('trail', name));
    if (!flow) throw new EvidentError('NOT_FOUND', `flow ${JSON.stringify(flowName)} does not exist in organisation ${org.name}`);
    if (!trail) throw new EvidentError('NOT_FOUND', `trail ${JSON.stringify(name)} does not exist in flow ${flow.name}`);
    if (this.found.size >= 10_000) this.found.clear();
    this.found.set(key, { flow, trail });
    return { flow, trail };
  }

  /** The trail against the template it began with: its state, each requirement's status, unexpected attestations. */
  async compliance(org: OrgRecord, flow: string, trail: TrailRecord): Promise<TrailCompliance> {
    const { artifacts, attestations } = await this.store.records.contentsOfTrails([trail.id]);
    await projectionCheck(this.store).rows(org, trailContentClaims(flow, trail, artifacts, attestations));
    return complianceOfTrail(trail, artifacts, attestations);
  }

  async list(org: OrgRecord, flowName: string, cursor: string | null, limit: number): Promise<Page<TrailRecord>> {
    const flow = await this.flow(org, flowName);
    return this.store.records.trails(flow.id, cursor, limit);
  }
}
