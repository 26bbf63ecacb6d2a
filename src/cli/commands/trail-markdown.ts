import type { recordSchemas } from '../../client/index.js';
import { complianceRows } from './trails.js';

// Kosli's `get trail --output markdown`: a summary to append to a GitHub job summary ($GITHUB_STEP_SUMMARY) or a
// pull-request comment. GitHub-flavoured Markdown: a heading with the state, the trail's facts, then one table row
// per required or recorded attestation (as `get trail` prints them), then the artifacts.

const ICON: Record<string, string> = { COMPLIANT: '✅', 'NON-COMPLIANT': '❌', INCOMPLETE: '⚠️' };

/** `|`, `\` and line breaks would break a table cell; `<`/`>` would start HTML. */
export function cell(value: unknown): string {
  const text = value === null || value === undefined || value === '' ? '-' : String(value);
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r?\n/g, ' ');
}

const table = (head: string[], rows: unknown[][]) =>
  [`| ${head.join(' | ')} |`, `|${head.map(() => ' --- ').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');

export function trailMarkdown(t: recordSchemas.TrailDetail): string {
  const state = t.compliance.state;
  const parts = [
    `## ${ICON[state] ?? ''} Trail ${cell(t.name)} of flow ${cell(t.flow)}: ${state}`.replace('##  ', '## '),
    '',
    table(['Field', 'Value'], [
      ['Description', t.description], ['Git commit', t.git_commit], ['Commit URL', t.commit_url], ['Origin URL', t.origin_url],
      ['Created', t.created_at], ['Log entry', t.entry_index],
    ]),
    '',
    '### Attestations',
    '',
    table(['For', 'Attestation', 'Type', 'Status', 'Compliant', 'Required'], complianceRows(t.compliance)),
  ];
  if (t.artifacts.length > 0) {
    parts.push('', '### Artifacts', '', table(['Artifact', 'Fingerprint', 'Commit'], t.artifacts.map((a) => [a.name, a.fingerprint, a.git_commit])));
  }
  return `${parts.join('\n')}\n`;
}
