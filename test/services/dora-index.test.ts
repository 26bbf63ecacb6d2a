import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DoraLedger } from '../../src/services/records/dora-ledger.js';
import { pageDeployments } from '../../src/services/records/dora-page.js';
import { aggregate } from '../../src/services/records/dora-stats.js';
import { kth, RankSeq, type Part } from '../../src/services/records/dora-wavelet.js';
import type { RunStart } from '../../src/store/index.js';

// The ledger's index (issue #21, seventh round), without a database: many random histories, attributions that
// change after the index was built, windows and flows — the indexed report must be exactly what the pass over
// the window gives (dora-stats.ts aggregate and dora-page.ts pageDeployments, the figures as they were).

const H = 3_600_000;
const T0 = Date.parse('2026-11-01T00:00:00Z');

describe('RankSeq and kth', () => {
  it('the k-th smallest over ranges of several sequences is the sorted union’s k-th (property)', () => {
    const value = fc.oneof(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 0xffffffff }));
    fc.assert(fc.property(
      fc.array(fc.record({ values: fc.array(value, { maxLength: 400 }), bulk: fc.nat({ max: 400 }), a: fc.nat(), b: fc.nat() }), { minLength: 1, maxLength: 4 }),
      (seqs) => {
        const parts: Part[] = [];
        const expected: number[] = [];
        for (const s of seqs) {
          const seq = new RankSeq();
          // Part of it built in bulk (as a rebuild does), the rest appended (as the ledger grows).
          const bulk = Math.min(s.bulk, s.values.length);
          seq.startBulk();
          s.values.slice(0, bulk).forEach((v) => seq.append(v));
          seq.seal();
          s.values.slice(bulk).forEach((v) => seq.append(v));
          expect(seq.length).toBe(s.values.length);
          const n = s.values.length;
          const [from, to] = [s.a % (n + 1), s.b % (n + 1)].sort((x, y) => x - y) as [number, number];
          seq.parts(from, to, parts);
          expected.push(...s.values.slice(from, to));
        }
        expected.sort((x, y) => x - y);
        for (let k = 0; k < expected.length; k += Math.max(1, Math.floor(expected.length / 7))) expect(kth(parts, k)).toBe(expected[k]);
        if (expected.length > 0) expect(kth(parts, expected.length - 1)).toBe(expected.at(-1));
      },
    ), { numRuns: 300 });
  });
});

type Attr = { flow: string; gitCommit: string | null; commitTime: string | null } | null;

const attribution: fc.Arbitrary<Attr> = fc.oneof(
  fc.constant(null),
  fc.record({
    flow: fc.constantFrom('f1', 'f2', 'f3'),
    gitCommit: fc.constantFrom(null, 'c'.repeat(40)),
    // Hours before T0, or after (a negative lead time: invalid), or none.
    commitTime: fc.option(fc.integer({ min: -200, max: 2000 }).map((h) => new Date(T0 - h * H + 17_000).toISOString()), { nil: null }),
  }),
);

const step = fc.record({
  /** Hours after the previous snapshot (0: the same time). */
  gap: fc.nat({ max: 30 }),
  running: fc.uniqueArray(fc.nat({ max: 7 }), { maxLength: 5 }),
  verdict: fc.array(fc.constantFrom(true, false, null), { minLength: 8, maxLength: 8 }),
});

const change = fc.record({ after: fc.nat({ max: 30 }), fp: fc.nat({ max: 3 }), to: attribution });

const query = fc.record({ from: fc.integer({ min: -10, max: 600 }), span: fc.integer({ min: 1, max: 700 }), flow: fc.constantFrom(undefined, 'f1', 'f2', 'f3', 'f9'), bucket: fc.constantFrom('day' as const, 'week' as const), limit: fc.integer({ min: 1, max: 6 }) });

describe('DoraLedger report (indexed) against the pass over the window', () => {
  it('equals aggregate + pageDeployments for random histories, re-attributions and windows (property)', () => {
    fc.assert(fc.property(
      fc.array(step, { minLength: 1, maxLength: 40 }), fc.array(attribution, { minLength: 8, maxLength: 8 }), fc.array(change, { maxLength: 16 }),
      fc.array(query, { minLength: 1, maxLength: 4 }), fc.array(fc.nat({ max: 30 }), { maxLength: 6 }),
      (steps, attrs, changes, queries, askAt) => {
        const ledger = new DoraLedger();
        const fp = (i: number) => i.toString(16).padStart(64, '0');
        let t = T0;
        const check = () => {
          for (const q of queries) {
            const window = { since: new Date(T0 + q.from * H), until: new Date(T0 + (q.from + q.span) * H), bucket: q.bucket };
            const got = ledger.report(window, q.flow, undefined, q.limit);
            const all = ledger.window(window.since.getTime(), window.until.getTime(), q.flow);
            const { deployments: _all, ...expected } = aggregate(all, window);
            const page = pageDeployments(all, undefined, q.limit);
            expect(got).toEqual({ ...expected, ...page });
            expect(JSON.stringify(got)).toBe(JSON.stringify({ ...expected, ...page }));
            if (page.next_cursor) expect(ledger.report(window, q.flow, page.next_cursor, q.limit)).toEqual({ ...expected, ...pageDeployments(all, page.next_cursor, q.limit) });
          }
        };
        steps.forEach((s, i) => {
          t += s.gap * H;
          const starts: RunStart[] = s.running.map((r) => ({ index: i + 1, createdAt: new Date(t).toISOString(), entryIndex: i + 1, fingerprint: fp(r), name: `a${r % 4}` }));
          starts.sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : 1));
          for (const f of ledger.unattributed(starts)) ledger.attribute(f, attrs[parseInt(f, 16)]!);
          ledger.append(starts, starts.map((x) => s.verdict[parseInt(x.fingerprint, 16)]!), i + 1);
          for (const c of changes) if (c.after === i && ledger.attribution.has(fp(c.fp))) ledger.attribute(fp(c.fp), c.to);
          if (askAt.includes(i)) check();
        });
        check();
        // Built once; re-attributions refresh what they touch, appends extend it.
        expect(ledger.builds).toBe(1);
      },
    ), { numRuns: 400 });
  });

  it('extends its index with appends and builds it again only when an attribution that counts changes', () => {
    const ledger = new DoraLedger();
    const window = { since: new Date(T0 - 48 * H), until: new Date(T0 + 48 * H), bucket: 'day' as const };
    const start = (i: number, f: string): RunStart => ({ index: i, createdAt: new Date(T0 + i * H).toISOString(), entryIndex: i, fingerprint: f, name: 'app' });
    ledger.attribute('a', { flow: 'f1', gitCommit: null, commitTime: new Date(T0 - H).toISOString() });
    ledger.append([start(1, 'a')], [false], 1);
    expect(ledger.report(window, undefined, undefined, 10)!.flows.map((f) => f.flow)).toEqual(['f1']);
    ledger.attribute('b', { flow: 'f1', gitCommit: null, commitTime: null });
    ledger.append([start(2, 'b')], [true], 2);
    const r = ledger.report(window, 'f1', undefined, 10)!;
    expect(r.overall.time_to_restore_seconds).toEqual({ median: 3600, p90: 3600, count: 1, unrestored: 0 });
    expect(ledger.builds).toBe(1);
    // The same flow and commit time again (another git commit): nothing the index holds changes.
    ledger.attribute('a', { flow: 'f1', gitCommit: 'd'.repeat(40), commitTime: new Date(T0 - H).toISOString() });
    expect(ledger.report(window, undefined, undefined, 10)!.deployments.map((d) => d.git_commit)).toEqual([null, 'd'.repeat(40)]);
    expect([ledger.builds, ledger.refreshes]).toEqual([1, 0]);
    // Into another flow: its failure is no longer restored by f1's deployment.
    ledger.attribute('a', { flow: 'f2', gitCommit: null, commitTime: new Date(T0 - H).toISOString() });
    const moved = ledger.report(window, undefined, undefined, 10)!;
    expect([ledger.builds, ledger.refreshes]).toEqual([1, 1]);
    expect(moved.flows.map((f) => [f.flow, f.time_to_restore_seconds.unrestored])).toEqual([['f1', 0], ['f2', 1]]);
    // Moved twice between two requests, deployed again in between (indexed under the flow it had then): that flow
    // is refreshed too.
    ledger.attribute('a', { flow: 'f3', gitCommit: null, commitTime: new Date(T0 - H).toISOString() });
    ledger.append([start(3, 'a')], [false], 3);
    ledger.attribute('a', { flow: 'f4', gitCommit: null, commitTime: new Date(T0 - H).toISOString() });
    const twice = ledger.report(window, undefined, undefined, 10)!;
    expect(twice.flows.map((f) => [f.flow, f.deployments])).toEqual([['f1', 1], ['f4', 2]]);
    expect([ledger.builds, ledger.refreshes]).toEqual([1, 2]);
  });
});
