import type { Command } from 'commander';
import type { recordSchemas } from '../../client/index.js';
import { EvidentError } from '../../core/index.js';
import { action, type Ctx } from '../context.js';
import { ago, formatTime } from '../time-format.js';

type Detail = recordSchemas.ArtifactDetail;

/** The layout of `kosli get artifact` in seed 002: aligned fields, then the history with times. */
export function artifactText(a: Detail, now = Date.now()): string {
  const field = (label: string, value: string) => `${`${label}:`.padEnd(14)}${value}`;
  const lines = [
    field('Name', a.display_name),
    field('Flow', a.flow),
    field('Trail', a.trail),
    field('Fingerprint', a.fingerprint),
    field('Created on', `${formatTime(a.created_at)} • ${ago(a.created_at, now)}`),
    field('Git commit', a.git_commit ?? 'N/A'),
    field('Commit URL', a.commit_url ?? 'N/A'),
    field('Commit time', a.commit_time ?? 'N/A'),
    field('Build URL', a.build_url ?? 'N/A'),
    field('State', a.state),
    'History:',
  ];
  const width = Math.max(...a.history.map((h) => h.event.length));
  for (const h of a.history) lines.push(`    ${h.event.padEnd(width)}  ${formatTime(h.timestamp)}`);
  // After the seed's layout: each requirement of the trail's template, then what it did not ask for (Kosli's attestation statuses).
  const statuses = [...a.compliance.attestations, ...a.compliance.unexpected];
  if (statuses.length > 0) {
    lines.push('Attestations:');
    const nameWidth = Math.max(...statuses.map((s) => `${s.attestation_name} (${s.attestation_type})`.length));
    for (const s of statuses) {
      const verdict = s.status === 'MISSING' ? 'MISSING' : s.is_compliant ? 'compliant' : 'NON-COMPLIANT';
      lines.push(`    ${`${s.attestation_name} (${s.attestation_type})`.padEnd(nameWidth)}  ${verdict}${s.unexpected ? ' (not required)' : ''}`);
    }
  }
  return lines.join('\n');
}

export async function getArtifact(opts: { trail?: string }, ctx: Ctx, [ref]: string[]): Promise<void> {
  const { items: all } = await ctx.client().getArtifacts(ref!);
  // Kosli's --trail: the artifact as reported in that trail (one fingerprint may be reported in several).
  const items = opts.trail === undefined ? all : all.filter((a) => a.trail === opts.trail);
  if (items.length === 0 && all.length > 0) throw new EvidentError('NOT_FOUND', `${ref} was not reported in trail ${opts.trail}`);
  ctx.printer.result(items.length === 1 ? items[0] : items, () => ctx.printer.text(items.map((a) => artifactText(a)).join('\n\n')));
}

export function registerGetArtifact(get: Command): void {
  get
    .command('artifact <ref>')
    .description('Show an artifact and its history: REF is FLOW@FINGERPRINT, FLOW:COMMIT or a fingerprint prefix (>= 5 hex)')
    .option('--trail <name>', 'only as reported in this trail (Kosli)')
    .addHelpText('after', '\nExamples:\n  evident get artifact runner:16d9990\n  evident get artifact runner@9af401c4 --trail 16d9990\n  evident get artifact 9af401c4 --output json')
    .action(action(getArtifact));
}
