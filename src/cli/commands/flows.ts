import type { Command } from 'commander';
import type { recordSchemas } from '../../client/index.js';
import { action, intFlag, type Ctx } from '../context.js';
import { readTextFile } from '../flags.js';

type Flow = recordSchemas.Flow;

function printFlow(ctx: Ctx, f: Flow): void {
  ctx.printer.result(f, () =>
    ctx.printer.table(['FIELD', 'VALUE'], [
      ['Name', f.name], ['Description', f.description], ['Created', f.created_at], ['Archived', f.archived_at ?? '-'],
      ['Template', f.template ? 'yes' : 'none'], ['Log entry', f.entry_index],
    ]),
  );
}

export interface CreateFlowOptions {
  description?: string;
  template?: string;
}

export async function createFlow(opts: CreateFlowOptions, ctx: Ctx, [name]: string[]): Promise<void> {
  const template = opts.template ? readTextFile('--template-file', opts.template) : undefined;
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
}

export async function listFlows(opts: ListFlowsOptions, ctx: Ctx): Promise<void> {
  const page = await ctx.client().listFlows({ cursor: opts.cursor, limit: opts.limit, includeArchived: opts.includeArchived });
  ctx.printer.result(page, () => {
    ctx.printer.table(['NAME', 'DESCRIPTION', 'CREATED', 'ARCHIVED'], page.items.map((f) => [f.name, f.description, f.created_at, f.archived_at ?? '']));
    if (page.next_cursor) ctx.printer.info(`more: --cursor ${page.next_cursor}`);
  });
}

export function registerFlowCommands(create: Command, get: Command, list: Command, archive: Command): void {
  create
    .command('flow <name>')
    .description('Create a flow: the sticky name of a value stream (usually one repository or pipeline)')
    .option('--description <text>', 'what the flow is')
    .option('--template-file <file>', 'flow template (YAML, Kosli version: 1 format)')
    .addHelpText('after', '\nExample:\n  evident create flow runner --description "cyber-dojo runner service" --template-file flow.yml')
    .action(action<CreateFlowOptions & { templateFile?: string }>((o, ctx, args) => createFlow({ ...o, template: o.templateFile }, ctx, args)));
  get.command('flow <name>').description('Show one flow').action(action(getFlow));
  archive.command('flow <name>').description('Archive a flow: it keeps its history and takes no new trails').action(action(archiveFlow));
  list
    .command('flows')
    .description('List flows, oldest first, a page at a time')
    .option('--include-archived', 'include archived flows')
    .option('--limit <n>', 'page size (1-1000)', intFlag('--limit', 1), 100)
    .option('--cursor <cursor>', 'the next page (printed on stderr after a full page)')
    .action(action<ListFlowsOptions>(listFlows));
}
