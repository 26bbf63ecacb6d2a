import { EvidentError } from '../../core/index.js';
import type { Deployment, DeploymentWitness, ExpectationRecord, OrgRecord, Store } from '../../store/index.js';
import type { ProjectionCheck, VerifiedEntry } from './projection-check.js';

// Facts that are only shown, not decided, checked against the log like decisions are (projection-check.ts):
// where an artifact ran (`get artifact`'s history) and each flow's last deployment (`list flows`). Both are
// read from rows whoever holds the database can edit (snapshot_artifacts, snapshots, flow_deployments,
// artifacts), so each shown fact is matched with the entries it comes from, all of a page's entries bound to
// the signed root in one batched check:
//   - "fingerprint F runs (with I instances) in snapshot E#N at T": the entry the snapshots row of E#N names
//     is a snapshot of E logged at T, and its running set (its own for a snapshot.created entry; for a policy
//     change, the nearest earlier snapshot.created entry's) lists F (with I instances);
//   - "F is not running in E#N" (a run's start is after it, an exit is at it): the same entry does not list F;
//   - snapshots of one environment have entries in the order of their numbers.
// What the rows leave out cannot be seen here: a later deployment or snapshot whose rows were deleted
// (docs/log.md, "Projections", the completeness gap).

const SNAPSHOT_TYPES = ['snapshot.created', 'policy.attached', 'policy.detached'];
/** Snapshots walked back at most through policy changes to find a running set (bounds one check). */
const MAX_WALK = 1000;

/** One shown fact about a fingerprint in one snapshot, from the rows. */
export interface RunClaim {
  /** The table the fact was read from (named by a TAMPERED error). */
  table: string;
  envId: number;
  envName: string;
  /** The snapshot's number in its environment, and the entry its snapshots row names. */
  index: number;
  entryIndex: number;
  fingerprint: string;
  /** The snapshot's time, when it is shown. */
  time?: string;
  /** Whether the fingerprint is in the snapshot's running set; with the instances shown, when they are. */
  runs: boolean;
  instances?: number;
}

type Body = Record<string, unknown>;
type Logged = { fingerprint?: unknown; instances?: unknown };

/**
 * Checks run claims against the snapshots' entries (`entries`: verified already, in the page's one batch, or
 * read here). The walk back through policy changes reads the snapshots before, one at a time (rare: only a
 * claim about a policy-change snapshot).
 */
export async function checkRunClaims(check: ProjectionCheck, store: Store, org: OrgRecord, claims: readonly RunClaim[], entries?: ReadonlyMap<number, VerifiedEntry>): Promise<void> {
  const verified = entries ?? await check.entries(org, claims.map((c) => c.entryIndex));
  checkOrder(claims);
  const sets = new Map<string, Body | null>();
  for (const c of claims) {
    const body = verified.get(c.entryIndex)?.body ?? (await check.entries(org, [c.entryIndex])).get(c.entryIndex)!.body;
    snapshotOf(org, c, c.entryIndex, body);
    if (c.time !== undefined && body.time !== c.time) throw tampered(c, `its time is ${c.time}, the entry says ${String(body.time)}`);
    const key = `${c.envId}:${c.index}`;
    let set = sets.get(key);
    if (set === undefined) sets.set(key, (set = body.type === 'snapshot.created' ? body : await walkBack(check, store, org, c)));
    const listed = set ? runningIn(set).get(c.fingerprint) ?? [] : [];
    if (!c.runs && listed.length > 0) throw tampered(c, `it says ${c.fingerprint.slice(0, 12)} was not running there; the log says it was`);
    if (c.runs && (listed.length === 0 || (c.instances !== undefined && !listed.includes(c.instances)))) {
      throw tampered(c, `it says ${c.fingerprint.slice(0, 12)} ran there${c.instances === undefined ? '' : ` with ${c.instances} instances`}; the log says ${listed.length === 0 ? 'it did not' : `${String(listed[0])}`}`);
    }
  }
}

/** Each verified snapshot entry's running set by fingerprint (instances), made once per entry body: a page's claims meet the same few snapshots. */
const runningSets = new WeakMap<Body, Map<unknown, unknown[]>>();

function runningIn(body: Body): Map<unknown, unknown[]> {
  let set = runningSets.get(body);
  if (!set) {
    set = new Map();
    for (const a of Array.isArray(body.artifacts) ? (body.artifacts as Logged[]) : []) set.set(a.fingerprint, [...(set.get(a.fingerprint) ?? []), a.instances]);
    runningSets.set(body, set);
  }
  return set;
}

/** The running set a policy-change snapshot holds: the nearest earlier snapshot.created entry's (null: none, an empty set). */
async function walkBack(check: ProjectionCheck, store: Store, org: OrgRecord, c: RunClaim): Promise<Body | null> {
  let index = c.index;
  let last = c.entryIndex;
  for (let walked = 0; walked < MAX_WALK && index > 1; walked++) {
    const before = await store.environments.snapshotByIndex(c.envId, index - 1);
    // A policy change copies the running set of the snapshot before it, which exists (policies.ts).
    if (!before) break;
    if (before.entryIndex >= last) throw tampered(c, `snapshot ${c.envName}#${before.index} names log entry ${before.entryIndex}, not one before entry ${last}`);
    const body = (await check.entries(org, [before.entryIndex])).get(before.entryIndex)!.body;
    snapshotOf(org, c, before.entryIndex, body);
    if (body.type === 'snapshot.created') return body;
    index = before.index;
    last = before.entryIndex;
  }
  throw tampered(c, `no report before snapshot ${c.envName}#${c.index} (a policy change) to derive its running set from`);
}

function snapshotOf(org: OrgRecord, c: RunClaim, entryIndex: number, body: Body): void {
  if (body.org !== org.name || !SNAPSHOT_TYPES.includes(String(body.type)) || body.environment !== c.envName) {
    throw tampered({ ...c, entryIndex }, `the entry is a ${String(body.type)} entry${typeof body.environment === 'string' ? ` of ${body.environment}` : ''}, not a snapshot of ${c.envName}`);
  }
}

/** Within one environment, higher snapshot numbers name later entries (one number per snapshot, given under the log lock). */
function checkOrder(claims: readonly RunClaim[]): void {
  const sorted = [...claims].sort((a, b) => a.envId - b.envId || a.index - b.index);
  sorted.forEach((c, i) => {
    const p = sorted[i - 1];
    if (!p || p.envId !== c.envId) return;
    if (p.index === c.index ? p.entryIndex !== c.entryIndex : p.entryIndex >= c.entryIndex) {
      throw tampered(c, `snapshots ${c.envName}#${p.index} and #${c.index} name log entries ${p.entryIndex} and ${c.entryIndex}, out of order`);
    }
  });
}

/** What `list flows` shows of a flow: its name and its last deployment (from flow_deployments). */
export interface ShownDeployment {
  flowId: number;
  flow: string;
  deployment: Deployment;
}

/**
 * Each shown last deployment checked against the log, in one batched check for the page: a fingerprint of
 * the flow (its `artifact.reported` entry names the flow) began a run in that snapshot (listed in its entry,
 * of that environment and at that time; not in the snapshot before it).
 */
export async function checkLastDeployments(check: ProjectionCheck, store: Store, org: OrgRecord, all: readonly ShownDeployment[]): Promise<void> {
  // Deployments this process proved already, exactly as shown (so a warm page reads nothing more).
  const fact = (s: ShownDeployment) => `deployed ${org.id} ${s.flow} ${s.deployment.envId} ${s.deployment.environment} ${s.deployment.snapshot} ${s.deployment.at}`;
  const shown = all.filter((s) => !check.knows(fact(s)));
  if (shown.length === 0) return;
  const found = await store.records.deploymentWitnesses(org.id, shown.map((s) => ({ flowId: s.flowId, envId: s.deployment.envId, snapshot: s.deployment.snapshot })));
  const witnesses = new Map<string, DeploymentWitness>();
  // One witness per deployment is enough; the same one every time (so a process checks the same entries).
  for (const w of [...found].sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : a.artifactEntry - b.artifactEntry))) {
    const key = `${w.flowId}:${w.envId}:${w.snapshot}`;
    if (!witnesses.has(key)) witnesses.set(key, w);
  }
  const claims: RunClaim[] = [];
  const reports: { s: ShownDeployment; w: DeploymentWitness }[] = [];
  for (const s of shown) {
    const d = s.deployment;
    const w = witnesses.get(`${s.flowId}:${d.envId}:${d.snapshot}`);
    const table = 'flow_deployments';
    if (!w) throw tampered({ table, envName: d.environment, index: d.snapshot, entryIndex: null }, `no artifact of flow ${s.flow} began running in ${d.environment}#${d.snapshot}`);
    // Written out, not spread: a page makes two per flow, and spreading them cost more than the rest of the check.
    claims.push({ table, envId: d.envId, envName: d.environment, index: d.snapshot, entryIndex: w.snapshotEntry, fingerprint: w.fingerprint, time: d.at, runs: true });
    if (w.previousEntry !== null) {
      claims.push({ table, envId: d.envId, envName: d.environment, index: d.snapshot - 1, entryIndex: w.previousEntry, fingerprint: w.fingerprint, time: undefined, runs: false });
    } else if (d.snapshot !== 1) {
      throw tampered({ table, envName: d.environment, index: d.snapshot, entryIndex: w.snapshotEntry }, `there is no snapshot ${d.environment}#${d.snapshot - 1} before it`);
    }
    reports.push({ s, w });
  }
  const entries = await check.entries(org, [...claims.map((c) => c.entryIndex), ...reports.map((r) => r.w.artifactEntry)]);
  for (const { s, w } of reports) {
    const body = entries.get(w.artifactEntry)!.body;
    if (body.type !== 'artifact.reported' || body.org !== org.name || body.flow !== s.flow || body.fingerprint !== w.fingerprint) {
      throw new EvidentError('TAMPERED', `decision refused: the artifacts row of log entry ${w.artifactEntry} was edited: it says ${w.fingerprint.slice(0, 12)} was reported into flow ${s.flow}; the entry is a ${String(body.type)} of ${short(body.fingerprint)} in ${short(body.flow)}`, {
        details: { table: 'artifacts', entry_index: w.artifactEntry, field: 'flow' },
      });
    }
  }
  await checkRunClaims(check, store, org, claims, entries);
  for (const s of shown) check.learn(fact(s));
}

/** Expectations shown in an artifact's history against their `deployment.expected` entries (their numbers: see docs/log.md). */
export function expectationClaims(expected: readonly ExpectationRecord[]) {
  return expected.map((x) => ({
    table: 'expectations', entryIndex: x.entryIndex, types: ['deployment.expected'],
    fields: { environment: x.envName, fingerprint: x.fingerprint, description: x.description, time: x.createdAt },
  }));
}

function short(value: unknown): string {
  return typeof value === 'string' ? value.slice(0, 40) : String(value);
}

/** `entryIndex` null: no entry to name (the rows name none that could say it). */
function tampered(c: Pick<RunClaim, 'table' | 'envName' | 'index'> & { entryIndex: number | null }, message: string): EvidentError {
  const entry = c.entryIndex === null ? '' : ` (log entry ${c.entryIndex})`;
  return new EvidentError('TAMPERED', `decision refused: the ${c.table} row of ${c.envName}#${c.index}${entry} was edited: ${message}`, {
    details: { table: c.table, entry_index: c.entryIndex },
  });
}
