import fs from 'node:fs';
import { Option, type Command } from 'commander';
import { EvidentError } from '../../core/index.js';
import type { environmentSchemas } from '../../client/index.js';
import { action, intFlag, makeContext, type Ctx } from '../context.js';
import type { GlobalFlags } from '../config.js';
import { collectNames, parseBool } from '../flags.js';
import { ago } from '../time-format.js';
import { registerLogEnvironment } from './log-environment.js';
import { registerSnapshotPaths } from './snapshot-paths.js';
import { registerContainerReporters } from './snapshot-containers.js';
import { registerAwsReporters } from './snapshot-aws.js';
import { registerSnapshotAzure } from './snapshot-azure.js';
import { sendSnapshot } from './snapshot-report.js';
import { kosliEnvironment, kosliSnapshot, kosliSnapshotList, shaped } from '../kosli-json.js';
import { pageFlags, pageOf, type PageFlags } from '../paging.js';

export interface CreateEnvironmentOptions {
  type: string;
  description?: string;
  includedEnvironments?: string;
  includeScaling?: boolean;
}

const ENV_SORTS = ['name', 'last_modified_at', 'last_changed_at'] as const;
type EnvSort = (typeof ENV_SORTS)[number];
const tagsText = (tags: Record<string, string> | undefined) => Object.entries(tags ?? {}).map(([k, v]) => `${k}=${v}`).join(', ') || '-';

/** Kosli's --sort/--sort-direction; an environment never reported (no last_changed_at) sorts first ascending. */
function sortEnvironments<T extends environmentSchemas.Environment>(items: T[], field: EnvSort, direction: 'asc' | 'desc'): T[] {
  const key = (e: T) => (field === 'name' ? e.name : (e[field] ?? ''));
  const sorted = [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.name < b.name ? -1 : 1));
  return direction === 'desc' ? sorted.reverse() : sorted;
}

const TYPES = ['k8s', 'ecs', 'docker', 'lambda', 's3', 'server', 'azure-apps', 'logical'];

export async function createEnvironment(opts: CreateEnvironmentOptions, ctx: Ctx, [name]: string[]): Promise<void> {
  if (!TYPES.includes(opts.type.toLowerCase())) throw new EvidentError('INVALID_ARGUMENT', `--type must be one of ${TYPES.join(', ')} (any case), not ${JSON.stringify(opts.type)}`);
  const body = {
    // Kosli writes its types upper-case (K8S, ECS, S3); Evident's API names them lower-case.
    name: name!, type: opts.type.toLowerCase() as environmentSchemas.EnvironmentCreate['type'], description: opts.description,
    included_environments: opts.includedEnvironments?.split(',').map((s) => s.trim()).filter(Boolean), include_scaling: opts.includeScaling,
  };
  if (ctx.globals.dryRun) return ctx.printer.info(`dry run: would create environment ${JSON.stringify(body)}`);
  const e = await ctx.client().createEnvironment(body);
  ctx.printer.result(e, () => ctx.printer.text(`Environment ${e.name} (${e.type}) recorded (log entry ${e.entry_index})`));
}

/** Reads `{"artifacts": [{name, fingerprint, instances}]}` from a file or stdin (`-`). */
function readState(file: string): environmentSchemas.SnapshotReport {
  let text: string;
  try {
    text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new EvidentError('INVALID_ARGUMENT', `--file: cannot read ${file}: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new EvidentError('INVALID_ARGUMENT', `--file: ${file === '-' ? 'stdin' : file} is not valid JSON: ${(err as Error).message}`);
  }
  const artifacts = (value as { artifacts?: unknown })?.artifacts;
  if (!Array.isArray(artifacts)) throw new EvidentError('INVALID_ARGUMENT', `--file: expected {"artifacts": [{"name", "fingerprint", "instances"}]}`);
  return { artifacts: artifacts as environmentSchemas.SnapshotReport['artifacts'] };
}

export async function snapshotArtifacts(opts: { file: string }, ctx: Ctx, [env]: string[]): Promise<void> {
  await sendSnapshot(ctx, env!, readState(opts.file).artifacts);
}

export async function getEnvironment(opts: { expected?: boolean }, ctx: Ctx, [name]: string[]): Promise<void> {
  if (opts.expected) {
    const d = await ctx.client().environmentDrift(name!);
    return ctx.printer.result(d, () => {
      const state = { 'running': 'running as expected', 'not-running': 'EXPECTED, NOT RUNNING', 'superseded-still-running': 'SUPERSEDED, STILL RUNNING', 'never-expected': 'RUNNING, NEVER EXPECTED' } as const;
      ctx.printer.table(['STATE', 'ARTIFACT', 'FINGERPRINT', 'FLOW', 'REPLICAS', 'EXPECTED'], d.items.map((i) => [
        state[i.state], i.name, i.fingerprint.slice(0, 12), i.flow ?? 'N/A', String(i.instances), i.expectation ? `Deployment #${i.expectation.number}` : '-',
      ]));
      ctx.printer.info(d.in_sync ? `${d.environment}: in sync` : `${d.environment}: drift (${d.items.filter((i) => i.state !== 'running').length} artifact(s))`);
    });
  }
  const e = await ctx.client().getEnvironment(name!);
  ctx.printer.result(shaped(ctx, e, kosliEnvironment), () => ctx.printer.table(['FIELD', 'VALUE'], [
    ['Name', e.name], ['Type', e.type], ['Description', e.description], ['Latest snapshot', e.latest_snapshot ?? '-'],
    ['Includes', e.included_environments?.join(', ') ?? '-'], ['Scaling recorded', String(e.include_scaling)], ['Archived', e.archived_at ?? '-'],
    ['Tags', tagsText(e.tags)], ['Last modified', e.last_modified_at ?? '-'], ['Last changed', e.last_changed_at ?? '-'],
    ['Policies', e.policies?.map((p) => `${p.name}@${p.version}`).join(', ') || '-'], ['Compliant', e.compliant === undefined || e.compliant === null ? '-' : String(e.compliant)],
  ]));
}

export async function getSnapshot(_opts: object, ctx: Ctx, [expr]: string[]): Promise<void> {
  const s = await ctx.client().getSnapshot(expr!);
  ctx.printer.result(shaped(ctx, s, kosliSnapshot), () => {
    if (s.artifacts.length === 0) return ctx.printer.info(`nothing running in ${s.environment}${s.index ? `#${s.index}` : ''}`);
    // The columns of `kosli get snapshot` in seed 002.
    const rows: string[][] = [];
    for (const a of s.artifacts) {
      const compliant = a.compliance ? (a.compliance.allowed ? 'ALLOWED' : String(a.compliance.compliant)) : '-';
      rows.push([a.git_commit?.slice(0, 7) ?? 'N/A', `Name: ${a.name}`, a.flow ?? 'N/A', ago(a.running_since), String(a.instances), compliant]);
      rows.push(['', `Fingerprint: ${a.fingerprint}`, '', '', '', '']);
      rows.push(['', '', '', '', '', '']);
    }
    ctx.printer.table(['COMMIT', 'ARTIFACT', 'FLOW', 'RUNNING_SINCE', 'REPLICAS', 'COMPLIANT'], rows.slice(0, -1));
  });
}

export async function listSnapshots(opts: PageFlags, ctx: Ctx, [env]: string[]): Promise<void> {
  const page = await pageOf(opts, (q) => ctx.client().listSnapshots(env!, q));
  ctx.printer.result(shaped(ctx, page, (p) => kosliSnapshotList(p)), () => {
    ctx.printer.table(['SNAPSHOT', 'AT', 'LOG ENTRY'], page.items.map((s) => [`${env}#${s.index}`, s.timestamp, s.entry_index]));
    if (page.next_cursor) ctx.printer.info(`more: --cursor ${page.next_cursor}`);
  });
}

/** The environment type each reporter reports as (for Kosli's --auto-environment). */
const REPORTER_TYPES: Record<string, string> = { k8s: 'k8s', docker: 'docker', ecs: 'ecs', lambda: 'lambda', s3: 's3', server: 'server', paths: 'server', path: 'server' };

/**
 * Kosli's `snapshot … --auto-environment [--environment-description D]`: the environment is created (or its
 * description updated: create-or-update, nothing logged when unchanged) before the snapshot is reported.
 */
function autoEnvironment(snapshot: Command): void {
  for (const cmd of snapshot.commands) {
    const type = REPORTER_TYPES[cmd.name()];
    if (!type) continue;
    cmd
      .option('-A, --auto-environment', 'create the environment first if it does not exist (Kosli)')
      .option('--environment-description <text>', 'with --auto-environment: its description')
      .hook('preAction', async (_cmd, actionCmd) => {
        const o = actionCmd.optsWithGlobals() as GlobalFlags & { autoEnvironment?: boolean; environmentDescription?: string };
        if (!o.autoEnvironment) return;
        const ctx = makeContext(o);
        const name = actionCmd.args[0]!;
        if (ctx.globals.dryRun) return ctx.printer.info(`dry run: would create environment ${name} (${type}) if it does not exist`);
        await ctx.client().createEnvironment({ name, type: type as environmentSchemas.EnvironmentCreate['type'], description: o.environmentDescription });
      });
  }
}

export function registerEnvironmentCommands(program: Command, create: Command, get: Command, list: Command, archive: Command): void {
  create
    .command('environment <name>')
    .description('Create an environment where artifacts run, or update its description, scaling or included environments (run again)')
    .requiredOption('--type <type>', 'k8s | ecs | docker | lambda | s3 | server | azure-apps | logical (any case: K8S as in Kosli); azure-apps is reported by `snapshot artifacts`')
    .option('--description <text>', 'what it is')
    .option('--included-environments <a,b>', 'for a logical environment: the environments it unites')
    .option('--include-scaling <bool>', 'record instance-count changes as new snapshots (default true)', parseBool('--include-scaling'))
    .addHelpText('after', '\nExample:\n  evident create environment aws-prod --type ecs --description "production"')
    .action(action(createEnvironment));
  get
    .command('environment <name>')
    .description('Show an environment; with --expected, what should run there against what does (drift)')
    .option('--expected', 'compare the latest deployment expectation of each flow with the latest snapshot')
    .addHelpText('after', '\nExamples:\n  evident get environment aws-prod\n  evident get environment aws-prod --expected   # exit 0 either way; in_sync in --output json')
    .action(action(getEnvironment));
  list
    .command('environments')
    .description('List environments')
    .option('--include-archived', 'include archived environments')
    .option('--name <text>', 'only environments whose name contains TEXT (Kosli)')
    .option('--type <type>', 'only environments of this type, repeatable or a,b (Kosli; any case)', collectNames)
    .option('--page-limit <n>', 'page size (Kosli)', intFlag('--page-limit', 1))
    .option('--page <n>', 'which page of --page-limit (Kosli)', intFlag('--page', 1))
    .option('--tag <key[:value]>', 'only environments with this tag (KEY, KEY:VALUE or KEY=VALUE); repeatable: every tag given must match (Kosli)', (v: string, prev: string[] = []) => [...prev, v])
    .addOption(new Option('--sort <field>', 'sort by (Kosli): name, last_modified_at (its own latest log entry: created, updated, tagged), last_changed_at (its latest snapshot)').choices(ENV_SORTS))
    .addOption(new Option('--sort-direction <dir>', 'asc (default) or desc').choices(['asc', 'desc']))
    .addHelpText('after', '\nExamples:\n  evident list environments --type K8S --type ECS --tag team:platform\n  evident list environments --sort last_changed_at --sort-direction desc')
    .action(action<{ includeArchived?: boolean; name?: string; type?: string[]; pageLimit?: number; page?: number; tag?: string[]; sort?: EnvSort; sortDirection?: 'asc' | 'desc' }>(async (o, ctx) => {
      const { items: all } = await ctx.client().listEnvironments({ includeArchived: o.includeArchived });
      const types = o.type?.map((t) => t.toLowerCase());
      const tags = (o.tag ?? []).map((t) => /^([^:=]+)(?:[:=](.*))?$/.exec(t)).map((m, i) => {
        if (!m) throw new EvidentError('INVALID_ARGUMENT', `--tag ${JSON.stringify(o.tag![i])}: write KEY or KEY:VALUE`);
        return { key: m[1]!, value: m[2] };
      });
      const matching = sortEnvironments(all.filter((e) => (o.name === undefined || e.name.includes(o.name)) && (types === undefined || types.includes(e.type))
        && tags.every((t) => e.tags?.[t.key] !== undefined && (t.value === undefined || e.tags[t.key] === t.value))), o.sort ?? 'name', o.sortDirection ?? 'asc');
      const size = o.pageLimit ?? (o.page === undefined ? matching.length : 20);
      const items = o.pageLimit === undefined && o.page === undefined ? matching : matching.slice(((o.page ?? 1) - 1) * size, (o.page ?? 1) * size);
      ctx.printer.result(shaped(ctx, items, (l) => l.map(kosliEnvironment)), () => ctx.printer.table(['NAME', 'TYPE', 'LATEST', 'DESCRIPTION', 'TAGS', 'ARCHIVED'], items.map((e) => [e.name, e.type, e.latest_snapshot ?? '-', e.description, tagsText(e.tags), e.archived_at ?? ''])));
    }));
  archive
    .command('environment <name>')
    .description('Archive an environment: it keeps its snapshots and history, leaves `list environments` and takes no new reports')
    .action(action<object>(async (_o, ctx, [name]) => {
      if (ctx.globals.dryRun) return ctx.printer.info(`dry run: would archive environment ${name}`);
      const e = await ctx.client().archiveEnvironment(name!);
      ctx.printer.result(e, () => ctx.printer.text(`Environment ${e.name} archived at ${e.archived_at}`));
    }));
  get
    .command('snapshot <expr>')
    .description('Show what ran: ENV (latest), ENV#N, ENV~N (N before latest), ENV@{2026-01-31T12:00:00}, ENV@{3.hours.ago}')
    .addHelpText('after', '\nExample:\n  evident get snapshot aws-prod#65')
    .action(action(getSnapshot));
  list
    .command('snapshots <env>')
    .description('List the snapshots of an environment, newest first')
    .option('--limit <n>', 'page size (1-1000)', intFlag('--limit', 1), 100)
    .option('--cursor <cursor>', 'the next page');
  pageFlags(list.commands.at(-1)!).action(action(listSnapshots));
  const snapshot = program.command('snapshot').description('Report what runs in an environment now (a new snapshot only if it changed)');
  snapshot
    .command('artifacts <env>')
    .description('Report any platform\'s running artifacts from a JSON file: {"artifacts": [{"name", "fingerprint", "instances"}]}')
    .requiredOption('--file <file>', 'the JSON state, or - for stdin')
    .addHelpText('after', '\nExample:\n  my-lister | evident snapshot artifacts aws-prod --file -')
    .action(action(snapshotArtifacts));
  registerSnapshotPaths(snapshot);
  registerContainerReporters(snapshot);
  registerAwsReporters(snapshot);
  registerSnapshotAzure(snapshot);
  autoEnvironment(snapshot);
  program
    .command('diff')
    .description('Compare two snapshots')
    .command('snapshots <a> <b>')
    .description('What runs only in A, only in B, with changed instance counts, and (--show-unchanged) the same; A and B may be of different environments')
    .option('--show-unchanged', 'also list the artifacts running unchanged in both')
    .addHelpText('after', '\nExample:\n  evident diff snapshots aws-beta aws-prod --show-unchanged')
    .action(action<{ showUnchanged?: boolean }>(async (o, ctx, [a, b]) => {
      const d = await ctx.client().diffSnapshots(a!, b!, { showUnchanged: o.showUnchanged });
      ctx.printer.result(d, () => {
        const section = (title: string, list: typeof d.changed.artifacts, counts = false) => {
          ctx.printer.text(`${title} (${list.length})`);
          for (const x of list) ctx.printer.text(`  ${x.name}  ${x.fingerprint.slice(0, 12)}  ${x.flow ?? '-'}${counts ? `  ${x.instance_count_1} -> ${x.instance_count_2} instances` : `  ${x.instance_count} instance(s)`}`);
        };
        section(`Only in ${d.snappish1.snapshot_id}`, d.snappish1.artifacts);
        section(`Only in ${d.snappish2.snapshot_id}`, d.snappish2.artifacts);
        section('Instance count changed', d.changed.artifacts, true);
        if (o.showUnchanged) section('Unchanged', d['not-changed'].artifacts);
      });
    }));
  program
    .command('expect')
    .description('Record what is about to be deployed')
    .command('deployment [fingerprint]')
    .description('Record that an artifact is being deployed to an environment (numbered per environment)')
    .requiredOption('--environment <env>', 'where it is being deployed')
    .option('--description <text>', 'what this deployment is')
    .option('--fingerprint <sha256>', "Kosli's legacy form: the fingerprint as a flag")
    .option('--flow <name>', "Kosli's legacy form: accepted; the artifact's flow is known from its fingerprint")
    .option('--build-url <url>', "Kosli's legacy form: the deploying build, kept as the description when there is none")
    .addHelpText('after', '\nExample:\n  evident expect deployment $FP --environment aws-prod --description "release 1.4"')
    .action(action<{ environment: string; description?: string; fingerprint?: string; buildUrl?: string }>(async (o, ctx, [arg]) => {
      const fp = arg ?? o.fingerprint;
      if (!fp) throw new EvidentError('INVALID_ARGUMENT', 'give the fingerprint: expect deployment FINGERPRINT (or --fingerprint)');
      if (arg !== undefined && o.fingerprint !== undefined && arg !== o.fingerprint) throw new EvidentError('INVALID_ARGUMENT', 'two different fingerprints given');
      o.description ??= o.buildUrl;
      if (ctx.globals.dryRun) return ctx.printer.info(`dry run: would record deployment of ${fp} to ${o.environment}`);
      const x = await ctx.client().expectDeployment(o.environment, { fingerprint: fp, description: o.description });
      ctx.printer.result(x, () => ctx.printer.text(`Deployment #${x.number} to ${x.environment} environment recorded (log entry ${x.entry_index})`));
    }));
  const log = program.commands.find((c) => c.name() === 'log');
  if (log) registerLogEnvironment(log);
}
