import fs from 'node:fs';
import path from 'node:path';
import { EvidentError } from '../../core/index.js';
import { dryRun, selectSteps, type LoadedSpec, type RemoteCacheOptions, type RunResult, type Selection } from '../../pipeline/index.js';
import type { Ctx } from '../context.js';

// turbo's `run` flags on `evident run` (issue #19 item 3; docs/runner.md "turbo's run flags"): --filter,
// --affected, --dry[=json], --summarize, --output-logs. The selection itself is src/pipeline/select.ts.

export const OUTPUT_LOGS = ['full', 'hash-only', 'new-only', 'errors-only', 'none'] as const;
export type OutputLogs = (typeof OUTPUT_LOGS)[number];

export interface TurboRunOptions {
  filter?: string[];
  /** --affected [REF]: true when given without a ref. */
  affected?: string | boolean;
  dry?: string | boolean;
  summarize?: boolean;
  outputLogs?: OutputLogs;
}

/** The ref --affected compares with: its value, else TURBO_SCM_BASE (turbo's variable), else main. */
export function affectedBase(opts: TurboRunOptions, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (opts.affected === undefined || opts.affected === false) return undefined;
  return typeof opts.affected === 'string' ? opts.affected : (env.EVIDENT_SCM_BASE || env.TURBO_SCM_BASE || 'main');
}

/** The steps to run, or undefined when neither --filter nor --affected is given. */
export function selection(loaded: LoadedSpec, opts: TurboRunOptions & { only?: string }): Selection | undefined {
  const base = affectedBase(opts);
  if ((opts.filter ?? []).length === 0 && base === undefined) return undefined;
  if (opts.only !== undefined) throw new EvidentError('INVALID_ARGUMENT', '--only and --filter/--affected pick steps each their own way: give one of them (--only X is --filter ...X)');
  return selectSteps(loaded.spec, loaded.workspace, { filters: opts.filter ?? [], ...(base !== undefined ? { affected: base } : {}), attestFile: path.basename(loaded.file) });
}

export function dryFormat(dry: TurboRunOptions['dry']): 'text' | 'json' | undefined {
  if (dry === undefined || dry === false) return undefined;
  if (dry === true || dry === 'text') return 'text';
  if (dry === 'json') return 'json';
  throw new EvidentError('INVALID_ARGUMENT', `--dry takes text or json (--dry=json), not ${JSON.stringify(dry)}`);
}

/** `--dry[=json]`: the plan, each step's key and whether the local (or remote) cache has it; nothing runs. */
export async function printDryRun(
  loaded: LoadedSpec, picked: Selection | undefined, format: 'text' | 'json', isolation: 'process' | 'sandbox' | undefined, ctx: Ctx, remote?: RemoteCacheOptions,
): Promise<void> {
  const all = [...loaded.spec.steps.keys()];
  const plan = await dryRun(loaded, picked?.steps ?? all, picked?.targets ?? all, isolation, remote);
  for (const w of plan.warnings) ctx.printer.info(`warning: ${w}`);
  const changed = picked ? Object.fromEntries([...picked.changed].map(([ref, steps]) => [ref, steps])) : {};
  if (format === 'json' || ctx.globals.output === 'json') {
    process.stdout.write(JSON.stringify({ dry_run: true, ...plan, ...(picked && picked.changed.size > 0 ? { changed_since: changed } : {}) }, null, 2) + '\n');
    return;
  }
  const lines = [`Pipeline ${plan.pipeline}: ${plan.steps.length} step${plan.steps.length === 1 ? '' : 's'} would run (dry run: nothing ran)`, ''];
  const width = Math.max(4, ...plan.steps.map((s) => s.name.length));
  lines.push(`${'STEP'.padEnd(width)}  GROUP  CACHE     KEY           NEEDS`);
  for (const s of plan.steps) {
    const key = s.key ? `${s.key.slice(0, 12)}${s.provisional ? '*' : ''}` : '-';
    const note = s.problem ?? (s.remote_miss ? `remote: ${s.remote_miss}` : undefined);
    lines.push(`${s.name.padEnd(width)}  ${String(s.group).padEnd(5)}  ${s.cache.padEnd(8)}  ${key.padEnd(12)}  ${s.needs.join(', ') || '-'}${note ? `  (${note})` : ''}`);
  }
  if (plan.steps.some((s) => s.provisional)) lines.push('', '* a step it needs is not a cache hit: once that runs, this key may change');
  if (plan.remote_cache) lines.push('', `Remote cache: ${plan.remote_cache} (remote: a trusted entry whose objects are all on the server)`);
  for (const [ref, steps] of Object.entries(changed)) lines.push('', `Inputs changed since ${ref}: ${steps.join(', ') || 'none'}`);
  process.stdout.write(lines.join('\n') + '\n');
}

/**
 * `--summarize`: the run summary (what `--output json` prints, plus the selection) as a file under
 * .evident/runs/, as turbo writes .turbo/runs/<id>.json. Returns its path.
 */
export function writeSummary(workspace: string, summary: Record<string, unknown>, result: RunResult, picked: Selection | undefined, opts: TurboRunOptions): string {
  const dir = path.join(workspace, '.evident', 'runs');
  fs.mkdirSync(dir, { recursive: true });
  const id = result.record.startedAt.replace(/[:.]/g, '-');
  const file = path.join(dir, `${id}.json`);
  const body = {
    ...summary,
    selection: picked
      ? { filters: opts.filter ?? [], affected: affectedBase(opts) ?? null, targets: picked.targets, steps: picked.steps, changed_since: Object.fromEntries(picked.changed) }
      : null,
  };
  fs.writeFileSync(file, JSON.stringify(body, null, 2) + '\n');
  return file;
}

/** What --output-logs prints under a step's result line: its whole log, the last lines of a failure, its key (hash-only), or nothing. */
export function logLinesFor(mode: OutputLogs | undefined, showLogs: boolean, status: string, cache: string): 'all' | 'tail' | 'key' | 'none' {
  if (showLogs || mode === 'full') return 'all';
  const failed = status === 'failed';
  switch (mode) {
    case undefined: return failed ? 'tail' : 'none';
    case 'errors-only': return failed ? 'all' : 'none';
    case 'new-only': return cache === 'hit' ? 'none' : 'all';
    case 'hash-only': return 'key';
    default: return 'none';
  }
}
