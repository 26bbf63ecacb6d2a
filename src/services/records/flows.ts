import { EvidentError } from '../../core/index.js';
import type { FlowRecord, OrgRecord, Page, Store } from '../../store/index.js';
import type { LogService } from '../log-service.js';
import { flowOverview, type FlowOverviewQuery, type FlowSummary } from './flow-questions.js';
import { TrailStates } from './trail-states.js';
import { mergeTags, checkTagChange, type TagChange } from './flow-tags.js';
import * as v from './validate.js';
import { IN_THREAD_PARSER, checkTemplate } from './templates.js';
import type { ParsePool } from '../parse-pool.js';

export interface CreateFlowInput {
  name: string;
  description?: string;
  /** A flow template (YAML text, Kosli's `version: 1` format). */
  template?: string | null;
}

/** What a create-or-update did: `unchanged` appended no log entry. */
export type Outcome = 'created' | 'updated' | 'unchanged';

/** Flows: the sticky name of a value stream (DESIGN.md §1). Each change is one log entry. */
export class FlowService {
  /** The latest trails' compliance (`list flows`): the TrailService's, shared in a server (services/bundle.ts). */
  private readonly states: TrailStates;

  constructor(private readonly store: Store, private readonly log: LogService, private readonly parser: ParsePool = IN_THREAD_PARSER, states?: TrailStates) {
    this.states = states ?? new TrailStates(store, log, parser);
  }

  async create(org: OrgRecord, input: CreateFlowInput): Promise<FlowRecord> {
    const p = new v.Problems();
    const name = p.check('name', () => v.name('flow', input.name));
    const description = p.check('description', () => v.text(input.description ?? ''));
    p.throwIfAny('flow');
    // Refused with the line and column of every problem (details: {path, message, line, column}); nothing stored.
    const template = input.template ? (await checkTemplate(this.parser, input.template), input.template) : null;
    const { value } = await this.log.append(
      org, 'flow.created', { flow: name!, description: description!, template: template ?? null },
      (records, e) => records.insertFlow({
        orgId: org.id, name: name!, description: description!, template: template ?? null, createdAt: e.time, archivedAt: null, entryIndex: e.index, tags: {},
      }),
    );
    return value;
  }

  /**
   * Kosli's `create flow` on a flow that exists: what the run states (description, template) replaces what
   * the flow had, as one `flow.updated` entry carrying the flow's new state; what it leaves out is kept, and
   * a run that changes nothing appends nothing (re-runs are cheap and the log stays meaningful).
   */
  async createOrUpdate(org: OrgRecord, input: CreateFlowInput): Promise<{ flow: FlowRecord; outcome: Outcome }> {
    const existing = await this.store.records.flow(org.id, v.name('flow', input.name));
    if (!existing) {
      try {
        return { flow: await this.create(org, input), outcome: 'created' };
      } catch (err) {
        // Created meanwhile by a concurrent run: update it instead.
        if (!(err instanceof EvidentError && err.code === 'CONFLICT')) throw err;
        return this.createOrUpdate(org, input);
      }
    }
    const p = new v.Problems();
    const description = input.description === undefined ? existing.description : p.check('description', () => v.text(input.description!));
    p.throwIfAny('flow');
    const template = input.template ? (await checkTemplate(this.parser, input.template), input.template) : existing.template;
    if (description === existing.description && template === existing.template) return { flow: existing, outcome: 'unchanged' };
    if (existing.archivedAt) throw new EvidentError('CONFLICT', `flow ${existing.name} is archived: it cannot be updated`);
    const { value } = await this.log.append(
      org, 'flow.updated', { flow: existing.name, description: description!, template: template ?? null },
      (records, e) => records.updateFlow(existing.id, { description: description!, template: template ?? null }, e.index),
    );
    return { flow: value, outcome: 'updated' };
  }

  async get(org: OrgRecord, name: string): Promise<FlowRecord> {
    const flow = await this.store.records.flow(org.id, v.name('flow', name));
    if (!flow) throw new EvidentError('NOT_FOUND', `flow ${JSON.stringify(name)} does not exist in organisation ${org.name}`);
    return flow;
  }

  list(org: OrgRecord, cursor: string | null, limit: number, includeArchived = false): Promise<Page<FlowRecord>> {
    return this.store.records.flows(org.id, cursor, limit, includeArchived);
  }

  /**
   * `evident tag flow NAME --set k=v --unset k`: one `flow.tagged` entry carrying the change; the new tags are
   * merged under the log lock, so concurrent taggings of one flow do not lose each other's keys. A change that
   * changes nothing writes nothing.
   */
  async tag(org: OrgRecord, name: string, change: TagChange): Promise<FlowRecord> {
    const checked = checkTagChange(change);
    const flow = await this.get(org, name);
    if (sameTags(mergeTags(flow.tags, checked), flow.tags)) return flow;
    await this.log.append(org, 'flow.tagged', { flow: flow.name, set: checked.set, unset: checked.unset }, async (records, e) => {
      const current = await records.flow(org.id, flow.name);
      await records.setFlowTags(flow.id, mergeTags(current?.tags ?? {}, checked), e.index);
    });
    return this.get(org, name);
  }

  /** Tags of many flows in one query, by flow name (absent flows are left out): for policy conditions `flow.tags.<key>`. */
  async tags(org: OrgRecord, flowNames: readonly string[]): Promise<Map<string, Record<string, string>>> {
    const flows = await this.store.records.flowsByName(org.id, flowNames);
    return new Map(flows.map((f) => [f.name, f.tags]));
  }

  /** `list flows` with each flow's last deployment and latest trail's compliance, sortable and filterable (flow-questions.ts). */
  overview(org: OrgRecord, query: FlowOverviewQuery): Promise<Page<FlowSummary>> {
    return flowOverview(this.store, org, query, this.states);
  }

  async archive(org: OrgRecord, name: string): Promise<FlowRecord> {
    const flow = await this.get(org, name);
    if (flow.archivedAt) return flow;
    await this.log.append(org, 'flow.archived', { flow: flow.name }, (records, e) => records.archiveFlow(flow.id, e.time, e.index));
    return this.get(org, name);
  }
}

function sameTags(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => b[k] === a[k]);
}
