import fs from 'node:fs';
import path from 'node:path';
import type { LocalCache } from './cache.js';
import { cacheKey, type KeyComponents } from './cache-key.js';
import { Processes, type Slots, type TaskResult } from './executor.js';
import { compareBytes, expandPatterns } from './expand.js';
import { linkDigest } from './verify-files.js';
import { diffKeyComponents, missReason } from './explain.js';
import { formatDuration, type StepOutcome } from './lines.js';
import type { EntryManifest } from './manifest.js';
import { parsePattern } from './patterns.js';
import { restoreEntry } from './restore.js';
import type { RemoteTier } from './remote-tier.js';
import type { PipelineSpec } from './spec.js';
import { digestWithMemo, hashFile, isExecutable } from './stat-memo.js';
import { readStepHistory, writeStepHistory } from './step-history.js';
import { MissingInputError, OutsideSymlinkError, allInputs, commandEnv, digestGlobalInputs, keyComponents, logPath, stepEnv } from './step-inputs.js';
import type { CacheStatus, FileDigest, StepRecord, StepSpec } from './types.js';
import { sortedEnv, type Deterministic } from './deterministic.js';
import { differingOutputs, notReproducible, removeOutputs } from './reproducible.js';
import { sandboxPrefix } from './sandbox.js';
import { containerPrefix } from './container.js';
import type { ReplayRecorder } from './replay-record.js';

// One step of a run: work out its key, restore it from the cache or run its command, store what it made.
// The result line's wording follows seed 003 §3.3 (lines.ts).

export interface StepEvents {
  started(step: string): void;
  finished(step: string, record: StepRecord, outcome: StepOutcome): void;
  warning(message: string): void;
}

export interface StepRunnerOptions {
  workspace: string;
  spec: PipelineSpec;
  cache: LocalCache;
  /** --no-cache: neither read nor write the cache. */
  noCache: boolean;
  processes: Processes;
  events: StepEvents;
  /** Called once a step has succeeded, before any step that needs it starts (observers). */
  succeeded(record: StepRecord): Promise<void>;
  isInterrupted(): boolean;
  /** --deterministic (deterministic.ts). */
  deterministic?: Deterministic;
  /** --isolation sandbox: every step sandboxed (sandbox.ts). */
  isolation?: 'process' | 'sandbox';
  /** The image ID of each container step's image (container.ts resolveImages). */
  images?: ReadonlyMap<string, string>;
  /** A reproducibility check finished (the verification.completed event). */
  verified?(step: string, result: { check: 'reproducible'; ok: boolean; differing: string[] }): void;
  /** The remote cache, asked on a local miss and filled after a run (remote-tier.ts). */
  remote?: RemoteTier;
  /** Records what a replay of this run would have to see again (replay-record.ts). */
  recorder?: ReplayRecorder;
  /** attest.yaml's name in the workspace (a default global input). */
  attestFile: string;
}

type Done = { record: StepRecord; outcome: StepOutcome };

type Decision =
  | { kind: 'failed'; detail: string }
  | { kind: 'hit'; key: string; components: KeyComponents; manifest: EntryManifest; annotate: boolean; lastKey?: string; indexedKey?: string }
  | { kind: 'run'; key: string; components: KeyComponents; mode: CacheStatus; detail: string };

export class StepRunner {
  /** Keys and records of the steps that succeeded so far. */
  readonly keys = new Map<string, string>();
  readonly records = new Map<string, StepRecord>();
  /** Set once a step missed because something changed: later hits then say what did not (seed §3.3). */
  private changed = false;
  private decisions: Promise<unknown> = Promise.resolve();
  /** The run's global inputs, digested once (step-inputs.ts digestGlobalInputs). */
  private global: Promise<FileDigest[]> | undefined;

  constructor(private readonly o: StepRunnerOptions) {}

  private cacheStatus(step: StepSpec): { status: CacheStatus; why?: string } {
    if (this.o.noCache) return { status: 'disabled', why: '--no-cache' };
    if (!this.o.spec.cache.enabled) return { status: 'disabled', why: 'cache.enabled: false' };
    if (!step.cache) return { status: 'disabled', why: 'cache: false' };
    return { status: 'miss' };
  }

  /** Runs `fn` after every earlier call has finished: decisions are taken in launch order. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.decisions.then(fn);
    this.decisions = result.then(() => undefined, () => undefined);
    return result;
  }

  /**
   * The key and what to do with it. Taken one step at a time, in the order the steps became ready, so that
   * the lines and their wording (`cache hit (test inputs unchanged)`) do not depend on timing.
   */
  private async decide(step: StepSpec): Promise<Decision> {
    let components: KeyComponents;
    try {
      const probe = this.o.recorder?.expansionProbe;
      this.global ??= digestGlobalInputs(this.o.workspace, this.o.spec, this.o.attestFile, this.o.cache.memo, probe);
      const global = await this.global;
      components = await keyComponents(step, {
        workspace: this.o.workspace, spec: this.o.spec, memo: this.o.cache.memo, needKeys: this.keys, global, ...(this.o.isolation ? { isolation: this.o.isolation } : {}), ...(this.o.images ? { images: this.o.images } : {}), ...(probe ? { probe } : {}),
      });
    } catch (err) {
      return { kind: 'failed', detail: err instanceof MissingInputError || err instanceof OutsideSymlinkError ? err.message : `cannot hash inputs: ${(err as Error).message}` };
    }
    const key = cacheKey(components);
    const indexedKey = this.o.cache.lastKey(step.name);
    const lastKey = indexedKey ?? readStepHistory(this.o.cache.root, step.name)?.key;
    const mode = this.cacheStatus(step);
    if (mode.status !== 'miss') return { kind: 'run', key, components, mode: mode.status, detail: `cache disabled (${mode.why})` };
    const found = this.o.cache.lookup(key, step.outputs.map(parsePattern));
    if (found && 'manifest' in found) return { kind: 'hit', key, components, manifest: found.manifest, annotate: this.changed, lastKey, indexedKey };
    if (found) {
      // Loud, and never a wrong hit: the entry goes and the step runs.
      this.o.events.warning(`cache entry ${key.slice(0, 12)} of ${step.name} discarded: ${found.problem}`);
      this.o.cache.discard(key);
      return { kind: 'run', key, components, mode: 'miss', detail: 'cache miss (cache entry discarded)' };
    }
    if (lastKey === undefined) return { kind: 'run', key, components, mode: 'miss', detail: 'cache miss' };
    if (lastKey === key) return { kind: 'run', key, components, mode: 'miss', detail: 'cache miss (not in the cache)' };
    this.changed = true;
    const history = readStepHistory(this.o.cache.root, step.name);
    return { kind: 'run', key, components, mode: 'miss', detail: history ? `cache miss (${missReason(diffKeyComponents(history.components, components))})` : 'cache miss (key changed)' };
  }

  async run(name: string, slots: Slots): Promise<TaskResult> {
    const step = this.o.spec.steps.get(name)!;
    const started = Date.now();
    const base = { name, command: step.run, needs: [...step.needs], startedAt: new Date(started).toISOString() };
    const finish = (done: Done): TaskResult => {
      this.o.events.finished(name, done.record, done.outcome);
      return done.outcome.status === 'ok' ? 'ok' : 'failed';
    };
    const record = (exitCode: number, cache: CacheStatus, key: string, c: KeyComponents | undefined, outputs: FileDigest[]): StepRecord => {
      const finished = Date.now();
      const env = c && this.o.deterministic ? sortedEnv(c.env, this.o.deterministic.vars) : c?.env ?? {};
      return {
        ...base, env, exitCode, finishedAt: new Date(finished).toISOString(), durationSecs: (finished - started) / 1000, cache, key, inputs: c ? allInputs(c) : [], outputs,
        isolation: step.isolation === 'container' ? 'container' : (step.isolation ?? this.o.isolation) === 'sandbox' ? 'sandbox' : 'process',
        ...(step.isolation === 'container' && step.image !== undefined ? { image: `${step.image}@${this.o.images?.get(step.image) ?? '?'}` } : {}),
        ...(step.attestationType !== undefined ? { attestationType: step.attestationType } : {}),
      };
    };
    if (slots.isStopped || this.o.isInterrupted()) return 'not-started';
    const decision = await this.serial(() => this.decide(step));
    if (decision.kind === 'failed') return finish({ record: record(1, 'miss', '', undefined, []), outcome: { status: 'failed', detail: decision.detail } });
    const { key, components } = decision;
    let missDetail = decision.kind === 'run' ? decision.detail : '';
    const mode = decision.kind === 'run' ? decision.mode : 'miss';
    if (decision.kind === 'hit') {
      if (slots.isStopped || this.o.isInterrupted()) return 'not-started';
      const restored = await restoreEntry(this.o.workspace, decision.manifest, this.o.cache, logPath(name));
      if (restored.ok) {
        if (decision.lastKey !== key) this.remember(name, key, components, decision.manifest.duration_secs);
        else if (decision.indexedKey !== key) this.o.cache.setLastKey(name, key);
        return finish(await this.hit(name, key, decision.manifest, decision.annotate, (c, o) => record(0, c, key, components, o)));
      }
      if (restored.corruptObject) {
        this.o.events.warning(`cache entry ${key.slice(0, 12)} of ${name} discarded: ${restored.problem}`);
        this.o.cache.dropObject(restored.corruptObject);
        this.o.cache.discard(key);
        missDetail = 'cache miss (cache entry discarded)';
      } else {
        // The entry is fine, the workspace is not (e.g. an output directory is a link): run instead.
        this.o.events.warning(`${name} not restored from the cache: ${restored.problem}`);
        missDetail = 'cache miss (cannot restore)';
      }
    }

    if (decision.kind === 'run' && mode === 'miss' && this.o.remote) {
      const remote = await this.o.remote.fetch(step, key);
      if (remote && 'manifest' in remote) {
        const restored = await restoreEntry(this.o.workspace, remote.manifest, this.o.cache, logPath(name));
        if (restored.ok) {
          this.remember(name, key, components, remote.manifest.duration_secs);
          return finish(await this.hit(name, key, remote.manifest, false, (c, o) => record(0, c, key, components, o), 'remote cache hit'));
        }
        this.o.events.warning(`${name} not restored from the remote cache: ${restored.problem}`);
        missDetail = 'cache miss (cannot restore)';
      } else if (remote) missDetail = `cache miss (${remote.miss})`;
    }

    const release = await slots.acquire();
    if (!release || this.o.isInterrupted()) {
      release?.();
      return 'not-started';
    }
    let result;
    const logAbs = path.join(this.o.workspace, logPath(name));
    try {
      const stale = this.o.spec.attestation.verifyDependencies || step.verifyChain ? await this.staleDependency(step) : undefined;
      if (stale) return finish({ record: record(1, mode, key, components, []), outcome: { status: 'failed', detail: stale } });
      this.o.events.started(name);
      fs.mkdirSync(path.dirname(logAbs), { recursive: true });
      result = await this.exec(step, components, logAbs, 'w');
      if (result.exitCode === 0 && !result.error && step.reproducible) {
        // Seed 003 §6.2: run a second time and compare (reproducible.ts says why this way).
        const first = await this.collectOutputs(step, logAbs, true);
        if (typeof first !== 'string') {
          removeOutputs(this.o.workspace, first.files);
          const again = await this.exec(step, components, logAbs, 'a');
          const second = again.exitCode === 0 && !again.error ? await this.collectOutputs(step, logAbs, true) : `second run: exit code ${again.exitCode}`;
          const differing = typeof second === 'string' ? [] : differingOutputs(first.files, second.files);
          this.o.verified?.(name, { check: 'reproducible', ok: typeof second !== 'string' && differing.length === 0, differing });
          if (typeof second === 'string') return finish({ record: record(again.exitCode || 1, mode, key, components, []), outcome: { status: 'failed', detail: `not reproducible: ${second}` } });
          if (differing.length > 0) return finish({ record: record(1, mode, key, components, []), outcome: { status: 'failed', detail: notReproducible(differing) } });
        }
      }
    } catch (err) {
      return finish({ record: record(1, mode, key, components, []), outcome: { status: 'failed', detail: (err as Error).message } });
    } finally {
      release();
    }
    if (result.exitCode !== 0 || result.error) {
      const detail = result.error ? `could not start /bin/sh: ${result.error}`
        : result.timedOut ? `timed out after ${formatDuration(step.timeoutSecs!)} (timeout_secs), exit code 124`
          : result.signal ? `killed by ${result.signal}` : `exit code ${result.exitCode}`;
      return finish({ record: record(result.exitCode, mode, key, components, []), outcome: { status: 'failed', detail } });
    }
    if (this.o.deterministic) setOutputTimes(this.o.workspace, step, this.o.deterministic.epoch);
    const collected = await this.collectOutputs(step, logAbs);
    if (typeof collected === 'string') return finish({ record: record(0, mode, key, components, []), outcome: { status: 'failed', detail: collected } });
    const durationSecs = (Date.now() - started) / 1000;
    let stored: EntryManifest | undefined;
    if (mode === 'miss') {
      stored = await this.o.cache.store({ key, step: name, durationSecs, files: collected.files, log: collected.log });
      // The remote entry format has no links: an entry with one stays in the local cache.
      if (collected.files.some((f) => f.link !== undefined)) {
        if (this.o.remote) this.o.events.warning(`${name} not uploaded to the remote cache: its outputs include symbolic links (kept in the local cache)`);
      } else this.o.remote?.upload(stored, collected.files, collected.log);
    }
    this.remember(name, key, components, durationSecs);
    const done = { record: record(0, mode, key, components, collected.files.map(({ path: p, sha256, executable, link }) => ({ path: p, sha256, executable, ...(link !== undefined ? { link } : {}) }))), outcome: { status: 'ok' as const, detail: missDetail } };
    return finish(await this.succeed(name, key, done, stored));
  }

  /** The step's command, once; its output to its log (`w` new, `a` appended for the second run). */
  private async exec(step: StepSpec, components: KeyComponents, logAbs: string, flags: 'w' | 'a') {
    const declared = stepEnv(this.o.spec.env, step);
    const full = commandEnv(this.o.spec, step, declared, process.env, this.o.deterministic?.vars);
    const env = this.o.deterministic ? sortedEnv(full) : full;
    const isolation = step.isolation ?? this.o.isolation;
    // A container runs exactly the image ID its key was computed with (components.image), never the tag again.
    const prefix = isolation === 'container' ? containerPrefix(this.o.workspace, step, components.image!, Object.keys(env))
      : isolation === 'sandbox' ? sandboxPrefix(this.o.workspace, step) : undefined;
    // ATTEST working_dir: resolved against the workspace; it must already be a directory (ATTEST's rule),
    // and may not be reached through a link leaving the workspace.
    const cwd = step.workingDir === undefined ? this.o.workspace : path.join(this.o.workspace, step.workingDir);
    if (step.workingDir !== undefined) {
      const real = fs.statSync(cwd, { throwIfNoEntry: false })?.isDirectory() ? fs.realpathSync(cwd) : undefined;
      if (real === undefined) throw new Error(`working_dir "${step.workingDir}" is not a directory`);
      const root = fs.realpathSync(this.o.workspace);
      if (real !== root && !real.startsWith(root + path.sep)) throw new Error(`working_dir "${step.workingDir}" leads outside the workspace`);
    }
    const fd = fs.openSync(logAbs, flags);
    try {
      return await this.o.processes.run(step.run, { cwd, env, logFd: fd, ...(prefix ? { prefix } : {}), ...(step.timeoutSecs !== undefined ? { timeoutMs: step.timeoutSecs * 1000 } : {}) });
    } finally {
      fs.closeSync(fd);
    }
  }

  /** A restored step. */
  private async hit(name: string, key: string, manifest: EntryManifest, annotate: boolean, record: (cache: CacheStatus, outputs: FileDigest[]) => StepRecord, remoteDetail?: string): Promise<Done> {
    this.o.cache.touch(manifest);
    const outputs = manifest.files.map((f) => ({ path: f.path, sha256: f.sha256, executable: f.executable, ...(f.link !== undefined ? { link: f.link } : {}) }));
    const detail = remoteDetail ?? (annotate ? `cache hit (${name} inputs unchanged)` : 'cache hit');
    return this.succeed(name, key, { record: record('hit', outputs), outcome: { status: 'ok', detail } }, manifest);
  }

  /** The step's key and key inputs, for the next run's miss reason and `cache explain`. */
  private remember(name: string, key: string, components: KeyComponents, durationSecs: number): void {
    writeStepHistory(this.o.cache.root, { v: 1, step: name, key, components, duration_secs: durationSecs, at: new Date().toISOString() });
    this.o.cache.setLastKey(name, key);
  }

  private async succeed(name: string, key: string, done: Done, manifest: EntryManifest | undefined): Promise<Done> {
    this.keys.set(name, key);
    this.records.set(name, done.record);
    await this.o.succeeded(done.record);
    this.o.recorder?.stepDone(done.record, manifest);
    return done;
  }

  /** The declared outputs after a successful command, hashed; a string when one is missing. */
  private async collectOutputs(step: StepSpec, logAbs: string, fresh = false) {
    const expansion = expandPatterns(this.o.workspace, step.outputs.map(parsePattern), { mode: 'output' });
    if (expansion.missing.length > 0) return `declared output ${expansion.missing.map((m) => JSON.stringify(m)).join(', ')} was not produced`;
    const files: (FileDigest & { abs: string; size: number })[] = [];
    for (const f of expansion.files) {
      // fresh: the reproducibility check rewrote the file, maybe within the memo's time granularity.
      const sha256 = fresh ? await hashFile(f.abs, f.stat.size) : await digestWithMemo(this.o.cache.memo, f.rel, f.abs, f.stat);
      files.push({ path: f.rel, abs: f.abs, sha256, size: f.stat.size, executable: isExecutable(f.stat) });
    }
    // An output that is a symbolic link is recorded as one: its target, never what it points to.
    for (const rel of expansion.links) {
      const abs = path.join(this.o.workspace, rel);
      const link = fs.readlinkSync(abs);
      files.push({ path: rel, abs, sha256: linkDigest(link), size: 0, executable: false, link });
    }
    files.sort((a, b) => compareBytes(a.path, b.path));
    const logStat = fs.statSync(logAbs);
    const log = { abs: logAbs, size: logStat.size, sha256: await hashFile(logAbs, logStat.size) };
    return { files, log };
  }

  /** verify_dependencies: the outputs of the needed steps are still what those steps produced. */
  private async staleDependency(step: StepSpec): Promise<string | undefined> {
    const why = this.o.spec.attestation.verifyDependencies ? 'attestation.verify_dependencies' : `steps.${step.name}.attestation.verify_chain`;
    for (const need of step.needs) {
      for (const f of this.records.get(need)?.outputs ?? []) {
        const abs = path.join(this.o.workspace, f.path);
        if (f.link !== undefined) {
          const now = fs.lstatSync(abs, { throwIfNoEntry: false })?.isSymbolicLink() ? fs.readlinkSync(abs) : undefined;
          if (now !== f.link) return `output ${f.path} of ${need} ${now === undefined ? 'disappeared' : 'changed'} after ${need} made it (${why})`;
          continue;
        }
        const st = fs.statSync(abs, { throwIfNoEntry: false });
        const sha = st?.isFile() ? await digestWithMemo(this.o.cache.memo, f.path, abs, st) : undefined;
        if (sha !== f.sha256) return `output ${f.path} of ${need} ${sha ? 'changed' : 'disappeared'} after ${need} made it (${why})`;
      }
    }
    return undefined;
  }
}

/** --deterministic's fixed timestamps: every output file gets SOURCE_DATE_EPOCH as its mtime. */
function setOutputTimes(workspace: string, step: StepSpec, epoch: number): void {
  for (const f of expandPatterns(workspace, step.outputs.map(parsePattern), { mode: 'output' }).files) {
    try {
      fs.utimesSync(f.abs, epoch, epoch);
    } catch {
      // a missing output is reported by collectOutputs
    }
  }
}
