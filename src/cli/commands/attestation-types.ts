import type { Command } from 'commander';
import type { recordSchemas } from '../../client/index.js';
import { EvidentError } from '../../core/index.js';
import { action, type Ctx } from '../context.js';
import { readJsonFile } from '../flags.js';
import { resolveFingerprint } from './fingerprint-input.js';
import { uploadAttachments } from '../attachments.js';
import { attestationFlags, type AttestationFlagValues } from './attestation-flags.js';

function printType(ctx: Ctx, t: recordSchemas.AttestationType): void {
  ctx.printer.result(t, () => {
    ctx.printer.table(['FIELD', 'VALUE'], [
      ['Name', t.name], ['Version', t.version], ['Description', t.description], ['Created', t.created_at], ['Log entry', t.entry_index],
      ...(t.archived_at ? [['Archived', t.archived_at]] : []),
    ]);
    ctx.printer.text(`Schema: ${JSON.stringify(t.schema)}`);
    for (const r of t.jq_rules) ctx.printer.text(`jq rule: ${r}`);
    for (const s of t.summary ?? []) ctx.printer.text(`summary: ${s.name} = ${s.expression}`);
  });
}

export interface CreateTypeOptions {
  schema?: string;
  jq?: string[];
  description?: string;
  summary?: string[];
  summaryJson?: string;
}

/**
 * Kosli's `--summary NAME=EXPRESSION` (repeatable, in order; split on the first `=` so `==` stays in the
 * expression) or `--summary-json '[{"name": …, "expression": …}]'`; not both. Kosli's own checks and messages.
 */
export function parseSummary(opts: Pick<CreateTypeOptions, 'summary' | 'summaryJson'>): { name: string; expression: string }[] | undefined {
  if (opts.summary?.length && opts.summaryJson !== undefined) throw new EvidentError('INVALID_ARGUMENT', '--summary and --summary-json cannot be combined');
  if (opts.summaryJson !== undefined) {
    let value: unknown;
    try {
      value = JSON.parse(opts.summaryJson);
    } catch (err) {
      throw new EvidentError('INVALID_ARGUMENT', `--summary-json is not valid JSON: ${(err as Error).message}`);
    }
    if (!Array.isArray(value)) throw new EvidentError('INVALID_ARGUMENT', '--summary-json must be a JSON array of {name, expression} entries');
    return value.map((e: unknown, i) => {
      const { name, expression } = (e ?? {}) as { name?: unknown; expression?: unknown };
      if (typeof name !== 'string' || name.trim() === '') throw new EvidentError('INVALID_ARGUMENT', `--summary-json entry ${i + 1} is missing a name`);
      if (typeof expression !== 'string' || expression.trim() === '') throw new EvidentError('INVALID_ARGUMENT', `--summary-json entry ${i + 1} is missing an expression`);
      return { name: name.trim(), expression: expression.trim() };
    });
  }
  if (!opts.summary?.length) return undefined;
  return opts.summary.map((value, i) => {
    const eq = value.indexOf('=');
    if (eq < 0) throw new EvidentError('INVALID_ARGUMENT', `--summary entry ${i + 1} must be in the form NAME=EXPRESSION`);
    const [name, expression] = [value.slice(0, eq).trim(), value.slice(eq + 1).trim()];
    if (!name) throw new EvidentError('INVALID_ARGUMENT', `--summary entry ${i + 1} is missing a name`);
    if (!expression) throw new EvidentError('INVALID_ARGUMENT', `--summary entry ${i + 1} is missing an expression`);
    if (expression.startsWith('=')) throw new EvidentError('INVALID_ARGUMENT', `--summary entry ${i + 1} expression cannot start with '='`);
    return { name, expression };
  });
}

export async function createAttestationType(opts: CreateTypeOptions, ctx: Ctx, [name]: string[]): Promise<void> {
  // Without --schema (Kosli allows it) any JSON data is accepted: the empty schema.
  const schema = opts.schema === undefined ? {} : readJsonFile('--schema', opts.schema);
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) throw new EvidentError('INVALID_ARGUMENT', `--schema: ${opts.schema} must hold a JSON object`);
  const summary = parseSummary(opts);
  if (ctx.globals.dryRun) return ctx.printer.info(`dry run: would define attestation type ${name}`);
  printType(ctx, await ctx.client().createAttestationType({ name: name!, description: opts.description, schema: schema as Record<string, unknown>, jq_rules: opts.jq, summary }));
}

export interface AttestCustomOptions extends AttestationFlagValues {
  type: string;
  attestationData: string;
}

export async function attestCustom(opts: AttestCustomOptions, ctx: Ctx, [path]: string[]): Promise<void> {
  const fingerprint = opts.fingerprint || path ? await resolveFingerprint(opts, path) : undefined;
  const body = {
    name: opts.name, type: opts.type, data: readJsonFile('--attestation-data', opts.attestationData), fingerprint, git_commit: opts.commit,
    description: opts.description, annotations: opts.annotate, evidence: await uploadAttachments(ctx, opts.attachments),
    user_data: opts.userData ? readJsonFile('--user-data', opts.userData) : undefined,
  };
  if (ctx.globals.dryRun) return ctx.printer.info(`dry run: would report ${JSON.stringify({ ...body, data: '…' })}`);
  const a = await ctx.client().attestCustom(opts.flow, opts.trail, body);
  const s = a.summary as {
    version: number; schema_errors: { path: string; message: string }[]; rules: { rule: string; ok: boolean; message?: string }[];
    summary?: { name: string; value: unknown; message?: string }[];
  };
  ctx.printer.result(a, () => {
    ctx.printer.text(`${a.type} v${s.version} attestation ${a.name}: compliant ${a.compliant} (log entry ${a.entry_index})`);
    for (const e of s.schema_errors) ctx.printer.text(`  schema: ${e.path}: ${e.message}`);
    for (const r of s.rules) ctx.printer.text(`  ${r.ok ? '[OK]' : '[FAIL]'} ${r.rule}${r.message ? ` — ${r.message}` : ''}`);
    for (const v of s.summary ?? []) ctx.printer.text(`  ${v.name}: ${typeof v.value === 'string' ? v.value : JSON.stringify(v.value)}${v.message ? ` (${v.message})` : ''}`);
  });
}

export function registerAttestationTypes(create: Command, get: Command, list: Command, attest: Command, archive?: Command): void {
  archive
    ?.command('attestation-type <name>')
    .description('Archive a custom attestation type: every version keeps its history and the attestations made of it; it takes no new attestations or versions (Kosli)')
    .addHelpText('after', '\nExample:\n  evident archive attestation-type coverage')
    .action(action<object>(async (_o, ctx, [name]) => {
      if (ctx.globals.dryRun) return ctx.printer.info(`dry run: would archive attestation type ${name}`);
      const t = await ctx.client().archiveAttestationType(name!);
      ctx.printer.result(t, () => ctx.printer.text(`Attestation type ${t.name} archived at ${t.archived_at}`));
    }));
  create
    .command('attestation-type <name>')
    .description('Define a custom attestation type: a JSON Schema and jq rules; defining it again makes a new version')
    .option('--schema <file>', 'JSON Schema file the attestation data must satisfy (default: any JSON)')
    .option('--jq <rule>', 'a jq rule that must hold for the data (jq -e), repeatable', (v: string, p: string[] = []) => [...p, v])
    .option('--description <text>', 'what the type is for')
    .option('--summary <name=expression>', 'a value shown (and recorded) for each attestation of the type: NAME=jq expression, repeatable, in order (Kosli)', (v: string, p: string[] = []) => [...p, v])
    .option('--summary-json <json>', 'the summary as JSON: [{"name": …, "expression": …}] (Kosli; not with --summary)')
    .addHelpText('after', "\nExamples:\n  evident create attestation-type coverage --schema coverage.schema.json --jq '.line_coverage >= 80'\n  evident create attestation-type scan --summary 'Critical=.critical_count' --summary 'Tool=.scanner.name'")
    .action(action(createAttestationType));
  get.command('attestation-type <ref>').description('Show a custom attestation type: NAME (latest) or NAME@VERSION')
    .action(action<object>(async (_o, ctx, [ref]) => printType(ctx, await ctx.client().getAttestationType(ref!))));
  list.command('attestation-types').description('List every version of every custom attestation type')
    .action(action<object>(async (_o, ctx) => {
      const { items } = await ctx.client().listAttestationTypes();
      ctx.printer.result(items, () => ctx.printer.table(['NAME', 'VERSION', 'RULES', 'CREATED', 'ARCHIVED', 'DESCRIPTION'], items.map((t) => [t.name, t.version, t.jq_rules.length, t.created_at, t.archived_at ?? '', t.description])));
    }));
  attestationFlags(attest.command('custom [path]').description("Report a custom attestation: the server checks the data against the type's schema and jq rules"))
    .requiredOption('--type <type>', 'custom attestation type: NAME or NAME@VERSION')
    .requiredOption('--attestation-data <file>', 'the JSON data to attest')
    .addHelpText('after', '\nExample:\n  evident attest custom --type coverage --attestation-data coverage.json --name runner.coverage --fingerprint $FP --flow runner --trail $GIT_SHA')
    .action(action(attestCustom));
}
