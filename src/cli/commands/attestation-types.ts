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
    ]);
    ctx.printer.text(`Schema: ${JSON.stringify(t.schema)}`);
    for (const r of t.jq_rules) ctx.printer.text(`jq rule: ${r}`);
  });
}

export interface CreateTypeOptions {
  schema?: string;
  jq?: string[];
  description?: string;
}

export async function createAttestationType(opts: CreateTypeOptions, ctx: Ctx, [name]: string[]): Promise<void> {
  // Without --schema (Kosli allows it) any JSON data is accepted: the empty schema.
  const schema = opts.schema === undefined ? {} : readJsonFile('--schema', opts.schema);
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) throw new EvidentError('INVALID_ARGUMENT', `--schema: ${opts.schema} must hold a JSON object`);
  if (ctx.globals.dryRun) return ctx.printer.info(`dry run: would define attestation type ${name}`);
  printType(ctx, await ctx.client().createAttestationType({ name: name!, description: opts.description, schema: schema as Record<string, unknown>, jq_rules: opts.jq }));
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
  const s = a.summary as { version: number; schema_errors: { path: string; message: string }[]; rules: { rule: string; ok: boolean; message?: string }[] };
  ctx.printer.result(a, () => {
    ctx.printer.text(`${a.type} v${s.version} attestation ${a.name}: compliant ${a.compliant} (log entry ${a.entry_index})`);
    for (const e of s.schema_errors) ctx.printer.text(`  schema: ${e.path}: ${e.message}`);
    for (const r of s.rules) ctx.printer.text(`  ${r.ok ? '[OK]' : '[FAIL]'} ${r.rule}${r.message ? ` — ${r.message}` : ''}`);
  });
}

export function registerAttestationTypes(create: Command, get: Command, list: Command, attest: Command): void {
  create
    .command('attestation-type <name>')
    .description('Define a custom attestation type: a JSON Schema and jq rules; defining it again makes a new version')
    .option('--schema <file>', 'JSON Schema file the attestation data must satisfy (default: any JSON)')
    .option('--jq <rule>', 'a jq rule that must hold for the data (jq -e), repeatable', (v: string, p: string[] = []) => [...p, v])
    .option('--description <text>', 'what the type is for')
    .addHelpText('after', "\nExample:\n  evident create attestation-type coverage --schema coverage.schema.json --jq '.line_coverage >= 80'")
    .action(action(createAttestationType));
  get.command('attestation-type <ref>').description('Show a custom attestation type: NAME (latest) or NAME@VERSION')
    .action(action<object>(async (_o, ctx, [ref]) => printType(ctx, await ctx.client().getAttestationType(ref!))));
  list.command('attestation-types').description('List every version of every custom attestation type')
    .action(action<object>(async (_o, ctx) => {
      const { items } = await ctx.client().listAttestationTypes();
      ctx.printer.result(items, () => ctx.printer.table(['NAME', 'VERSION', 'RULES', 'CREATED', 'DESCRIPTION'], items.map((t) => [t.name, t.version, t.jq_rules.length, t.created_at, t.description])));
    }));
  attestationFlags(attest.command('custom [path]').description("Report a custom attestation: the server checks the data against the type's schema and jq rules"))
    .requiredOption('--type <type>', 'custom attestation type: NAME or NAME@VERSION')
    .requiredOption('--attestation-data <file>', 'the JSON data to attest')
    .addHelpText('after', '\nExample:\n  evident attest custom --type coverage --attestation-data coverage.json --name runner.coverage --fingerprint $FP --flow runner --trail $GIT_SHA')
    .action(action(attestCustom));
}
