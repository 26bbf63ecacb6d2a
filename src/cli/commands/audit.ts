import fs from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { EvidentError } from '../../core/index.js';
import { analyze, formatDuration, loadSpec, readReceipts, type LoadedSpec } from '../../pipeline/index.js';
import { action, intFlag, type Ctx } from '../context.js';
import { FILE_FLAG } from './pipeline.js';
import { createPrinter } from '../output.js';

// `evident audit analyze [--period N]` (seed 003 §8.2): performance figures from the receipts of past runs
// (.evident/cache/receipts/), with the suggestions those receipts support (src/pipeline/audit.ts).

export async function auditAnalyze(opts: { file: string; period: number }, ctx: Ctx): Promise<void> {
  const workspace = path.dirname(path.resolve(opts.file));
  // The pipeline is optional here: without it there is no critical path, the rest still holds.
  let loaded: LoadedSpec | undefined;
  if (fs.existsSync(opts.file)) loaded = loadSpec(opts.file);
  const { receipts, unreadable } = readReceipts(workspace, opts.period);
  for (const name of unreadable) ctx.printer.info(`warning: receipt ${name} is not readable; left out`);
  if (receipts.length === 0) throw new EvidentError('NOT_FOUND', `no receipt in the last ${opts.period} days under ${path.join(workspace, '.evident/cache/receipts')}: run \`evident run\` first`);
  const report = analyze(receipts, { periodDays: opts.period, unreadable, ...(loaded ? { graph: loaded.spec.steps } : {}) });
  const pct = (x: number | undefined) => (x === undefined ? 'n/a (no cached step)' : `${(x * 100).toFixed(1)}%`);
  ctx.printer.result(
    {
      period_days: report.periodDays,
      executions: report.executions,
      average_duration_secs: report.avgDurationSecs,
      cache_hit_rate: report.cacheHitRate ?? null,
      slowest_steps: report.slowest.map((s) => ({ step: s.step, avg_secs: s.avgSecs, runs: s.runs })),
      steps: report.steps.map((s) => ({ step: s.step, runs: s.runs, avg_secs: s.avgSecs, hits: s.hits, misses: s.misses, disabled: s.disabled, failures: s.failures })),
      critical_path: report.criticalPath ? { steps: report.criticalPath.steps, duration_secs: report.criticalPath.durationSecs ?? null } : null,
      suggestions: report.suggestions,
      unreadable_receipts: report.unreadable,
    },
    () => {
      const title = `Pipeline Performance Analysis (${report.periodDays} days)`;
      ctx.printer.text(title);
      ctx.printer.text('═'.repeat(title.length));
      ctx.printer.text(`Total Executions: ${report.executions}`);
      ctx.printer.text(`Average Duration: ${formatDuration(report.avgDurationSecs)}`);
      ctx.printer.text(`Cache Hit Rate: ${pct(report.cacheHitRate)}`);
      ctx.printer.text('Slowest Steps:');
      report.slowest.forEach((s, i) => ctx.printer.text(`${i + 1}. ${s.step} (avg: ${formatDuration(s.avgSecs)})`));
      if (report.criticalPath) ctx.printer.text(`Critical Path: ${report.criticalPath.steps.join(' -> ')}${report.criticalPath.durationSecs !== undefined ? ` (${formatDuration(report.criticalPath.durationSecs)})` : ''}`);
      ctx.printer.text('Optimization Opportunities:');
      if (report.suggestions.length === 0) ctx.printer.text('- none found in these receipts');
      for (const s of report.suggestions) ctx.printer.text(`- ${s}`);
    },
  );
}

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('Analyse past runs of the pipeline from their receipts');
  audit
    .command('analyze')
    .description('Executions, average duration, cache hit rate, slowest steps, critical path and suggestions')
    .option(...FILE_FLAG)
    .option('--period <days>', 'receipts of the last N days', intFlag('--period', 1), 30)
    .addHelpText('after', `
Reads .evident/cache/receipts/ in the workspace (one receipt per \`evident run\`). Suggestions are only
those the receipts support, e.g. "build never hits the cache: its inputs include a file that changes
every run (dist/timestamp.txt)".

Examples:
  evident audit analyze --period 30
  evident audit analyze --output json`)
    .action(action(auditAnalyze));
  // ATTEST's spelling (seed 003 §12.3: `attest audit report --format json | jq '.'`): the same report.
  audit
    .command('report')
    .description('The report of `audit analyze` (ATTEST\'s spelling); --format json is --output json')
    .option(...FILE_FLAG)
    .option('--period <days>', 'receipts of the last N days', intFlag('--period', 1), 30)
    .addOption(new Option('--format <format>', 'text (default) or json').choices(['text', 'json']).default('text'))
    .addHelpText('after', `
Examples:
  evident audit report --format json | jq '.'`)
    .action(action(async (opts: { file: string; period: number; format: 'text' | 'json' }, ctx: Ctx) => {
      await auditAnalyze(opts, opts.format === 'json' ? { ...ctx, printer: createPrinter('json') } : ctx);
    }));
}
