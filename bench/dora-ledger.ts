// DORA's ledger in isolation (issue #21, docs/performance.md "Scale, seventh round"): builds a ledger of synthetic
// deployments in memory — no database, no verification, only what a request computes once the ledger is there — and
// times a request's figures for the default 30-day window, by the pass over the window's deployments (as before the
// seventh round: dora-stats.ts aggregate) and from the index (dora-index.ts), and the index's build and memory.
//
//   node --expose-gc dist/bench/dora-ledger.js [--sizes 100000,1000000] [--samples 30] [--flows 50]
//
// Two layouts per size: "year" (the deployments over 365 days: the window holds 1/12 of them) and "month" (all of
// them in the window, as in bench:scale, whose snapshots are minutes apart). Every tenth deployment is judged
// non-compliant, every tenth not judged, so times to restore have failures to pair.
import { performance } from 'node:perf_hooks';
import { DoraLedger } from '../src/services/records/dora-ledger.js';
import { pageDeployments } from '../src/services/records/dora-page.js';
import { aggregate } from '../src/services/records/dora-stats.js';
import { doraWindow } from '../src/services/records/dora-window.js';
import type { RunStart } from '../src/store/index.js';
import { percentile, round } from './stats.js';
import { benchArgs } from './bench-args.js';

const { values } = benchArgs(import.meta.url, { options: { sizes: { type: 'string', default: '100000,1000000' }, samples: { type: 'string', default: '30' }, flows: { type: 'string', default: '50' } } });
const samples = Number(values.samples);
const FLOWS = Number(values.flows);
const DAY = 86_400_000;
const NOW = Date.parse('2026-12-01T00:00:00Z');
const gc = (globalThis as { gc?: () => void }).gc;
const heap = () => {
  gc?.();
  gc?.();
  // Typed arrays (the index's) are held outside the JavaScript heap: counted apart.
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

function build(n: number, days: number): DoraLedger {
  const ledger = new DoraLedger();
  const perSnapshot = 40;
  const snapshots = Math.ceil(n / perSnapshot);
  let made = 0;
  for (let s = 1; s <= snapshots && made < n; s++) {
    const at = new Date(NOW - days * DAY + Math.floor(((s - 1) / snapshots) * days * DAY)).toISOString();
    const starts: RunStart[] = [];
    for (let j = 0; j < perSnapshot && made < n; j++, made++) {
      // Each fingerprint deployed twice (to two snapshots), as a rollout that restarts: n/2 distinct fingerprints.
      const f = (made >> 1).toString(16).padStart(64, '0');
      starts.push({ index: s, createdAt: at, entryIndex: s, fingerprint: f, name: `svc-${(made >> 1) % FLOWS}` });
    }
    starts.sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : 1));
    for (const f of ledger.unattributed(starts)) {
      const i = parseInt(f.slice(-12), 16);
      ledger.attribute(f, { flow: `svc-${i % FLOWS}`, gitCommit: null, commitTime: new Date(Date.parse(at) - (1 + (i % 97)) * 3_600_000).toISOString() });
    }
    ledger.append(starts, starts.map((_, j) => ((made - starts.length + j) % 10 === 3 ? false : (made - starts.length + j) % 10 === 7 ? null : true)), s);
  }
  return ledger;
}

function time(fn: () => unknown, runs: number): { p50: number; p99: number } {
  const t: number[] = [];
  gc?.(); // the garbage of the run before is not this one's
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  return { p50: round(percentile(t, 50), 2), p99: round(percentile(t, 99), 2) };
}

const window = doraWindow({}, new Date(NOW));
const since = window.since.getTime();
const until = window.until.getTime();
const pass = (l: DoraLedger, flow?: string) => {
  const all = l.window(since, until, flow);
  return { ...aggregate(all, window), ...pageDeployments(all, undefined, 100) };
};

for (const n of values.sizes.split(',').map(Number)) {
  for (const [layout, days] of [['year', 365], ['month', 30]] as const) {
    const h0 = heap();
    const ledger = build(n, days);
    const h1 = heap();
    const t0 = performance.now();
    const first = ledger.report(window, undefined, undefined, 100)!;
    const buildMs = performance.now() - t0;
    const h2 = heap();
    const inWindow = first.overall.deployments;
    if (JSON.stringify(first) !== JSON.stringify(pass(ledger))) throw new Error('the index and the pass disagree');
    const before = time(() => pass(ledger), Math.max(3, Math.min(samples, Math.round(2e6 / Math.max(1, inWindow)))));
    const after = time(() => ledger.report(window, undefined, undefined, 100), samples);
    const beforeFlow = time(() => pass(ledger, 'svc-1'), Math.max(3, Math.min(samples, Math.round(2e6 / Math.max(1, inWindow)))));
    const afterFlow = time(() => ledger.report(window, 'svc-1', undefined, 100), samples);
    // Re-attribution: one fingerprint reported again into another flow (its commit time the same: the next request
    // refreshes the two flows), then with another commit time (the all-deployments group too).
    const f = ledger.deployments.at(-1)!.fingerprint;
    const was = ledger.attribution.get(f)!;
    ledger.attribute(f, { ...was, flow: 'svc-moved' });
    const r0 = performance.now();
    ledger.report(window, undefined, undefined, 100);
    const moveMs = performance.now() - r0;
    ledger.attribute(f, { ...was, flow: 'svc-moved', commitTime: null });
    const r1 = performance.now();
    ledger.report(window, undefined, undefined, 100);
    const commitMs = performance.now() - r1;
    const r2 = performance.now();
    ledger.report(window, undefined, undefined, 100);
    const afterMs = performance.now() - r2;
    console.log(
      `${n.toLocaleString()} deployments (${layout}: ${inWindow.toLocaleString()} in the 30-day window)\n` +
        `  pass over the window (before)  p50 ${before.p50} ms  p99 ${before.p99} ms;  --flow svc-1 p50 ${beforeFlow.p50} ms  p99 ${beforeFlow.p99} ms\n` +
        `  index (after)                  p50 ${after.p50} ms  p99 ${after.p99} ms;  --flow svc-1 p50 ${afterFlow.p50} ms  p99 ${afterFlow.p99} ms\n` +
        `  index build (first request) ${round(buildMs, 1)} ms; a request after a re-attribution: to another flow ${round(moveMs, 1)} ms, ` +
        `with another commit time ${round(commitMs, 1)} ms, the next one ${round(afterMs, 1)} ms\n` +
        (gc ? `  heap + array buffers: ledger ${round((h1 - h0) / n, 1)} B/deployment, index ${round((h2 - h1) / n, 1)} B/deployment (counted by the index: ${round(ledger.indexBytes() / n, 1)})\n` : '  (run with --expose-gc for the memory figures)\n'),
    );
  }
}
