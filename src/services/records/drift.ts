import type { ExpectationRecord, OrgRecord, Store } from '../../store/index.js';
import type { EnvironmentService } from './environments.js';
import { describeSnapshot, type DescribedArtifact } from './snapshot-artifacts.js';
import { projectionCheck } from './projection-check.js';
import { checkedLatestReports } from './snapshot-check.js';

/**
 * Expected versus running (issue #4 item 5). An expectation says "FP is being deployed to E"; for each
 * flow only its latest expectation is what should run now (an older version still running is drift
 * too). Artifacts no flow reported are matched by fingerprint alone. `in_sync` is a verdict: the snapshot,
 * the expectations and the reports that give each fingerprint its flow are checked against their entries first.
 */
export type DriftState = 'running' | 'not-running' | 'superseded-still-running' | 'never-expected';

export interface DriftItem {
  state: DriftState;
  name: string;
  fingerprint: string;
  flow: string | null;
  /** Running instances in the latest snapshot (0 when not running). */
  instances: number;
  /** The deployment expectation (`Deployment #N`), null for an artifact never expected here. */
  expectation: { number: number; description: string; expected_at: string } | null;
}

export interface DriftReport {
  environment: string;
  snapshot: number | null;
  in_sync: boolean;
  items: DriftItem[];
}

/** Pure: the latest expectation per flow against what runs; the order is expected first, then the rest by name. */
export function assessDrift(expectations: readonly ExpectationRecord[], running: readonly DescribedArtifact[], flows: ReadonlyMap<string, { flow: string; name: string }>): DriftItem[] {
  const latestByKey = new Map<string, ExpectationRecord>();
  const expectedFps = new Map<string, ExpectationRecord>();
  for (const x of expectations) {
    latestByKey.set(flows.get(x.fingerprint)?.flow ?? `fp:${x.fingerprint}`, x);
    expectedFps.set(x.fingerprint, x);
  }
  const runningByFp = new Map(running.map((r) => [r.fingerprint, r]));
  const items: DriftItem[] = [];
  const current = new Set<string>();
  for (const x of latestByKey.values()) {
    current.add(x.fingerprint);
    const r = runningByFp.get(x.fingerprint);
    items.push({
      state: r ? 'running' : 'not-running', name: r?.name ?? flows.get(x.fingerprint)?.name ?? x.fingerprint.slice(0, 12), fingerprint: x.fingerprint,
      flow: flows.get(x.fingerprint)?.flow ?? null, instances: r?.instances ?? 0, expectation: expectationJson(x),
    });
  }
  for (const r of [...running].sort((a, b) => a.name.localeCompare(b.name))) {
    if (current.has(r.fingerprint)) continue;
    const x = expectedFps.get(r.fingerprint);
    items.push({
      state: x ? 'superseded-still-running' : 'never-expected', name: r.name, fingerprint: r.fingerprint, flow: r.flow, instances: r.instances,
      expectation: x ? expectationJson(x) : null,
    });
  }
  return items;
}

function expectationJson(x: ExpectationRecord) {
  return { number: x.number, description: x.description, expected_at: x.createdAt };
}

export class DriftService {
  constructor(private readonly store: Store, private readonly environments: EnvironmentService) {}

  async drift(org: OrgRecord, envName: string): Promise<DriftReport> {
    const view = await this.environments.snapshot(org, envName);
    const expectations = await this.environments.expectations(org, envName);
    const described = await describeSnapshot(this.store, org, view);
    const reports = await checkedLatestReports(projectionCheck(this.store), this.store, org, expectations.map((x) => x.fingerprint));
    const flows = new Map([...reports].map(([fp, r]) => [fp, { flow: r.flow, name: r.artifact.name }]));
    const items = assessDrift(expectations, described.artifacts, flows);
    return { environment: view.environment.name, snapshot: view.snapshot?.index ?? null, in_sync: items.every((i) => i.state === 'running'), items };
  }
}
