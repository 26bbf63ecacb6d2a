import fs from 'node:fs';
import path from 'node:path';
import type { LocalCache } from './cache.js';
import type { ExpansionProbe } from './expand.js';
import type { EntryManifest } from './manifest.js';
import { provenanceFile, provenanceVerdict } from './provenance.js';
import { REPLAY_VERSION, fingerprint, replayFile, type Probe, type ProbeKind, type ReplayData, type ReplayStep } from './replay-format.js';
import type { PipelineSpec } from './spec.js';
import { writeFileAtomic } from './stat-memo.js';
import { keyedProcessVariables, logPath } from './step-inputs.js';
import { passEnvDigest } from './env-expand.js';
import type { StepRecord } from './types.js';

// Recording, during a full run, what the next run would have to see again to be a replay of it
// (replay-format.ts). Every look the run's decisions rest on is recorded when it is made: the input
// expansion's stats and listings, and, once a step has succeeded, each output, its log and its provenance
// statement with the stat memo vouching for its digest, the directories above them, and the cache entry.
// A path seen two different ways during the run, a digest the memo cannot vouch for (a file written in the
// last two seconds), a step without a cache entry: any of them and no replay file is written.

export interface ReplayConditions {
  only?: string;
  /** --filter / --affected: a subset of the steps ran, which a plain run must not replay as the whole. */
  select?: readonly string[];
  noCache?: boolean;
  deterministic?: boolean;
  isolation?: string;
  remote?: unknown;
}

/** Why a run of `spec` with these options could not be replayed by a plain `evident run`, if it could not. */
export function replayBlocker(spec: PipelineSpec, o: ReplayConditions): string | undefined {
  if (o.only !== undefined) return '--only';
  if (o.select !== undefined) return '--filter / --affected';
  if (o.noCache) return '--no-cache';
  if (o.deterministic) return '--deterministic';
  if (o.isolation !== undefined) return '--isolation';
  if (o.remote !== undefined || spec.cache.remote !== undefined) return 'a remote cache';
  if (spec.events.length > 0) return 'events handlers';
  if (spec.attestation.signAllSteps) return 'attestation.sign_all_steps';
  if (!spec.cache.enabled) return 'cache.enabled: false';
  for (const step of spec.steps.values()) {
    if (!step.cache) return `${step.name} has cache: false`;
    // A sandboxed step makes a run check for bubblewrap first, which a replay would not.
    if (step.isolation === 'sandbox') return `${step.name} is sandboxed`;
    // A container step's image is resolved each run: a tag moved to another image must be seen.
    if (step.isolation === 'container') return `${step.name} runs in a container`;
  }
  return undefined;
}

export function forgetReplay(cacheRoot: string): void {
  fs.rmSync(replayFile(cacheRoot), { force: true });
}

export class ReplayRecorder {
  private readonly probes = new Map<string, Probe>();
  private readonly steps = new Map<string, ReplayStep>();
  private broken: string | undefined;

  constructor(
    private readonly workspace: string,
    private readonly cache: LocalCache,
  ) {}

  /** Why nothing will be written, once something has made the run unreplayable. */
  get problem(): string | undefined {
    return this.broken;
  }

  /** For expandPatterns over a step's inputs. */
  readonly expansionProbe: ExpansionProbe = (kind, rel, st) => {
    if (!this.broken) this.add(rel, kind === 'lstat' ? 'l' : kind === 'stat' ? 's' : 'L', st);
  };

  private fail(why: string): void {
    this.broken ??= why;
  }

  private add(rel: string, kind: ProbeKind, st: fs.Stats | undefined): fs.Stats | undefined {
    const { fp, mtime } = fingerprint(st, kind);
    const id = `${kind}${rel}`;
    const seen = this.probes.get(id);
    if (!seen) this.probes.set(id, [rel, kind, fp, mtime, Date.now()]);
    else if (seen[2] !== fp) this.fail(`${rel} changed during the run`);
    return st;
  }

  private look(rel: string, kind: 'l' | 's'): fs.Stats | undefined {
    const abs = path.join(this.workspace, rel);
    return this.add(rel, kind, kind === 'l' ? fs.lstatSync(abs, { throwIfNoEntry: false }) : fs.statSync(abs, { throwIfNoEntry: false }));
  }

  /** The directories above `rel` are directories (a restore refuses to write through a link). */
  private parents(rel: string): void {
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!this.probes.has(`l${dir}`) && !this.look(dir, 'l')?.isDirectory()) this.fail(`${dir} is not a directory`);
    }
  }

  /** `rel`, looked at as `kind`, is a file the memo (keyed `memoKey`) says has `sha256`: what a warm run checks. */
  private vouched(rel: string, kind: 'l' | 's', sha256: string, memoKey = rel, st = this.look(rel, kind)): void {
    if (!st?.isFile() || this.cache.memo.lookup(memoKey, st) !== sha256) this.fail(`the stat memo cannot vouch for ${rel}`);
  }

  /** A step succeeded, ran or restored, and its observers (provenance) are done. */
  stepDone(record: StepRecord, manifest: EntryManifest | undefined): void {
    if (this.broken) return;
    if (!manifest) return this.fail(`${record.name} left no cache entry`);
    for (const f of record.inputs) {
      // An input that is a link to a directory is recorded by its target: its lstat, taken by the
      // expansion, is what stands for it.
      const st = this.look(f.path, 's');
      if (st?.isDirectory() && this.probes.has(`l${f.path}`)) continue;
      this.vouched(f.path, 's', f.sha256, f.path, st);
    }
    for (const f of record.outputs) {
      this.parents(f.path);
      this.vouched(f.path, 'l', f.sha256);
      const statement = provenanceFile(this.workspace, record.name, f.path);
      this.vouched(path.relative(this.workspace, statement), 's', provenanceVerdict(record, f.sha256), statement);
    }
    const log = logPath(record.name);
    this.parents(log);
    this.vouched(log, 'l', manifest.log.sha256);
    if (!this.look(path.relative(this.workspace, this.cache.entryFile(record.key)), 'l')?.isFile()) this.fail(`the cache entry of ${record.name} is missing`);
    const { name, command, needs, env, key, inputs, outputs } = record;
    this.steps.set(name, { name, command, needs: [...needs], env: { ...env }, key, inputs, outputs });
  }

  /** After a run that succeeded: writes the replay file when every step of `order` can be replayed. */
  finish(spec: PipelineSpec, pipelineHash: string, order: readonly string[]): void {
    for (const name of order) {
      const step = this.steps.get(name);
      if (!step) this.fail(`${name} was not recorded`);
      else if (!this.cache.isIndexed(step.key) || this.cache.lastKey(name) !== step.key) this.fail(`${name} is not in the cache index`);
    }
    if (this.broken) return;
    const { compression, maxSizeBytes: maxBytes, retentionDays } = spec.cache;
    const data: ReplayData = {
      v: REPLAY_VERSION,
      pipeline: spec.name,
      pipeline_hash: pipelineHash,
      cache: { compression, maxBytes, retentionDays },
      env: Object.fromEntries(keyedProcessVariables(spec).map((n) => [n, passEnvDigest(process.env[n])])),
      steps: order.map((name) => this.steps.get(name)!),
      probes: [...this.probes.values()],
    };
    // Sealed: a replay writes a receipt from this file without looking at the steps again (seal.ts).
    writeFileAtomic(replayFile(this.cache.root), this.cache.sealer.seal('replay', JSON.stringify(data)));
  }
}
