import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { EvidentError } from '../../core/index.js';
import { ProgressDisplay, attestationObservers, closureOf, planPipeline, runPipeline, runSummary, type RunEvent, type RunResult } from '../../pipeline/index.js';
import { EventDispatcher, RUN_ISOLATIONS, readWorkspaceConfig, signatureObserver, verifyingSpec, workspaceConfigPath } from '../../pipeline/index.js';
import { action, intFlag, type Ctx } from '../context.js';
import { FILE_FLAG, loadPipeline } from './pipeline.js';
import { remoteCacheOptions } from './run-remote.js';
import { ExitStatusError } from '../exit.js';
import { describeReport, reportRun } from './run-report.js';
import { verifyAfterRun, verifyBeforeRun } from './run-verify.js';
import { checkPolicyBeforeRun, loadRunPolicy } from './run-policy.js';
import { OUTPUT_LOGS, affectedBase, dryFormat, logLinesFor, printDryRun, selection, writeSummary, type TurboRunOptions } from './run-turbo.js';

// `evident run` (issue #6 items 2 and 6): runs attest.yaml with the local cache; prints seed 003's result
// lines (`[OK] build (45s) - cache miss`); on a terminal, a live status line on stderr.

export interface RunCmdOptions extends TurboRunOptions {
  file: string;
  /** --verify: inputs checked first, verify_dependencies for every step, the receipt verified after (run-verify.ts). */
  verify?: boolean;
  /** --strict (seed 003 §9.2): --verify, refusing what it tolerates (run-policy.ts). */
  strict?: boolean;
  /** --policy FILE|NAME (seed 003 §9.2): --verify, and the rules of a run policy file (run-policy.ts). */
  policy?: string;
  jobs?: number;
  keepGoing?: boolean;
  /** commander's --no-cache. */
  cache: boolean;
  only?: string;
  sign?: boolean;
  inToto?: string;
  layoutKey?: string;
  showLogs?: boolean;
  /** --deterministic: SOURCE_DATE_EPOCH, TZ=UTC, LC_ALL=C, sorted env (docs/runner.md). */
  deterministic?: boolean;
  /** --isolation sandbox: every step under bubblewrap. */
  isolation?: 'process' | 'sandbox';
  /** --remote-cache URL (or EVIDENT_REMOTE_CACHE). */
  remoteCache?: string;
  /** --report [--commit SHA]: record the run on the Evident server (--host). */
  report?: boolean;
  commit?: string;
}

const TAIL_LINES = 20;

function tail(file: string, lines: number): string[] {
  try {
    const text = fs.readFileSync(file, 'utf8').replace(/\n$/, '');
    return text === '' ? [] : text.split('\n').slice(-lines);
  } catch {
    return [];
  }
}

function summaryJson(result: RunResult) {
  const r = result.record;
  return {
    pipeline: r.pipeline,
    pipeline_hash: r.pipelineHash,
    workspace: r.workspace,
    started_at: r.startedAt,
    total_duration_secs: r.totalDurationSecs,
    ok: r.ok,
    steps: r.steps.map((s) => ({
      name: s.name,
      status: result.outcomes.get(s.name)?.status ?? 'failed',
      detail: result.outcomes.get(s.name)?.detail ?? null,
      cache: s.cache,
      exit_code: s.exitCode,
      duration_secs: s.durationSecs,
      started_at: s.startedAt,
      finished_at: s.finishedAt,
      key: s.key,
      command: s.command,
      needs: s.needs,
      inputs: s.inputs,
      outputs: s.outputs,
    })),
    skipped: [...result.skipped].map(([name, reason]) => ({ name, reason: result.outcomes.get(name)?.detail ?? reason })),
    attestation_errors: result.observerErrors,
  };
}

/** `evident config set` defaults (.evident/config.yaml) for the flags not given; says which it used. */
function withWorkspaceConfig(opts: RunCmdOptions, workspace: string, ctx: Ctx): RunCmdOptions {
  const c = readWorkspaceConfig(workspace);
  const used: string[] = [];
  const take = <K extends keyof RunCmdOptions>(key: K, value: RunCmdOptions[K] | undefined, name: string) => {
    if (value === undefined || opts[key] !== undefined) return;
    opts = { ...opts, [key]: value };
    used.push(`${name}=${String(value)}`);
  };
  take('deterministic', c.deterministic, 'deterministic');
  take('isolation', c.isolation, 'isolation');
  take('jobs', c.jobs, 'jobs');
  take('keepGoing', c.keep_going, 'keep_going');
  take('sign', c.sign, 'sign');
  take('outputLogs', c.output_logs, 'output_logs');
  if (used.length > 0) ctx.printer.info(`config: ${used.join(', ')} (${path.relative(process.cwd(), workspaceConfigPath(workspace)) || workspaceConfigPath(workspace)})`);
  return opts;
}

export async function runCommand(given: RunCmdOptions, ctx: Ctx): Promise<void> {
  const loaded = loadPipeline(given.file, ctx);
  const { spec, workspace } = loaded;
  const opts = withWorkspaceConfig(given, workspace, ctx);
  if (ctx.globals.dryRun && opts.report) return describeReport(loaded, opts, ctx);
  const picked = selection(loaded, opts);
  const dry = dryFormat(opts.dry);
  // --remote-cache (or EVIDENT_REMOTE_CACHE) wins over attest.yaml's cache.remote.
  const remoteUrl = opts.remoteCache ?? spec.cache.remote;
  if (dry) {
    const remote = remoteUrl && opts.cache ? await remoteCacheOptions(remoteUrl, ctx, workspace, (line) => ctx.printer.info(line), true) : undefined;
    return printDryRun(loaded, picked, dry, opts.isolation, ctx, remote);
  }
  if (picked && picked.steps.length === 0) {
    const why = affectedBase(opts) !== undefined ? `no step's inputs changed since ${affectedBase(opts)}` : 'the filters pick no step';
    ctx.printer.info(`nothing to run: ${why}`);
    return;
  }
  if (ctx.globals.dryRun) {
    const plan = planPipeline([...spec.steps.values()]);
    ctx.printer.result({ dry_run: true, groups: plan.groups }, () => plan.groups.forEach((g, i) => ctx.printer.text(`group ${i + 1}: ${g.join(', ')}`)));
    return;
  }
  const toRun = picked?.steps ?? (opts.only && spec.steps.has(opts.only) ? [...closureOf([...spec.steps.values()], opts.only)] : undefined);
  if (opts.strict || opts.policy !== undefined) {
    const policy = opts.policy !== undefined ? loadRunPolicy(opts.policy, workspace) : undefined;
    checkPolicyBeforeRun(loaded, { steps: toRun ?? [...spec.steps.keys()], signed: Boolean(opts.sign) || spec.attestation.signAllSteps, isolation: opts.isolation, noCache: !opts.cache }, Boolean(opts.strict), policy);
    opts.verify = true;
  }
  if (opts.verify) verifyBeforeRun(loaded, toRun);
  const json = ctx.globals.output === 'json';
  // Result lines are the result on a terminal; with --output json they are progress, on stderr.
  const say = (line: string) => (json ? ctx.printer.info(line) : ctx.printer.text(line));
  const progress = process.stderr.isTTY ? new ProgressDisplay(process.stderr, picked ? picked.steps.length : opts.only && spec.steps.has(opts.only) ? closureOf([...spec.steps.values()], opts.only).size : spec.steps.size) : undefined;
  const above = (print: () => void) => (progress ? progress.above(print) : print());
  let receiptFile: string | undefined;
  const observers = await attestationObservers({
    workspace,
    sign: Boolean(opts.sign) || spec.attestation.signAllSteps,
    provenance: true,
    ...(opts.inToto ? { inToto: { dir: path.resolve(opts.inToto), ...(opts.layoutKey ? { layoutKey: opts.layoutKey } : {}) } } : {}),
    log: (line) => above(() => ctx.printer.info(line)),
    receiptWritten: (file) => void (receiptFile = file),
  });
  // attest.yaml `events` handlers; the CLI holds them so that signature.created follows the signed receipt.
  const events = new EventDispatcher(spec.events, { workspace, pipeline: spec.name, warn: (m) => above(() => ctx.printer.info(`warning: ${m}`)) });
  observers.push(signatureObserver(events, { signed: Boolean(opts.sign) || spec.attestation.signAllSteps }));
  const onEvent = (e: RunEvent) => {
    if (e.type === 'step-started') progress?.started(e.step);
    else if (e.type === 'warning') above(() => ctx.printer.info(`warning: ${e.message}`));
    else if (e.type === 'step-skipped') above(() => say(e.line));
    else {
      const print = () => {
        say(e.line);
        const shown = logLinesFor(opts.outputLogs, Boolean(opts.showLogs), e.outcome.status, e.record.cache);
        if (shown === 'key') ctx.printer.info(`  ${e.step} | key ${e.record.key}`);
        else if (shown !== 'none') {
          const lines = tail(e.log, shown === 'all' ? Number.MAX_SAFE_INTEGER : TAIL_LINES);
          if (shown === 'tail' && lines.length > 0) ctx.printer.info(`  last lines of ${path.relative(process.cwd(), e.log) || e.log}:`);
          for (const l of lines) ctx.printer.info(`  ${e.step} | ${l}`);
        }
      };
      if (progress) progress.finished(e.step, print);
      else print();
    }
  };
  let result: RunResult;
  try {
    const remote = remoteUrl && opts.cache ? await remoteCacheOptions(remoteUrl, ctx, workspace, (line) => above(() => ctx.printer.info(line))) : undefined;
    // The next plain `evident run` may replay this one when its observers were a plain run's (run-replay.ts).
    const recordReplay = !opts.sign && !opts.inToto;
    result = await runPipeline({ loaded: opts.verify ? verifyingSpec(loaded) : loaded, jobs: opts.jobs, keepGoing: opts.keepGoing, noCache: !opts.cache, only: opts.only, ...(picked ? { select: picked.steps } : {}), observers, onEvent, remote, events, deterministic: opts.deterministic, isolation: opts.isolation, recordReplay });
  } finally {
    progress?.stop();
    await events.close();
  }
  const r = result.record;
  const hits = r.steps.filter((s) => s.cache === 'hit').length;
  const failed = r.steps.filter((s) => result.outcomes.get(s.name)?.status === 'failed').length;
  ctx.printer.info(runSummary({ steps: r.steps.length, hits, failed, skipped: result.skipped.size, totalSecs: r.totalDurationSecs, evicted: result.evicted }));
  if (json) ctx.printer.json(summaryJson(result));
  if (opts.summarize) ctx.printer.info(`summary: ${path.relative(process.cwd(), writeSummary(workspace, summaryJson(result), result, picked, opts))}`);
  if (opts.verify && r.ok) await verifyAfterRun(loaded, receiptFile, Boolean(opts.sign) || spec.attestation.signAllSteps, ctx);
  // Reporting comes after the run's own result; its failure exits 3 (or the run's failure wins).
  const reported = opts.report ? await reportRun(loaded, result, opts, ctx) : undefined;
  if (result.interrupted) {
    // 128 + the signal's number, as a shell reports a command killed by it (130 SIGINT, 143 SIGTERM).
    throw new ExitStatusError(128 + (os.constants.signals[result.interrupted] ?? 0), `run of ${r.pipeline} cancelled by ${result.interrupted}: every step's processes were stopped; the receipt says cancelled`);
  }
  if (!r.ok) {
    const why = failed > 0 ? `${failed} step${failed === 1 ? '' : 's'} failed` : result.observerErrors.length > 0 ? 'attestations could not be written' : 'the run was interrupted';
    throw new EvidentError('VERIFICATION_FAILED', `run of ${r.pipeline} failed: ${why} (logs in .evident/logs/)`);
  }
  if (reported) throw reported;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('Run the pipeline in attest.yaml: steps in parallel, with a content-addressed cache and attestations')
    .option(...FILE_FLAG)
    .option('-j, --jobs <n>', 'commands to run at a time (default: the number of CPUs)', intFlag('--jobs', 1))
    .option('-k, --keep-going', 'after a failure, still run every step that does not need the failed one')
    .option('--no-cache', 'neither use nor fill the cache: run every step')
    .option('--only <step>', 'run this step and the steps it needs (those come from the cache when already built)')
    .option('--filter <selector>', "turbo's --filter over steps: NAME, GLOB, ...NAME (with what it needs), NAME... (with what needs it), ...^NAME, NAME^..., [REF] (inputs changed since REF), !NAME; repeatable", (v: string, prev: string[] = []) => [...prev, v])
    .option('--affected [ref]', 'only the steps whose inputs changed since REF (default EVIDENT_SCM_BASE, TURBO_SCM_BASE or main; merge base, working tree and untracked files) and the steps that need them')
    .option('--dry [format]', 'print what would run — each step, its cache key now and whether the local cache (or the remote cache, checked but not downloaded) has it — and run nothing: text (default) or json')
    .option('--summarize', 'also write the run summary (as --output json prints it, with the selection) to .evident/runs/<started-at>.json')
    .addOption(new Option('--output-logs <mode>', 'logs under the result lines: full, new-only (steps that ran), errors-only (failed steps, whole), hash-only (each step\'s key), none; default: the last lines of a failure').choices([...OUTPUT_LOGS]))
    .option('--show-logs', "print every step's output (from the run, or replayed from the cache) under its result line (= --output-logs full)")
    .option('--sign', 'sign the receipt and provenance (also when attestation.sign_all_steps is true)')
    .option('--in-toto <dir>', 'write in-toto links (one per step), owner.pub and root.layout into DIR')
    .option('--layout-key <file>', 'with --in-toto: the key that signs root.layout')
    .option('--verify', 'verify as it goes (seed 003 §9): declared inputs exist before any step, every step re-checks the outputs it needs, the receipt is verified after the run')
    .option('--strict', 'verify strictly (seed 003 §9.2; implies --verify): refuse to start unless the receipt is signed, env_mode is strict and every cached step declares its inputs')
    .option('--policy <file|name>', 'verify against a run policy (seed 003 §9.2; implies --verify): a YAML file, or NAME for .evident/policies/NAME.yaml, with strict, signed, env_mode, isolation, required_steps')
    .option('--deterministic', 'SOURCE_DATE_EPOCH from the commit, TZ=UTC, LC_ALL=C, sorted environment (seed 003 §6.1)')
    .addOption(new Option('--isolation <level>', 'process (default) or sandbox: every step under bubblewrap, read-only but its outputs, no network (a step with its own isolation, e.g. container, keeps it)').choices([...RUN_ISOLATIONS]))
    .addOption(new Option('--remote-cache <url>', 'share the cache through the Evident server at URL (--org, --api-token); entries must be signed by a trusted key').env('EVIDENT_REMOTE_CACHE'))
    .option('--report', 'record the run on the Evident server (--host): flow, trail, artifacts with provenance, one attestation per step')
    .option('--commit <sha>', 'with --report: the trail (default: git rev-parse HEAD in the workspace)')
    .addHelpText('after', `
Each step's \`run\` goes through /bin/sh -c in the workspace (the directory of attest.yaml), with the
process environment plus the pipeline's env and the step's env. Its output goes to .evident/logs/STEP.log.
A step whose key (command, declared env with \${VAR} expanded, pass_env values, input files, global inputs
— the lockfiles present and attest.yaml by default —, keys of the steps it needs, declared outputs) is in
.evident/cache is restored instead of run: outputs byte for byte, executable bits, links, and its log.
env_mode: strict passes steps only the declared variables. Ctrl-C / SIGTERM stop every process the steps
started (their process groups; SIGKILL after 5 s) and the run exits 130 / 143 with a cancelled receipt.

Result lines (stdout; on stderr with --output json):
  [OK] build (45s) - cache miss                  ran; nothing recorded for it before
  [OK] build (45s) - cache miss (inputs changed) ran; \`evident cache explain build\` says what changed
  [OK] test (0.1s) - cache hit                   restored from the cache
  [OK] deploy (3.2s) - cache disabled (cache: false)
  [FAIL] build (2.3s) - exit code 1              the last lines of its log follow on stderr
  [SKIP] deploy - needs build, which failed

A run that succeeded is recorded in .evident/cache/metadata/replay.json. The next plain \`evident run\`
(only -f, -j, -k; no global flags or config file) checks what that run looked at — attest.yaml, inputs,
outputs, logs, provenance, cache entries — and when nothing changed, replays it: the same lines, a new
receipt, LRU times updated, without parsing, hashing or restoring. EVIDENT_NO_REPLAY=1 always runs in full.

Exit status: 0 every step succeeded, 1 a step failed (or was skipped because of one), 2 attest.yaml is
invalid or a flag is wrong, 130 / 143 cancelled by SIGINT / SIGTERM.

turbo's run flags (docs/runner.md "turbo's run flags"): --filter picks target steps by name, glob,
dependencies (...NAME), dependents (NAME...) or changed inputs ([REF]); --affected runs what changed since a
git ref and what needs it; a step's needs always run too (from the cache when built). --dry=json prints the
plan with each step's key and cache status without running; --summarize writes .evident/runs/*.json.

Examples:
  evident run
  evident run --filter 'test*' --filter '!test-slow'
  evident run --filter build... --output-logs new-only
  evident run --affected origin/main --dry=json
  evident run -f ci/attest.yaml --jobs 4 --keep-going
  evident run --only test --show-logs
  evident run --no-cache --output json > run.json
  evident run --sign --in-toto links/ --layout-key owner.key`)
    .action(action<RunCmdOptions>(runCommand));
}
