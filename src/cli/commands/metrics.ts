import type { Command } from 'commander';
import type { metricsSchemas } from '../../client/index.js';
import { EvidentError } from '../../core/index.js';
import { action, intFlag, type Ctx } from '../context.js';

type Stats = metricsSchemas.DoraStats;

interface DoraOptions {
  environment: string;
  since?: string;
  until?: string;
  flow?: string;
  bucket?: string;
  limit?: number;
  cursor?: string;
}

const RELATIVE = /^(\d{1,5})([dw])$/;
const DAY_MS = 86_400_000;

/** `30d` and `12w` are counted back from now; dates and date-times go to the server as given (it checks them). */
export function sinceFlag(value: string, now = Date.now()): string {
  const m = RELATIVE.exec(value);
  if (!m) return value;
  return new Date(now - Number(m[1]) * (m[2] === 'w' ? 7 : 1) * DAY_MS).toISOString();
}

/** `2h 5m`, `3d 4h`, `45s`: the two largest units (a zero second unit left out). */
export function duration(seconds: number | null): string {
  if (seconds === null) return '-';
  const sign = seconds < 0 ? '-' : '';
  let rest = Math.abs(Math.round(seconds));
  if (rest < 60) return `${sign}${rest}s`;
  const parts: string[] = [];
  for (const [size, unit] of [[86_400, 'd'], [3_600, 'h'], [60, 'm']] as const) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0 || parts.length > 0) parts.push(`${n}${unit}`);
    if (parts.length === 2) break;
  }
  return sign + parts.filter((p) => !p.startsWith('0')).join(' ');
}

const rate = (s: Stats) => {
  const c = s.change_failure_rate;
  return c.rate === null ? 'not judged' : `${Math.round(c.rate * 1000) / 10}% (${c.non_compliant}/${c.judged})`;
};

const restore = (s: Stats) => {
  const r = s.time_to_restore_seconds;
  if (r === undefined || r.count + r.unrestored === 0) return '';
  return `${duration(r.median)}${r.unrestored > 0 ? ` (${r.unrestored} unrestored)` : ''}`;
};

const row = (name: string, s: Stats) => [
  name, s.deployments, s.deployments_per_day.toFixed(2), duration(s.lead_time_seconds.median), duration(s.lead_time_seconds.p90), rate(s), restore(s),
];

export async function doraMetrics(opts: DoraOptions, ctx: Ctx): Promise<void> {
  const report = await ctx.client().doraMetrics({
    environment: opts.environment, since: opts.since === undefined ? undefined : sinceFlag(opts.since),
    until: opts.until === undefined ? undefined : sinceFlag(opts.until), flow: opts.flow, bucket: opts.bucket,
    limit: opts.limit, cursor: opts.cursor,
  });
  ctx.printer.result(report, () => {
    ctx.printer.text(`DORA metrics of ${report.environment} from ${report.since} to ${report.until}`);
    // Every deployment is of one flow or unreported: the count holds whatever page of the list came back.
    const unreported = report.overall.deployments - report.flows.reduce((n, f) => n + f.deployments, 0);
    const rows = report.flows.map((f) => row(f.flow, f));
    if (unreported > 0 && opts.flow === undefined) rows.push(['(unreported)', unreported, '', '', '', '', '']);
    rows.push(row('OVERALL', report.overall));
    ctx.printer.table(['FLOW', 'DEPLOYMENTS', 'PER DAY', 'LEAD TIME MEDIAN', 'LEAD TIME P90', 'CHANGE FAILURE RATE', 'TIME TO RESTORE'], rows);
    const { count, invalid } = report.overall.lead_time_seconds;
    const missing = report.overall.deployments - count - invalid;
    if (missing > 0) ctx.printer.info(`${missing} deployment(s) without a commit time: left out of lead time`);
    if (invalid > 0) ctx.printer.info(`${invalid} deployment(s) with a commit time later than the deployment (bad data): left out of lead time`);
  });
}

export function checkBucket(value: string): string {
  if (value !== 'day' && value !== 'week') throw new EvidentError('INVALID_ARGUMENT', `--bucket must be day or week, not ${JSON.stringify(value)}`);
  return value;
}

export function registerMetricsCommands(program: Command): void {
  const metrics = program.command('metrics').description('Delivery metrics computed from the record');
  metrics
    .command('dora')
    .description('DORA metrics of an environment: deployment frequency, lead time for changes, change failure rate and time to restore, per flow and overall')
    .requiredOption('--environment <name>', 'the environment deployed into')
    .option('--since <when>', 'start of the window (inclusive): YYYY-MM-DD (midnight UTC), an RFC 3339 date-time, or 30d / 12w back from now (default: 30 days before --until)')
    .option('--until <when>', 'end of the window (exclusive), in the same forms (default: now)')
    .option('--flow <name>', 'only deployments of artifacts reported into this flow')
    .option('--bucket <size>', 'series buckets in --output json: day or week (default: day for a window of at most 31 days, else week)', checkBucket)
    .option('--limit <n>', 'deployments listed in --output json, newest first (1-1000, default 100); the figures cover the whole window', intFlag('--limit', 1))
    .option('--cursor <cursor>', "the next page of --output json's deployments: its next_cursor")
    .addHelpText('after', [
      '',
      'Definitions (docs/metrics.md):',
      '  deployment   an artifact fingerprint that starts running in the environment: in a snapshot and not in the one',
      '               before (a re-deploy after it stopped counts again; a scale change does not); deployed_at is that',
      "               snapshot's time. Its flow is the flow of the artifact's latest report; artifacts never reported",
      '               into a flow count overall, as (unreported), not per flow.',
      '  per day      deployments / days in the window.',
      "  lead time    deployed_at - the artifact's commit time (attest artifact --commit-time, or git's committer date);",
      '               median and p90 by nearest rank; deployments without a commit time, or with one later than',
      '               the deployment (bad data, counted as invalid), are left out of it.',
      '  change failure rate   non-compliant deployments / judged deployments: the artifact in the snapshot it started in,',
      '               against the policies attached then, on the evidence recorded by then (attestations up to that',
      '               snapshot, exemptions before it: what came later changes nothing); not judged when no policy was attached.',
      '  time to restore   from each change failure (a deployment that started non-compliant) to the next deployment of',
      '               the same flow that started compliant, in a later snapshot of the window (median; "unrestored":',
      '               failures with none yet). Evident records no incidents: a failure here is a non-compliant start.',
      '',
      'Examples:',
      '  evident metrics dora --environment aws-prod',
      '  evident metrics dora --environment aws-prod --since 12w --flow runner',
      '  evident metrics dora --environment aws-prod --since 2026-11-01 --until 2026-12-01 --output json',
    ].join('\n'))
    .action(action(doraMetrics));
}
