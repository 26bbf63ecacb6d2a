import { Group, type DoraIndex, type Failures } from './dora-index.js';
import type { DoraReport, DoraStats } from './dora-stats.js';
import { percentileOf, type Part } from './dora-wavelet.js';
import { buckets, days, type DoraWindow } from './dora-window.js';

// A window's figures from the ledger's index (issue #21, docs/performance.md "Scale, seventh round"): the same
// figures as dora-stats.ts `aggregate` computes from the window's deployments (the property test in
// test/services/dora-ledger.test.ts holds them equal), in O(log n) per figure: binary searches for the counts,
// a k-th smallest over ranges for medians and p90s. A request costs O((flows + failure keys) × log n × bits)
// plus O(buckets × flows × log n) for the series, whatever the number of deployments in the window. Pure.

/** The first position whose deployment is at or after `t` (the ledger sorted by time: a monotonic ledger). */
export function positionOf(list: readonly { at: number }[], t: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.at < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const EMPTY = new Group(false);

function stats(g: Group, keys: readonly (Failures | undefined)[], lo: number, hi: number, span: number): DoraStats {
  const [a, b] = g.range(lo, hi);
  const judged = g.judged.get(b) - g.judged.get(a);
  const nonCompliant = g.nonCompliant.get(b) - g.nonCompliant.get(a);
  const lead = g.leadParts(lo, hi);
  const restoredParts: Part[] = [];
  let restored = 0;
  let unrestored = 0;
  for (const k of keys) {
    if (!k) continue;
    const w = k.window(lo, hi, restoredParts);
    restored += w.restored;
    unrestored += w.failures - w.restored;
  }
  return {
    deployments: b - a,
    deployments_per_day: (b - a) / span,
    lead_time_seconds: {
      median: percentileOf(lead.parts, lead.count, 50), p90: percentileOf(lead.parts, lead.count, 90), count: lead.count,
      invalid: g.invalid.get(b) - g.invalid.get(a),
    },
    change_failure_rate: { non_compliant: nonCompliant, judged, rate: judged === 0 ? null : nonCompliant / judged },
    time_to_restore_seconds: {
      median: percentileOf(restoredParts, restored, 50), p90: percentileOf(restoredParts, restored, 90), count: restored, unrestored,
    },
  };
}

/**
 * Overall (of one flow when `flow` is given), per flow present in the window, and per bucket; and the group
 * whose deployments the list pages, with the window's positions.
 */
export function figures(index: DoraIndex, list: readonly { at: number }[], window: DoraWindow, flow: string | undefined): Pick<DoraReport, 'overall' | 'flows' | 'series'> & { group: Group; lo: number; hi: number } {
  const span = days(window);
  const lo = positionOf(list, window.since.getTime());
  const hi = positionOf(list, window.until.getTime());
  const group = flow === undefined ? index.all : (index.flows.get(flow) ?? EMPTY);
  const keys = flow === undefined ? [...index.keys.values()] : [index.keys.get(`flow ${flow}`)];
  const names = flow === undefined ? [...index.flows.keys()] : index.flows.has(flow) ? [flow] : [];
  const present = names.filter((f) => {
    const [a, b] = index.flows.get(f)!.range(lo, hi);
    return b > a;
  }).sort();
  const series = buckets(window).map((bucket) => {
    const from = Math.max(lo, positionOf(list, bucket.start.getTime()));
    const to = Math.min(hi, positionOf(list, bucket.end.getTime()));
    const [a, b] = group.range(from, to);
    const lead = group.leadParts(from, to);
    // by_flow in the order the old pass met the flows: by each flow's first deployment in the bucket.
    const met: [number, string, number][] = [];
    for (const f of present) {
      const g = index.flows.get(f)!;
      const [fa, fb] = g.range(from, to);
      if (fb > fa) met.push([g.pos.get(fa), f, fb - fa]);
    }
    met.sort((x, y) => x[0] - y[0]);
    const byFlow: Record<string, number> = {};
    for (const [, f, n] of met) byFlow[f] = n;
    return {
      start: bucket.start.toISOString(), end: bucket.end.toISOString(), deployments: b - a,
      lead_time_median_seconds: percentileOf(lead.parts, lead.count, 50), by_flow: byFlow,
    };
  });
  return {
    overall: stats(group, keys, lo, hi, span),
    flows: present.map((f) => ({ flow: f, ...stats(index.flows.get(f)!, [index.keys.get(`flow ${f}`)], lo, hi, span) })),
    series,
    group, lo, hi,
  };
}
