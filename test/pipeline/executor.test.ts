import { describe, expect, it } from 'vitest';
import { Slots, schedule } from '../../src/pipeline/executor.js';
import { exists, read, run, workspace } from './runner-helpers.js';

// The executor (issue #6 item 2): parallel up to --jobs, stop on the first failure or --keep-going, steps
// downstream of a failure skipped. Concurrency is read from what the commands wrote, never from the clock.

/** The largest number of steps between their "start" and "end" lines in `events`. */
function maxConcurrency(events: string): number {
  let running = 0;
  let max = 0;
  for (const line of events.trim().split('\n')) {
    running += line.startsWith('start ') ? 1 : -1;
    max = Math.max(max, running);
  }
  return max;
}

// Each step waits (up to 2 s) until three steps have started. With two slots the first two wait together
// for a third that cannot start before one of them ends: they always overlap, and a third never joins them.
// Were the bound not kept, the third would start within those 2 s and the count would exceed 2.
const meeting = (name: string) =>
  `echo "start ${name}" >> events; i=0; while [ "$(grep -c '^start' events)" -lt 3 ] && [ $i -lt 40 ]; do sleep 0.05; i=$((i+1)); done; echo "end ${name}" >> events`;

describe('schedule', () => {
  it('runs no more processes than --jobs at a time, and does run that many', async () => {
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    const dir = workspace(`version: "0.1"\nname: p\nsteps:\n${names.map((n) => `  ${n}: { run: ${JSON.stringify(meeting(n))} }`).join('\n')}\n`);
    const result = await run(dir, { jobs: 2 });
    expect(result.record.ok).toBe(true);
    const events = read(dir, 'events');
    expect(events.trim().split('\n')).toHaveLength(12);
    expect(maxConcurrency(events)).toBe(2);
  });

  it('with --jobs 1 runs one at a time', async () => {
    const dir = workspace(`version: "0.1"\nname: p\nsteps:\n${['a', 'b', 'c'].map((n) => `  ${n}: { run: "echo start ${n} >> events; echo end ${n} >> events" }`).join('\n')}\n`);
    await run(dir, { jobs: 1 });
    expect(maxConcurrency(read(dir, 'events'))).toBe(1);
  });

  it('starts a step only after everything it needs has succeeded', async () => {
    const dir = workspace(`version: "0.1"
name: p
steps:
  a: { run: "sleep 0.2; echo a >> order" }
  b: { run: "echo b >> order" }
  c: { run: "echo c >> order", needs: [a, b] }
  d: { run: "echo d >> order", needs: [c] }
`);
    await run(dir, { jobs: 4 });
    const order = read(dir, 'order').trim().split('\n');
    expect(order.slice(2)).toEqual(['c', 'd']);
    expect(order.slice(0, 2).sort()).toEqual(['a', 'b']);
  });

  // `fail` fails once `slow` has started; `slow` is still running then and must be allowed to finish.
  const FAILING = `version: "0.1"
name: p
steps:
  slow: { run: "touch slow.started; sleep 0.5; touch slow.done" }
  fail: { run: "while [ ! -f slow.started ]; do sleep 0.02; done; exit 3" }
  after-slow: { run: "touch after-slow.done", needs: [slow] }
  after-fail: { run: "touch after-fail.done", needs: [fail] }
  after-after: { run: "touch after-after.done", needs: [after-fail] }
`;

  it('stops on the first failure: running steps finish, no new step starts, exit code kept', async () => {
    const dir = workspace(FAILING);
    const result = await run(dir, { jobs: 2 });
    expect(result.record.ok).toBe(false);
    expect(exists(dir, 'slow.done')).toBe(true);
    expect(exists(dir, 'after-slow.done')).toBe(false);
    expect(exists(dir, 'after-fail.done')).toBe(false);
    expect(result.detail).toEqual({
      slow: 'cache miss',
      fail: 'exit code 3',
      'after-slow': 'not started: the run stopped after fail failed',
      'after-fail': 'needs fail, which failed',
      'after-after': 'needs fail, which failed',
    });
    expect(result.record.steps.find((s) => s.name === 'fail')).toMatchObject({ exitCode: 3, outputs: [] });
    expect(result.record.steps.map((s) => s.name).sort()).toEqual(['fail', 'slow']);
    expect(result.lines).toContain('[SKIP] after-fail - needs fail, which failed');
    expect(result.lines.some((l) => /^\[FAIL\] fail \(\d+\.\ds\) - exit code 3$/.test(l))).toBe(true);
  });

  it('with --keep-going runs everything not downstream of the failure', async () => {
    const dir = workspace(FAILING);
    const result = await run(dir, { jobs: 2, keepGoing: true });
    expect(result.record.ok).toBe(false);
    expect(exists(dir, 'after-slow.done')).toBe(true);
    expect(exists(dir, 'after-fail.done')).toBe(false);
    expect(exists(dir, 'after-after.done')).toBe(false);
    expect(result.detail['after-slow']).toBe('cache miss');
    expect(result.detail['after-after']).toBe('needs fail, which failed');
  });

  it('keeps each step output (stdout and stderr) in .evident/logs/<step>.log', async () => {
    const dir = workspace('version: "0.1"\nname: p\nsteps:\n  talk: { run: "echo out; echo err >&2; echo $GREETING $WHO" , env: { WHO: world } }\nenv: { GREETING: hello }\n');
    await run(dir);
    expect(read(dir, '.evident/logs/talk.log')).toBe('out\nerr\nhello world\n');
  });

  it('reports a command killed by a signal, a missing declared input and a missing declared output as failures', async () => {
    const dir = workspace('version: "0.1"\nname: p\nsteps:\n  killed: { run: "kill -TERM $$" }\n  needs-file: { run: "true", inputs: [missing.txt, "src/"] }\n  lazy: { run: "true", outputs: [never.txt] }\n');
    const result = await run(dir, { keepGoing: true });
    expect(result.detail.killed).toBe('killed by SIGTERM');
    expect(result.record.steps.find((s) => s.name === 'killed')!.exitCode).toBe(143);
    expect(result.detail['needs-file']).toBe('input "missing.txt", "src/" not found');
    expect(result.detail.lazy).toBe('declared output "never.txt" was not produced');
  });
});

describe('attestation.verify_dependencies', () => {
  it("fails a step whose needed step's outputs changed after that step made them", async () => {
    const yaml = (verify: boolean) => `version: "0.1"
name: p
attestation: { verify_dependencies: ${verify} }
steps:
  make: { run: "echo good > made.txt", outputs: [made.txt] }
  meddle: { run: "echo bad >> made.txt", needs: [make], cache: false }
  use: { run: "cat made.txt > used.txt", needs: [make, meddle], cache: false }
`;
    const checked = await run(workspace(yaml(true)));
    expect(checked.detail.use).toBe('output made.txt of make changed after make made it (attestation.verify_dependencies)');
    const unchecked = await run(workspace(yaml(false)));
    expect(unchecked.detail.use).toBe('cache disabled (cache: false)');
  });
});

describe('Slots', () => {
  it('hands out at most n slots, in order, and nothing once stopped', async () => {
    const slots = new Slots(2);
    const a = await slots.acquire();
    const b = await slots.acquire();
    let third: unknown = 'pending';
    const waiting = slots.acquire().then((r) => (third = r));
    await Promise.resolve();
    expect(third).toBe('pending');
    a!();
    await waiting;
    expect(typeof third).toBe('function');
    const fourth = slots.acquire();
    slots.stop();
    expect(await fourth).toBeUndefined();
    expect(await slots.acquire()).toBeUndefined();
    b!();
  });

  it('schedule() counts a throwing task as failed and skips what needs it', async () => {
    const seen: string[] = [];
    const result = await schedule(['a', 'b', 'c'], new Map([['b', ['a']], ['c', []]]), async (name) => {
      seen.push(name);
      if (name === 'a') throw new Error('boom');
      return 'ok';
    }, { jobs: 2, keepGoing: true });
    expect(result.failed).toEqual(['a']);
    expect([...result.skipped]).toEqual([['b', 'needs a, which failed']]);
    expect(seen.sort()).toEqual(['a', 'c']);
  });
});
