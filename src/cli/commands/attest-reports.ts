import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { EvidentError } from '../../core/index.js';
import { uploadAttachments } from '../attachments.js';
import { attestationFlags, type AttestationFlagValues } from './attestation-flags.js';
import { action, type Ctx } from '../context.js';
import { commitDefaults, readJsonFile } from '../flags.js';
import { resolveFingerprint } from './fingerprint-input.js';

export type ReportOptions = AttestationFlagValues;

/** Every `*.xml` directly in the directory, in name order (Surefire, pytest, jest-junit... write them there). */
export function junitFiles(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    throw new EvidentError('INVALID_ARGUMENT', `--results-dir: cannot read ${dir}: ${(err as Error).message}`);
  }
  const files = names.filter((n) => n.toLowerCase().endsWith('.xml')).sort().map((n) => path.join(dir, n)).filter((f) => fs.statSync(f).isFile());
  if (files.length === 0) throw new EvidentError('INVALID_ARGUMENT', `--results-dir: no .xml files in ${dir}`);
  return files;
}

/**
 * Kosli's `--upload-results=false` keeps the results file out of Kosli and sends the CLI's own verdict. Evident's
 * server reaches the verdict itself, by parsing the uploaded results: without them there would be nothing it
 * checked, so the flag is refused (before anything is sent) rather than recording a verdict nobody verified.
 */
export function refuseUnuploadedResults(opts: { uploadResults?: string }): void {
  if (opts.uploadResults === undefined || /^(true|1|yes)$/i.test(opts.uploadResults)) return;
  if (!/^(false|0|no)$/i.test(opts.uploadResults)) throw new EvidentError('INVALID_ARGUMENT', `--upload-results must be true or false, not ${JSON.stringify(opts.uploadResults)}`);
  throw new EvidentError('INVALID_ARGUMENT', '--upload-results=false is not offered: the server judges compliance by parsing the results, so they must be uploaded (docs/kosli.md, "Differences that remain")');
}

async function common(opts: ReportOptions & { uploadResults?: string }, ctx: Ctx, pathArg: string | undefined, reportFiles: string[]) {
  refuseUnuploadedResults(opts);
  const fingerprint = opts.fingerprint || pathArg ? await resolveFingerprint(opts, pathArg) : undefined;
  if (ctx.globals.dryRun) {
    ctx.printer.info(`dry run: would upload ${reportFiles.join(', ')} and report ${opts.name}`);
    return undefined;
  }
  const uploaded = await ctx.client().uploadEvidence(reportFiles.map((f) => ({ path: f })));
  return {
    name: opts.name, reports: uploaded.map((u) => u.digest), fingerprint, git_commit: opts.commit ?? (opts.name.includes('.') ? commitDefaults().commit : undefined),
    description: opts.description, annotations: opts.annotate, evidence: await uploadAttachments(ctx, opts.attachments),
    user_data: opts.userData ? readJsonFile('--user-data', opts.userData) : undefined,
  };
}

function print(ctx: Ctx, a: { type: string; name: string; compliant: boolean; entry_index: number; summary: unknown }, line: string): void {
  ctx.printer.result(a, () => ctx.printer.text(`${a.type} attestation ${a.name}: ${line}; compliant ${a.compliant} (log entry ${a.entry_index})`));
}

export async function attestJUnit(opts: ReportOptions & { resultsDir: string }, ctx: Ctx, [pathArg]: string[]): Promise<void> {
  const body = await common(opts, ctx, pathArg, junitFiles(opts.resultsDir));
  if (!body) return;
  const a = await ctx.client().attestJUnit(opts.flow, opts.trail, body);
  const t = (a.summary as { totals: { tests: number; failures: number; errors: number; skipped: number } }).totals;
  print(ctx, a, `${t.tests} tests, ${t.failures} failures, ${t.errors} errors, ${t.skipped} skipped`);
}

export interface SarifOptions extends ReportOptions {
  scanResults: string;
  thresholdLevel?: 'error' | 'warning' | 'note';
  thresholdSeverity?: 'critical' | 'high' | 'medium' | 'low';
}

export async function attestSarif(type: 'sarif' | 'snyk', opts: SarifOptions, ctx: Ctx, [pathArg]: string[]): Promise<void> {
  const body = await common(opts, ctx, pathArg, [opts.scanResults]);
  if (!body) return;
  const threshold = opts.thresholdLevel || opts.thresholdSeverity ? { level: opts.thresholdLevel, severity: opts.thresholdSeverity } : undefined;
  const a = await ctx.client().attestSarif(type, opts.flow, opts.trail, { ...body, threshold });
  const s = a.summary as { results: number; by_level: Record<string, number> };
  print(ctx, a, `${s.results} results (error ${s.by_level.error}, warning ${s.by_level.warning}, note ${s.by_level.note})`);
}

export async function attestProvenance(opts: ReportOptions, ctx: Ctx, [file]: string[]): Promise<void> {
  let text: string;
  try {
    text = fs.readFileSync(file!, 'utf8');
  } catch (err) {
    throw new EvidentError('INVALID_ARGUMENT', `cannot read ${file}: ${(err as Error).message}`);
  }
  // Checked here first so that a bad file is not even uploaded; the server checks it again.
  const { parseProvenanceDocument } = await import('../../formats/index.js');
  const doc = parseProvenanceDocument(text);
  if (opts.fingerprint && !doc.subjects.some((s) => s.sha256 === opts.fingerprint)) {
    throw new EvidentError('INVALID_ARGUMENT', `--fingerprint ${opts.fingerprint} is not the SHA-256 of any subject of ${file} (subjects: ${doc.subjects.map((s) => `${s.name} ${s.sha256}`).join(', ')})`);
  }
  if (ctx.globals.dryRun) {
    ctx.printer.info(`dry run: would upload ${file} (${doc.subjects.length} subject(s), builder ${doc.builderId}) and report ${opts.name}`);
    return;
  }
  const [uploaded] = await ctx.client().uploadEvidence([{ path: file! }]);
  const result = await ctx.client().attestProvenance(opts.flow, opts.trail, {
    name: opts.name, envelope: uploaded!.digest, fingerprint: opts.fingerprint, git_commit: opts.commit, description: opts.description,
    annotations: opts.annotate, evidence: await uploadAttachments(ctx, opts.attachments), user_data: opts.userData ? readJsonFile('--user-data', opts.userData) : undefined,
  });
  ctx.printer.result(result, () => {
    for (const a of result.attestations) ctx.printer.text(`provenance attestation ${a.name}: artifact ${a.artifact_fingerprint} (log entry ${a.entry_index})`);
  });
}

export function registerAttestReports(attest: Command): void {
  attestationFlags(attest.command('provenance <file>').description('Report SLSA provenance (a DSSE envelope or an in-toto statement): recorded for each artifact of the trail that is one of its subjects, or for --fingerprint'), { path: false })
    .addHelpText('after', '\nThe file is checked (in-toto Statement v1, SLSA Provenance v1 predicate, subjects with sha256 digests) and stored as evidence.\nExample:\n  evident attest provenance .evident/provenance/build/out%2Fapp.intoto.json --name provenance --flow runner --trail $GIT_SHA')
    .action(action(attestProvenance));
  attestationFlags(attest.command('junit [path]').description('Report JUnit XML test results: the files are uploaded and parsed by the server; compliant iff no failures and no errors'))
    .option('--results-dir <dir>', 'directory of JUnit XML files', '.')
    .option('--upload-results <bool>', 'Kosli: only true is offered (the server parses the results to judge them)')
    .addHelpText('after', '\nUnderstands Maven Surefire, pytest, jest-junit, vitest, go-junit-report and JUnit 5 reports.\nExample:\n  evident attest junit --results-dir target/surefire-reports --name runner.unit-test --fingerprint $FP --flow runner --trail $GIT_SHA')
    .action(action(attestJUnit));
  for (const type of ['snyk', 'sarif'] as const) {
    attestationFlags(attest.command(`${type} [path]`).description(`Report ${type === 'snyk' ? 'Snyk' : 'any scanner\'s'} SARIF 2.1.0 results: uploaded and parsed by the server; compliant per the threshold`))
      .requiredOption('--scan-results <file>', 'the SARIF file')
      .option('--upload-results <bool>', 'Kosli: only true is offered (the server parses the results to judge them)')
      .option('--threshold-level <level>', 'non-compliant if any result is at or above: error | warning | note (default: error)')
      .option('--threshold-severity <severity>', 'non-compliant if any result is at or above: critical | high | medium | low')
      .addHelpText('after', `\nExample:\n  evident attest ${type} --scan-results ${type}.sarif --threshold-severity high --name runner.${type}-scan --fingerprint $FP --flow runner --trail $GIT_SHA`)
      .action(action<SarifOptions>((o, ctx, args) => attestSarif(type, o, ctx, args)));
  }
}
