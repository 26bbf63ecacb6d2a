import path from 'node:path';
import type { Command } from 'commander';
import { EvidentError } from '../../core/index.js';
import { WORKSPACE_CONFIG_KEYS, configFlag, parseConfigValue, readWorkspaceConfig, updateWorkspaceConfig, workspaceConfigPath } from '../../pipeline/index.js';
import { action, type Ctx } from '../context.js';
import { FILE_FLAG } from './pipeline.js';

// `evident config set|get|unset|list` (ATTEST's `attest config set deterministic true`, seed 003 §6.1):
// the workspace's defaults for `evident run` in .evident/config.yaml (src/pipeline/workspace-config.ts).

const workspaceOf = (file: string) => path.dirname(path.resolve(file));

export async function configSet(opts: { file: string }, ctx: Ctx, args: string[]): Promise<void> {
  const [key, text] = args as [string, string];
  const workspace = workspaceOf(opts.file);
  const value = parseConfigValue(key, text);
  updateWorkspaceConfig(workspace, key, value);
  ctx.printer.result({ key, value, file: workspaceConfigPath(workspace) }, () => ctx.printer.text(`${key} = ${String(value)} (evident run in ${workspace} now behaves as with ${configFlag(key as never)}${typeof value === 'boolean' ? (value ? '' : ' off') : ` ${String(value)}`})`));
}

export async function configGet(opts: { file: string }, ctx: Ctx, args: string[]): Promise<void> {
  const key = args[0]!;
  if (!(WORKSPACE_CONFIG_KEYS as string[]).includes(key)) parseConfigValue(key, '');
  const value = (readWorkspaceConfig(workspaceOf(opts.file)) as Record<string, unknown>)[key];
  if (value === undefined) throw new EvidentError('NOT_FOUND', `${key} is not set in ${workspaceConfigPath(workspaceOf(opts.file))}`);
  ctx.printer.result({ key, value }, () => ctx.printer.text(String(value)));
}

export async function configUnset(opts: { file: string }, ctx: Ctx, args: string[]): Promise<void> {
  const key = args[0]!;
  updateWorkspaceConfig(workspaceOf(opts.file), key, undefined);
  ctx.printer.result({ key, unset: true }, () => ctx.printer.text(`${key} unset`));
}

export async function configList(opts: { file: string }, ctx: Ctx): Promise<void> {
  const config = readWorkspaceConfig(workspaceOf(opts.file)) as Record<string, unknown>;
  ctx.printer.result(config, () => {
    if (Object.keys(config).length === 0) ctx.printer.text(`nothing set (${workspaceConfigPath(workspaceOf(opts.file))}); keys: ${WORKSPACE_CONFIG_KEYS.join(', ')}`);
    for (const [k, v] of Object.entries(config)) ctx.printer.text(`${k} = ${String(v)}`);
  });
}

/** Adds `evident config`. */
export function registerConfig(program: Command): void {
  const config = program
    .command('config')
    .description("The workspace's defaults for evident run (ATTEST's config set), in .evident/config.yaml")
    .addHelpText('after', `
Keys (each the default of a run flag; a flag on the command line wins):
  deterministic  true|false                 --deterministic
  isolation      process|sandbox            --isolation
  jobs           an integer >= 1            --jobs
  keep_going     true|false                 --keep-going
  sign           true|false                 --sign
  output_logs    full|hash-only|new-only|errors-only|none   --output-logs

Examples:
  evident config set deterministic true
  evident config list
  evident config unset deterministic`);
  const sub = (name: string, args: string, description: string, fn: (opts: { file: string }, ctx: Ctx, args: string[]) => Promise<void>) =>
    config.command(`${name}${args ? ` ${args}` : ''}`).description(description).option(...FILE_FLAG).action(action(fn));
  sub('set', '<key> <value>', 'Set a key (evident config set deterministic true)', configSet);
  sub('get', '<key>', 'Print the value of a key (exit 1 when it is not set)', configGet);
  sub('unset', '<key>', 'Remove a key (the run flag is then off unless given)', configUnset);
  sub('list', '', 'Print every key that is set', configList);
}
