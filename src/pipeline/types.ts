/**
 * What the runner (executor + cache) tells the attestation writers (receipts, provenance, in-toto
 * links) about a run. The executor produces these; the writers only consume them (issue #6).
 */
import type { StatMemo } from './stat-memo.js';

/** One file a step read or wrote, relative to the workspace root with `/` separators. */
export interface FileDigest {
  path: string;
  /** Lower-case hex SHA-256 of the content; of `symlink:<target>` for a link (verify-files.ts linkDigest). */
  sha256: string;
  executable: boolean;
  /** Set for an output that is a symbolic link: its target, recorded and restored as a link. */
  link?: string;
}

export type CacheStatus = 'hit' | 'miss' | 'disabled';

/** A step as declared in attest.yaml, after validation (defaults applied). */
export interface StepSpec {
  name: string;
  run: string;
  inputs: string[];
  outputs: string[];
  needs: string[];
  env: Record<string, string>;
  /** Process variables passed to this step, keyed by digest (env-expand.ts passEnvDigest). */
  passEnv?: string[];
  cache: boolean;
  reproducible: boolean;
  /** Input symbolic links may point outside the workspace (refused otherwise: docs/runner.md "Symbolic links"). */
  allowOutsideSymlinks?: boolean;
  /** Seed 003 §7: `process` (default), `sandbox` (bubblewrap: read-only file system but the outputs, no network) or `container` (the same under Podman, in `image`). */
  isolation?: 'process' | 'sandbox' | 'container';
  /** ATTEST `image`: the container image of a `container` step, as written (resolved per run to its ID). */
  image?: string;
  /** ATTEST `working_dir`: the command runs there (workspace-relative); inputs and outputs stay workspace-relative. In the key. */
  workingDir?: string;
  /** ATTEST `timeout_secs`: the command's process group is killed after this long; the step fails with exit code 124. */
  timeoutSecs?: number;
  /** ATTEST `attestation.type` (e.g. `build`, `test`): recorded in the receipt and the provenance. */
  attestationType?: string;
  /** ATTEST `attestation.verify_chain`: `attestation.verify_dependencies` for this step. */
  verifyChain?: boolean;
}

/** A step that finished (succeeded or failed) in a run. */
export interface StepRecord {
  name: string;
  command: string;
  needs: string[];
  /** The step's effective declared environment (pipeline env merged with step env), sorted by key. */
  env: Record<string, string>;
  exitCode: number;
  /** ISO-8601 UTC. */
  startedAt: string;
  finishedAt: string;
  durationSecs: number;
  cache: CacheStatus;
  /** The cache key (hex SHA-256), also for uncached steps. */
  key: string;
  /** Every input file (directories and globs expanded, global inputs included), sorted by path. */
  inputs: FileDigest[];
  /** `process`, `sandbox` or `container` (in the key unless process). */
  isolation?: 'process' | 'sandbox' | 'container';
  /** A container step's image, `NAME@sha256:ID` (the image ID that ran, in the key). */
  image?: string;
  /** ATTEST `attestation.type`, when the step declares one. */
  attestationType?: string;
  /** Every output file written (directories expanded), sorted by path; empty when the step failed. */
  outputs: FileDigest[];
}

/** A whole run, as handed to `RunObserver.runFinished`. */
export interface RunRecord {
  pipeline: string;
  /** Hex SHA-256 of the attest.yaml bytes. */
  pipelineHash: string;
  /** Absolute path of the workspace (the directory holding attest.yaml). */
  workspace: string;
  startedAt: string;
  totalDurationSecs: number;
  /** The steps that ran or were restored, in completion order; skipped steps are absent. */
  steps: StepRecord[];
  /** Every declared step (for graph reachability), by name. */
  graph: Record<string, StepSpec>;
  ok: boolean;
  /** Stopped by SIGINT/SIGTERM (the receipt says `cancelled`). */
  cancelled?: boolean;
}

/**
 * Hooks the executor calls. `stepSucceeded` is called the moment a step succeeds (or is restored from
 * cache), before any step that needs it starts; a later failure elsewhere does not undo it.
 */
export interface RunObserver {
  stepSucceeded?(step: StepRecord, run: {
    pipeline: string; workspace: string; graph: Record<string, StepSpec>; succeeded: ReadonlyMap<string, StepRecord>;
    /** Hex SHA-256 of the attest.yaml bytes, recorded in provenance when given. */
    pipelineHash?: string;
    /** The cache's stat memo, for checks a warm run need not repeat (provenance.ts stillValid). */
    memo?: StatMemo;
  }): void | Promise<void>;
  runFinished?(run: RunRecord): void | Promise<void>;
}
