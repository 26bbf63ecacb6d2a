import { parse } from 'yaml';
import { EvidentError } from '../../core/index.js';
import type { FlowRecord, OrgRecord, Page, Store } from '../../store/index.js';
import type { LogService } from '../log-service.js';
import * as v from './validate.js';

export interface CreateFlowInput {
  name: string;
  description?: string;
  /** A flow template (YAML text, Kosli's `version: 1` format). */
  template?: string | null;
}

/** Flows: the sticky name of a value stream (DESIGN.md §1). Each change is one log entry. */
export class FlowService {
  constructor(private readonly store: Store, private readonly log: LogService) {}

  async create(org: OrgRecord, input: CreateFlowInput): Promise<FlowRecord> {
    const p = new v.Problems();
    const name = p.check('name', () => v.name('flow', input.name));
    const description = p.check('description', () => v.text(input.description ?? ''));
    const template = input.template ? p.check('template', () => checkTemplate(input.template!)) : null;
    p.throwIfAny('flow');
    const { value } = await this.log.append(
      org, 'flow.created', { flow: name!, description: description!, template: template ?? null },
      (records, e) => records.insertFlow({
        orgId: org.id, name: name!, description: description!, template: template ?? null, createdAt: e.time, archivedAt: null, entryIndex: e.index,
      }),
    );
    return value;
  }

  async get(org: OrgRecord, name: string): Promise<FlowRecord> {
    const flow = await this.store.records.flow(org.id, v.name('flow', name));
    if (!flow) throw new EvidentError('NOT_FOUND', `flow ${JSON.stringify(name)} does not exist in organisation ${org.name}`);
    return flow;
  }

  list(org: OrgRecord, cursor: string | null, limit: number, includeArchived = false): Promise<Page<FlowRecord>> {
    return this.store.records.flows(org.id, cursor, limit, includeArchived);
  }

  async archive(org: OrgRecord, name: string): Promise<FlowRecord> {
    const flow = await this.get(org, name);
    if (flow.archivedAt) return flow;
    await this.log.append(org, 'flow.archived', { flow: flow.name }, (records, e) => records.archiveFlow(flow.id, e.time));
    return this.get(org, name);
  }
}

/** The template is stored as given; it must at least be a YAML mapping (its rules are checked by policies). */
function checkTemplate(text: string): string {
  if (text.length > 256 * 1024) throw new EvidentError('INVALID_ARGUMENT', 'template is larger than 256 KiB');
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new EvidentError('INVALID_ARGUMENT', `template is not valid YAML: ${(err as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new EvidentError('INVALID_ARGUMENT', 'template must be a YAML mapping');
  return text;
}
