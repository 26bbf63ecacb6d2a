// The result lines of `evident run`, exactly in the form of seed 003 §3.3:
//   [OK] build (45s) - cache miss
//   [OK] build (45s) - cache miss (inputs changed)
//   [OK] test (0.1s) - cache hit
//   [OK] test (0.1s) - cache hit (test inputs unchanged)
// plus `[FAIL] build (2.3s) - exit code 1` and `[SKIP] deploy - needs build, which failed`. Pure.

/** `0.1s`, `2.3s` under ten seconds; `45s` under a minute; `3m 42s`; `1h 2m 3s` (seed 003 §3.3, §8.2). */
export function formatDuration(secs: number): string {
  if (!(secs >= 0)) secs = 0;
  if (secs < 9.95) return `${secs.toFixed(1)}s`;
  const whole = Math.round(secs);
  if (whole < 60) return `${whole}s`;
  const [h, m, s] = [Math.floor(whole / 3600), Math.floor((whole % 3600) / 60), whole % 60];
  return h > 0 ? `${h}h ${m}m ${s}s` : `${m}m ${s}s`;
}

export type StepOutcome =
  | { status: 'ok'; detail: string }
  | { status: 'failed'; detail: string }
  | { status: 'skipped'; detail: string };

export function resultLine(name: string, outcome: StepOutcome, durationSecs?: number): string {
  if (outcome.status === 'skipped') return `[SKIP] ${name} - ${outcome.detail}`;
  const tag = outcome.status === 'ok' ? '[OK]' : '[FAIL]';
  return `${tag} ${name} (${formatDuration(durationSecs ?? 0)}) - ${outcome.detail}`;
}

/** The last line of a run, on stderr: `200 ok (200 from cache), 0 failed, 0 skipped in 0.2s`. */
export function runSummary(r: { steps: number; hits: number; failed: number; skipped: number; totalSecs: number; evicted: number }): string {
  const evicted = r.evicted > 0 ? `; ${r.evicted} cache entr${r.evicted === 1 ? 'y' : 'ies'} evicted` : '';
  return `${r.steps - r.failed} ok (${r.hits} from cache), ${r.failed} failed, ${r.skipped} skipped in ${formatDuration(r.totalSecs)}${evicted}`;
}
