import { EvidentError } from '../../core/index.js';
import { attestationTypeProblem, type ComplianceState } from '../../formats/index.js';
import type { Deployment, FlowRecord, OrgRecord, Page, Store, TrailRecord } from '../../store/index.js';
import { projectionCheck } from './projection-check.js';
import { checkLastDeployments } from './shown-runs.js';
import type { TrailStates } from './trail-states.js';

// Seed 000's first two questions, answered by `evident list flows`: "which of our 32 pipelines last deployed,
// where and when?" (each flow's last deployment, sortable) and "which pipelines don't have Snyk scanning?"
// (`--missing-attestation-type snyk`). Every page costs a fixed number of queries, whatever its size, and
// O(flows) work: each latest trail's compliance is kept (TrailStates), not recomputed from its attestations.

export const FLOW_SORTS = ['name', 'last-deployment', 'compliance'] as const;
export type FlowSort = (typeof FLOW_SORTS)[number];

export interface FlowOverviewQuery {
  cursor?: string | null;
  limit?: number;
  includeArchived?: boolean;
  /** Default: oldest first. */
  sort?: FlowSort;
  /** Only flows whose latest trail recorded no attestation of this type (a flow without trails lacks every type). */
  missingAttestationType?: string;
}

export interface FlowSummary {
  flow: FlowRecord;
  /** The latest snapshot in which one of the flow's artifacts started running; null if none ever ran. */
  lastDeployment: Deployment | null;
  /** The last-begun trail; null for a flow without trails. */
  latestTrail: TrailRecord | null;
  /** The latest trail's state against the template it began with; null without a trail. */
  compliance: ComplianceState | null;
}

const WORST_FIRST: Record<string, number> = { 'NON-COMPLIANT': 0, INCOMPLETE: 1, COMPLIANT: 2, none: 3 };

/**
 * Summaries of the given flows: three queries (latest trails, deployments, the head) for any number, plus one
 * batched read of the latest trails whose compliance is not kept (TrailStates: checked rows, kept while the
 * subject map says nothing new is about the trail) — so O(flows), not O(attestations of their latest trails).
 */
export async function summarize(store: Store, org: OrgRecord, flows: readonly FlowRecord[], states: TrailStates): Promise<{ summaries: FlowSummary[]; types: Map<number, ReadonlySet<string>> }> {
  const ids = flows.map((f) => f.id);
  const [trails, deployments] = await Promise.all([store.records.latestTrails(ids), store.records.lastDeployments(org.id, ids)]);
  const flowName = new Map(flows.map((f) => [f.id, f.name]));
  const kept = await states.of(org, [...trails.values()].map((trail) => ({ flow: flowName.get(trail.flowId) ?? '', trail })));
  const types = new Map<number, ReadonlySet<string>>();
  const summaries = flows.map((flow) => {
    const trail = trails.get(flow.id) ?? null;
    const state = trail ? kept.get(trail.id)! : null;
    types.set(flow.id, state?.types ?? new Set());
    return { flow, latestTrail: trail, lastDeployment: deployments.get(flow.id) ?? null, compliance: state ? state.compliance.state : null };
  });
  return { summaries, types };
}

export async function flowOverview(store: Store, org: OrgRecord, query: FlowOverviewQuery, states: TrailStates): Promise<Page<FlowSummary>> {
  const limit = query.limit ?? 100;
  const missing = query.missingAttestationType;
  if (missing !== undefined) {
    const problem = missing === '*' ? 'give one type, not *' : attestationTypeProblem(missing);
    if (problem) throw new EvidentError('INVALID_ARGUMENT', `--missing-attestation-type: ${problem}`, { details: [{ path: 'missing_attestation_type', message: problem }] });
  }
  if (query.sort === undefined && missing === undefined) {
    // The plain listing stays keyset-paginated by id: only this page's flows are summarized.
    const page = await store.records.flows(org.id, query.cursor ?? null, limit, query.includeArchived ?? false);
    const items = (await summarize(store, org, page.items, states)).summaries;
    await checkShown(store, org, items);
    return { items, nextCursor: page.nextCursor };
  }
  // A sort or filter needs every flow's summary (an org has tens to thousands of flows: still a few queries).
  const flows: FlowRecord[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.records.flows(org.id, cursor, 1000, query.includeArchived ?? false);
    flows.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  const { summaries, types } = await summarize(store, org, flows, states);
  const selected = missing === undefined ? summaries : summaries.filter((s) => !types.get(s.flow.id)!.has(missing));
  selected.sort(comparator(query.sort ?? 'name'));
  const offset = decodeOffset(query.cursor ?? null);
  const items = selected.slice(offset, offset + limit);
  await checkShown(store, org, items);
  return { items, nextCursor: offset + limit < selected.length ? encodeOffset(offset + limit) : null };
}

/**
 * The last deployments a page shows, checked against the log (shown-runs.ts): one batched check of the page's
 * entries, O(page). A sorted listing orders by every flow's row, checked or not: a row edited to move a flow
 * is refused on the page that shows it (one deleted is the completeness gap, docs/log.md).
 */
async function checkShown(store: Store, org: OrgRecord, items: readonly FlowSummary[]): Promise<void> {
  const shown = items.flatMap((s) => (s.lastDeployment ? [{ flowId: s.flow.id, flow: s.flow.name, deployment: s.lastDeployment }] : []));
  await checkLastDeployments(projectionCheck(store), store, org, shown);
}

function comparator(sort: FlowSort): (a: FlowSummary, b: FlowSummary) => number {
  const byName = (a: FlowSummary, b: FlowSummary) => (a.flow.name < b.flow.name ? -1 : a.flow.name > b.flow.name ? 1 : 0);
  if (sort === 'last-deployment') {
    // Most recent first; flows never deployed last.
    return (a, b) => (b.lastDeployment?.at ?? '').localeCompare(a.lastDeployment?.at ?? '') || byName(a, b);
  }
  if (sort === 'compliance') return (a, b) => WORST_FIRST[a.compliance ?? 'none']! - WORST_FIRST[b.compliance ?? 'none']! || byName(a, b);
  return byName;
}

// A sorted listing pages by position: opaque to clients, and told apart from the keyset cursors of the plain one.
function encodeOffset(offset: number): string {
  return Buffer.from(JSON.stringify(['offset', offset])).toString('base64url');
}

function decodeOffset(cursor: string | null): number {
  if (cursor === null) return 0;
  try {
    const parts: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parts) && parts[0] === 'offset' && Number.isSafeInteger(parts[1]) && (parts[1] as number) >= 0) return parts[1] as number;
  } catch {
    // fall through
  }
  throw new EvidentError('INVALID_ARGUMENT', 'invalid cursor', { details: [{ path: 'cursor', message: 'not a cursor of this sorted listing' }] });
}
