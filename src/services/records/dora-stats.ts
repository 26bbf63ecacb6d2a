import { bucketOf, buckets, days, type DoraBucket, type DoraWindow } from './dora-window.js';

// The figures of DORA metrics from a window's deployments (docs/metrics.md). Pure.

export interface DoraStats {
  deployments: number;
  deployments_per_day: number;
  /** Over `count` deployments; `invalid` ones had a commit time later than the deployment (bad data), left out. */
  lead_time_seconds: { median: number | null; p90: number | null; count: number; invalid: number };
  change_failure_rate: { non_compliant: number; judged: number; rate: number | null };
  /**
   * From each change failure (a deployment that started non-compliant) to the next deployment of the same
   * flow (the same artifact name when unreported) that started compliant, in a later snapshot of the window;
   * `unrestored`: failures with none yet.
   */
  time_to_restore_seconds: { median: number | null; p90: number | null; count: number; unrestored: number };
}

export interface DoraDeployment {
  /** Null for an artifact never reported into a flow. */
  flow: string | null;
  artifact: string;
  fingerprint: string;
  git_commit: string | null;
  commit_time: string | null;
  deployed_at: string;
  snapshot: number;
  /** Negative when the commit time is later than the deployment: bad data, left out of the figures. */
  lead_time_seconds: number | null;
  /** Against the policies attached at that snapshot; null when none was (not judged). */
  compliant: boolean | null;
}

export interface DoraSeriesPoint {
  start: string;
  end: string;
  deployments: number;
  lead_time_median_seconds: number | null;
  by_flow: Record<string, number>;
}

export interface DoraReport {
  environment: string;
  since: string;
  until: string;
  bucket: DoraBucket;
  overall: DoraStats;
  flows: (DoraStats & { flow: string })[];
  series: DoraSeriesPoint[];
  /** A page of the window's deployments, newest first (dora-page.ts); the figures above cover the whole window. */
  deployments: DoraDeployment[];
  /** Where the next page starts (`cursor`); null on the last page. */
  next_cursor: string | null;
}

/**
 * The nearest-rank percentile: the smallest value with at least p % of the values at or below it (the
 * value of rank ceil(p/100 × n) in ascending order). Always one of the values; null for none.
 */
export function nearestRank(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1]!;
}

function leadTimes(deployments: readonly DoraDeployment[]): number[] {
  return deployments.map((d) => d.lead_time_seconds).filter((t): t is number => t !== null && t >= 0).sort((a, b) => a - b);
}

/**
 * Time to restore from the deployments alone (DORA's "failed deployment recovery time"): Evident records no
 * incidents, but it knows which deployments started non-compliant and when a compliant version of the same
 * flow replaced them. Each failure counts from its own deployment; several failures before one compliant
 * deployment are all restored by it. Ordered by snapshot (log order), not by clock.
 */
function restoreTimes(deployments: readonly DoraDeployment[], time: (iso: string) => number): { times: number[]; unrestored: number } {
  const byFlow = new Map<string, DoraDeployment[]>();
  for (const d of deployments) {
    const key = d.flow === null ? `artifact ${d.artifact}` : `flow ${d.flow}`;
    const list = byFlow.get(key);
    if (list) list.push(d);
    else byFlow.set(key, [d]);
  }
  const times: number[] = [];
  let unrestored = 0;
  for (const list of byFlow.values()) {
    // Failures wait in snapshot order (they are met in it): the ones before a compliant deployment's snapshot
    // are a prefix, restored by it; those of its own snapshot stay.
    let pending: DoraDeployment[] = [];
    for (const d of [...list].sort((a, b) => a.snapshot - b.snapshot)) {
      if (d.compliant === true) {
        let n = 0;
        while (n < pending.length && pending[n]!.snapshot < d.snapshot) n++;
        if (n === 0) continue;
        for (let i = 0; i < n; i++) times.push(Math.max(0, Math.round((time(d.deployed_at) - time(pending[i]!.deployed_at)) / 1000)));
        pending = pending.slice(n);
      } else if (d.compliant === false) {
        pending.push(d);
      }
    }
    unrestored += pending.length;
  }
  return { times: times.sort((a, b) => a - b), unrestored };
}

/** Date.parse, remembered: a snapshot's deployments share its time (issue #21: a window can hold 100,000). */
function timeParser(): (iso: string) => number {
  const known = new Map<string, number>();
  return (iso) => {
    let t = known.get(iso);
    if (t === undefined) known.set(iso, (t = Date.parse(iso)));
    return t;
  };
}

function stats(deployments: readonly DoraDeployment[], span: number, time: (iso: string) => number): DoraStats {
  const lead = leadTimes(deployments);
  const judged = deployments.filter((d) => d.compliant !== null);
  const nonCompliant = judged.filter((d) => d.compliant === false).length;
  const restore = restoreTimes(deployments, time);
  return {
    deployments: deployments.length,
    deployments_per_day: deployments.length / span,
    lead_time_seconds: {
      median: nearestRank(lead, 50), p90: nearestRank(lead, 90), count: lead.length,
      invalid: deployments.filter((d) => d.lead_time_seconds !== null && d.lead_time_seconds < 0).length,
    },
    change_failure_rate: { non_compliant: nonCompliant, judged: judged.length, rate: judged.length === 0 ? null : nonCompliant / judged.length },
    time_to_restore_seconds: { median: nearestRank(restore.times, 50), p90: nearestRank(restore.times, 90), count: restore.times.length, unrestored: restore.unrestored },
  };
}

/**
 * Overall, per flow (deployments of never-reported artifacts count overall only) and per bucket. The
 * deployments must lie in the window.
 */
export function aggregate(deployments: readonly DoraDeployment[], window: DoraWindow): Pick<DoraReport, 'overall' | 'flows' | 'series'> & { deployments: DoraDeployment[] } {
  const span = days(window);
  const time = timeParser();
  const flows = [...new Set(deployments.map((d) => d.flow).filter((f): f is string => f !== null))].sort();
  const list = buckets(window);
  const perBucket = list.map(() => [] as DoraDeployment[]);
  for (const d of deployments) perBucket[bucketOf(list, time(d.deployed_at))]!.push(d);
  return {
    overall: stats(deployments, span, time),
    flows: flows.map((f) => ({ flow: f, ...stats(deployments.filter((d) => d.flow === f), span, time) })),
    series: list.map((b, i) => {
      const these = perBucket[i]!;
      const byFlow: Record<string, number> = {};
      for (const d of these) if (d.flow !== null) byFlow[d.flow] = (byFlow[d.flow] ?? 0) + 1;
      return {
        start: b.start.toISOString(), end: b.end.toISOString(), deployments: these.length,
        lead_time_median_seconds: nearestRank(leadTimes(these), 50), by_flow: byFlow,
      };
    }),
    deployments: [...deployments],
  };
}
