import { Option, type Command } from 'commander';
import type { recordSchemas } from '../../client/index.js';
import { EvidentError } from '../../core/index.js';
import { action, intFlag, type Ctx } from '../context.js';
import { readTextFile } from '../flags.js';
import { collectRepeated } from '../arg-parsers.js';
import { formatTime } from '../time-format.js';
import { kosliFlowList, shaped } from '../kosli-json.js';
import { pageFlags, pageOf, type PageFlags } from '../paging.js';
import { parseTagFlags } from './tags.js';

type Flow = recordSchemas.Flow;

function printFlow(ctx: Ctx, f: Flow): void {
  ctx.printer.result(f, () =>
    ctx.printer.table(['FIELD', 'VALUE'], [
      ['Name', f.name], ['Description', f.description], ['Created', f.created_at], ['Archived', f.archived_at ?? '-'],
      ['Template', f.template ? 'yes' : 'none'], ['Tags', tagsText(f.tags)], ['Log entry', f.entry_index],
    ]),
  );
}

export interface CreateFlowOptions {
  description?: string;
  template?: string;
}

const tagsText = (tags: Record<string, string>) => Object.entries(tags).map(([k, v]) => `${k}=${v}`).join(', ') || '-';

/**
 * Reads a template file and checks it here, so its problems name the file (`flow.yml:3:7: …`) and nothing is sent.
 * The template parser (formats/, ~95 KB) loads here, not with the module: `list flows` and `get flow` never
 * need it (issue #21).
 */
export async function readTemplateFile(file: string): Promise<string> {
  const text = readTextFile('--template-file', file);
  (await import('../../formats/index.js')).parseFlowTemplate(text, file);
  return text;
}

export async function createFlow(opts: CreateFlowOptions & { useEmptyTemplate?: boolean }, ctx: Ctx, [name]: string[]): Promise<void> {
  if (opts.useEmptyTemplate && opts.template) throw new EvidentError('INVALID_ARGUMENT', 'give --template-file or --use-empty-template, not both');
  const template = opts.template ? await readTemplateFile(opts.template) : undefined;
  if (ctx.globals.dryRun) return ctx.printer.info(`dry run: would create flow ${name}`);
  printFlow(ctx, await ctx.client().createFlow({ name: name!, description: opts.description, template }));
}

export async function getFlow(_opts: object, ctx: Ctx, [name]: string[]): Promise<void> {
  printFlow(ctx, await ctx.client().getFlow(name!));
}

export async function archiveFlow(_opts: object, ctx: Ctx, [name]: string[]): Promise<void> {
  if (ctx.globals.dryRun) return ctx.printer.info(`dry run: would archive flow ${name}`);
  printFlow(ctx, await ctx.client().archiveFlow(name!));
}

export interface ListFlowsOptions {
  includeArchived?: boolean;
  limit: number;
  cursor?: string;
  sort?: string;
  missingAttestationType?: string;
}

export async function listFlows(opts: ListFlowsOptions & PageFlags & { name?: string }, ctx: Ctx): Promise<void> {
  const page = await pageOf(opts, (q) => ctx.client().listFlows({
    ...q, includeArchived: opts.includeArchived, sort: opts.sort, missingAttestationType: opts.missingAttestationType,
  }));
  // Kosli's --name: flows whose name contains it.
  if (opts.name !== undefined) page.items = page.items.filter((f) => f.name.includes(opts.name!));
  ctx.printer.result(shaped(ctx, page, (p) => kosliFlowList(p.items)), () => {
    ctx.printer.table(['NAME', 'LAST DEPLOYMENT', 'DEPLOYED AT', 'COMPLIANCE', 'LATEST TRAIL', 'DESCRIPTION'], page.items.map((f) => [
      f.archived_at ? `${f.name} (archived)` : f.name,
      f.last_deployment ? `${f.last_deployment.environment}#${f.last_deployment.snapshot}` : '-',
      f.last_deployment ? formatTime(f.last_deployment.at) : '-',
      f.compliance ?? '-',
      f.latest_trail ?? '-',
      f.description,
    ]));
    if (page.next_cursor) ctx.printer.info(`more: --cursor ${page.next_cursor}`);
  });
}

export interface TagFlowOptions {
  set: string[];
  unset: string[];
}

export async function tagFlow(opts: TagFlowOptions, ctx: Ctx, [name]: string[]): Promise<void> {
  const change = parseTagFlags(opts);
  if (ctx.globals.dryRun) return ctx.printer.info(`dry run: would tag flow ${name}: ${JSON.stringify(change)}`);
  printFlow(ctx, await ctx.client().tagFlow(name!, change));
}

export function registerTagFlow(tag: Command): void {
  tag
    .command('flow <name>')
    .alias('flows')
    .description("Set or remove a flow's tags (key/value labels that environment policies can test as flow.tags.<key>)")
    .option('--set <key=value>', 'set a tag (repeatable); key: 1-64 letters, digits, _ . -; value: at most 256 characters', collectRepeated, [])
    .option('--unset <key>', 'remove a tag (repeatable)', collectRepeated, [])
    .addHelpText('after', '\nExamples:\n  evident tag flow runner --set team=core --set tier=1\n  evident tag flow runner --unset tier --output json')
    .action(action<TagFlowOptions>(tagFlow));
}

export function registerFlowCommands(create: Command, get: Command, list: Command, archive: Command): void {
  create
    .command('flow <name>')
    .description('Create a flow: the sticky name of a value stream (usually one repository or pipeline); run again, update its description or template')
    .option('--description <text>', 'what the flow is')
    .option('--template-file <file>', 'flow template (YAML, Kosli version: 1 format)')
    .option('--use-empty-template', 'no template: nothing is required (Kosli; the default without --template-file)')
    .addOption(new Option('--visibility <visibility>', "Kosli's deprecated flow visibility: accepted and ignored (an organisation's records are private to it)").choices(['public', 'private']))
    .addHelpText('after', '\nRun again, it changes only what it is given (one log entry), or nothing at all.\n\nExample:\n  evident create flow runner --description "cyber-dojo runner service" --template-file flow.yml')
    .action(action<CreateFlowOptions & { templateFile?: string }>((o, ctx, args) => createFlow({ ...o, template: o.templateFile }, ctx, args)));
  get.command('flow <name>').description('Show one flow').action(action(getFlow));
  archive.command('flow <name>').description('Archive a flow: it keeps its history and takes no new trails').action(action(archiveFlow));
  list
    .command('flows')
    .description("List flows with each one's last deployment and its latest trail's compliance, a page at a time")
    .option('--include-archived', 'include archived flows')
    .addOption(new Option('--sort <order>', 'name; last-deployment (most recent first, never deployed last); compliance (NON-COMPLIANT, INCOMPLETE, COMPLIANT, no trail). Default: oldest first')
      .choices(['name', 'last-deployment', 'compliance']))
    .option('--missing-attestation-type <type>', "only flows that lack TYPE: no attestation of that type was recorded in the flow's latest trail (on the trail or any of its artifacts, compliant or not); a flow without trails lacks every type")
    .option('--limit <n>', 'page size (1-1000)', intFlag('--limit', 1), 100)
    .option('--cursor <cursor>', 'the next page (printed on stderr after a full page)')
    .option('--name <text>', 'only flows whose name contains TEXT (Kosli), in the page asked for')
    .addHelpText('after', [
      '', 'LAST DEPLOYMENT is the latest snapshot in which one of the flow\'s artifacts started running (ENV#N) and when;',
      'COMPLIANCE is the state of the flow\'s latest trail against the template it began with.', '',
      'Examples:', '  evident list flows --sort last-deployment', '  evident list flows --missing-attestation-type snyk', '  evident list flows --sort compliance --output json',
    ].join('\n'));
  pageFlags(list.commands.at(-1)!).action(action(listFlows));
}
