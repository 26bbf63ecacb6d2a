import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';

// The executor (issue #6 item 2): runs the steps of a DAG, each once everything it needs has succeeded,
// as many commands at a time as `--jobs` allows. On a failure it either stops (running commands finish,
// no new one starts) or, with --keep-going, runs everything that does not need the failed step. Cache
// hits take no job slot: a task asks for a slot only when it is about to start a process.

/** Job slots for processes. `acquire` resolves to a release function, or undefined once the run stopped. */
export class Slots {
  private free: number;
  private waiting: ((release: (() => void) | undefined) => void)[] = [];
  private stopped = false;

  constructor(jobs: number) {
    this.free = Math.max(1, Math.floor(jobs));
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  acquire(): Promise<(() => void) | undefined> {
    if (this.stopped) return Promise.resolve(undefined);
    if (this.free > 0) {
      this.free--;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiting.shift();
      if (next) next(this.releaser());
      else this.free++;
    };
  }

  /** No new process starts; tasks waiting for a slot get undefined. */
  stop(): void {
    this.stopped = true;
    for (const w of this.waiting.splice(0)) w(undefined);
  }
}

export type TaskResult = 'ok' | 'failed' | 'not-started';

export interface ScheduleOptions {
  jobs: number;
  keepGoing: boolean;
}

export interface ScheduleResult {
  /** Steps that did not run, with why: `needs build, which failed` or `not started: …`. */
  skipped: Map<string, string>;
  failed: string[];
}

/**
 * Runs `task` for each step of `order` (a topological order) once its needs have succeeded. `task` must not
 * throw; a throw counts as a failure.
 */
export async function schedule(
  order: readonly string[],
  needs: ReadonlyMap<string, readonly string[]>,
  task: (name: string, slots: Slots) => Promise<TaskResult>,
  options: ScheduleOptions,
): Promise<ScheduleResult> {
  const slots = new Slots(options.jobs);
  const waitingOn = new Map(order.map((n) => [n, (needs.get(n) ?? []).length]));
  const dependents = new Map<string, string[]>(order.map((n) => [n, []]));
  for (const n of order) for (const need of needs.get(n) ?? []) dependents.get(need)?.push(n);
  const position = new Map(order.map((n, i) => [n, i]));
  const skipped = new Map<string, string>();
  const failed: string[] = [];
  const started = new Set<string>();
  let firstFailure: string | undefined;

  const skipDownstream = (from: string, reason: string) => {
    const stack = [...(dependents.get(from) ?? [])];
    while (stack.length > 0) {
      const d = stack.pop()!;
      if (skipped.has(d) || started.has(d)) continue;
      skipped.set(d, reason);
      stack.push(...(dependents.get(d) ?? []));
    }
  };

  return new Promise((resolve) => {
    let running = 0;
    const finish = () => {
      for (const n of order) {
        if (!started.has(n) && !skipped.has(n)) skipped.set(n, `not started: the run stopped after ${firstFailure ?? 'a failure'} failed`);
      }
      resolve({ skipped, failed });
    };
    const launch = (name: string) => {
      started.add(name);
      running++;
      task(name, slots)
        .catch((): TaskResult => 'failed')
        .then((result) => {
          running--;
          if (result === 'ok') {
            const ready = (dependents.get(name) ?? []).filter((d) => {
              waitingOn.set(d, waitingOn.get(d)! - 1);
              return waitingOn.get(d) === 0 && !skipped.has(d);
            });
            if (!slots.isStopped) for (const d of ready.sort((a, b) => position.get(a)! - position.get(b)!)) launch(d);
          } else if (result === 'failed') {
            failed.push(name);
            firstFailure ??= name;
            skipDownstream(name, `needs ${name}, which failed`);
            if (!options.keepGoing) slots.stop();
          } else {
            started.delete(name);
          }
          if (running === 0) finish();
        });
    };
    const roots = order.filter((n) => waitingOn.get(n) === 0);
    if (roots.length === 0) return finish();
    roots.forEach(launch);
  });
}

export interface CommandResult {
  exitCode: number;
  signal?: NodeJS.Signals;
  /** Set when the process could not be started. */
  error?: string;
  /** Killed after `timeoutMs` (ATTEST `timeout_secs`): exitCode is 124, as ATTEST and timeout(1) say. */
  timedOut?: boolean;
}

/** How long the steps' process groups get after SIGINT/SIGTERM before SIGKILL (EVIDENT_KILL_GRACE_MS overrides). */
export const KILL_GRACE_MS = 5000;

/**
 * The processes of a run, so that an interrupt reaches them. Each step's `/bin/sh` is spawned detached,
 * the leader of its own process group, so that a signal reaches everything the command started (a
 * `sleep 30 &` under it, a test runner's workers), not only the shell (issue 14 finding 5).
 */
export class Processes {
  private readonly children = new Set<ChildProcess>();
  /** Every process group started, until it is known to be empty. */
  private readonly groups = new Set<number>();
  private draining: Promise<void> | undefined;

  constructor(private readonly graceMs = Number(process.env.EVIDENT_KILL_GRACE_MS) > 0 ? Number(process.env.EVIDENT_KILL_GRACE_MS) : KILL_GRACE_MS) {}

  /** `/bin/sh -c command` with stdout and stderr both written to `logFd`; stdin is /dev/null. */
  run(command: string, options: { cwd: string; env: NodeJS.ProcessEnv; logFd: number; prefix?: readonly string[]; timeoutMs?: number }): Promise<CommandResult> {
    return new Promise((resolve) => {
      let child: ChildProcess;
      // `prefix`: a wrapper that runs `/bin/sh -c command` itself (the sandbox, sandbox.ts).
      const argv = [...(options.prefix ?? []), '/bin/sh', '-c', command];
      try {
        child = spawn(argv[0]!, argv.slice(1), { cwd: options.cwd, env: options.env, stdio: ['ignore', options.logFd, options.logFd], detached: true });
      } catch (err) {
        return resolve({ exitCode: 127, error: (err as Error).message });
      }
      this.children.add(child);
      if (child.pid !== undefined) this.groups.add(child.pid);
      let error: string | undefined;
      let timedOut = false;
      // The whole group, not only the shell: what the command started must not outlive its step.
      const timer = options.timeoutMs !== undefined && child.pid !== undefined
        ? setTimeout(() => { timedOut = true; killGroup(child.pid!, 'SIGKILL'); }, options.timeoutMs)
        : undefined;
      child.once('error', (err) => (error = err.message));
      child.once('close', (code, signal) => {
        if (timer) clearTimeout(timer);
        this.children.delete(child);
        if (timedOut) return resolve({ exitCode: 124, timedOut: true });
        // A group whose leader is gone may still hold processes (a background job): only an interrupt
        // needs them gone, and drain() then sees to it.
        if (child.pid !== undefined && !groupAlive(child.pid)) this.groups.delete(child.pid);
        if (error !== undefined && code === null && signal === null) return resolve({ exitCode: 127, error });
        if (signal) return resolve({ exitCode: 128 + (os.constants.signals[signal] ?? 0), signal });
        resolve({ exitCode: code ?? 1 });
      });
    });
  }

  /** Sends `signal` to every step's whole process group. */
  signal(signal: NodeJS.Signals): void {
    for (const pgid of this.groups) killGroup(pgid, signal);
  }

  /**
   * After signal(): waits until every process group is empty, sending SIGKILL to those still alive after
   * the grace period. Resolves once nothing the run started is left.
   */
  drain(): Promise<void> {
    this.draining ??= (async () => {
      const deadline = Date.now() + this.graceMs;
      let killed = false;
      for (;;) {
        for (const pgid of this.groups) if (!groupAlive(pgid)) this.groups.delete(pgid);
        if (this.groups.size === 0 && this.children.size === 0) return;
        if (!killed && Date.now() >= deadline) {
          for (const pgid of this.groups) killGroup(pgid, 'SIGKILL');
          killed = true;
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    return this.draining;
  }

  get count(): number {
    return this.children.size;
  }
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already empty
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
