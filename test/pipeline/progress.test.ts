import { describe, expect, it } from 'vitest';
import { ProgressDisplay, formatDuration, resultLine } from '../../src/pipeline/index.js';

// The terminal status line and the result lines of `evident run` (seed 003 §3.3).

describe('result lines', () => {
  it('format durations as seed 003 does', () => {
    expect([0, 0.04, 0.1, 2.34, 9.94, 9.96, 15, 45.4, 59.4, 59.6, 68, 222, 3723].map(formatDuration)).toEqual([
      '0.0s', '0.0s', '0.1s', '2.3s', '9.9s', '10s', '15s', '45s', '59s', '1m 0s', '1m 8s', '3m 42s', '1h 2m 3s',
    ]);
  });

  it('read like the seed', () => {
    expect(resultLine('build', { status: 'ok', detail: 'cache miss' }, 45)).toBe('[OK] build (45s) - cache miss');
    expect(resultLine('test', { status: 'ok', detail: 'cache hit (test inputs unchanged)' }, 0.1)).toBe('[OK] test (0.1s) - cache hit (test inputs unchanged)');
    expect(resultLine('build', { status: 'failed', detail: 'exit code 1' }, 2.3)).toBe('[FAIL] build (2.3s) - exit code 1');
    expect(resultLine('deploy', { status: 'skipped', detail: 'needs build, which failed' })).toBe('[SKIP] deploy - needs build, which failed');
  });
});

describe('ProgressDisplay', () => {
  it('draws a status line on stderr, clears it before each result line, and clears it at the end', () => {
    const writes: string[] = [];
    let now = 0;
    const display = new ProgressDisplay({ write: (t: string) => writes.push(t), columns: 60 }, 3, () => now);
    display.started('build');
    now = 12_000;
    display.started('test');
    expect(writes.at(-1)).toMatch(/^\r\x1b\[2K\S 0\/3 done · running: build 12s, test 0s$/);
    const printed: string[] = [];
    display.finished('build', () => printed.push(`line after ${writes.length} writes`));
    // Cleared just before the line, drawn again after it, without build.
    expect(writes.at(-2)).toBe('\r\x1b[2K');
    expect(printed).toEqual([`line after ${writes.length - 1} writes`]);
    expect(writes.at(-1)).toMatch(/1\/3 done · running: test 0s$/);
    display.stop();
    expect(writes.at(-1)).toBe('\r\x1b[2K');
    const count = writes.length;
    display.started('late');
    expect(writes.length).toBe(count); // nothing drawn once stopped
  });

  it('cuts the status line to the terminal width', () => {
    const writes: string[] = [];
    const display = new ProgressDisplay({ write: (t: string) => writes.push(t), columns: 30 }, 9, () => 0);
    display.started('a-very-long-step-name-indeed');
    display.stop();
    const status = writes.find((w) => w.includes('done'))!.replace('\r\x1b[2K', '');
    expect(status.length).toBeLessThanOrEqual(29);
    expect(status.endsWith('…')).toBe(true);
  });
});
