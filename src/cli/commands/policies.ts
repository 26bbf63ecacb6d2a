import { Option, type Command } from 'commander';
import type { policySchemas } from '../../client/index.js';
import { action, type Ctx } from '../context.js';
import { collectNames, readTextFile } from '../flags.js';

function printAttach(ctx: Ctx, verb: string, r: policySchemas.AttachResult): void {
  ctx.printer.result(r, () => {
    const set = r.policies.map((p) => `${p.name}@${p.version}`).join(', ') || 'none';
    if (!r.changed) return ctx.printer.text(`${r.environment}: no change (policies: ${set})`);
    const where = r.snapshot === null ? 'from its first snapshot' : `from snapshot ${r.environment}#${r.snapshot}`;
    ctx.printer.text(`Policy ${verb} ${r.environment}: judged by ${set} ${where}`);
  });
}

export function registerPolicyCommands(program: Command, create: Command, get: Command, list: Command): void {
  create
    .command('policy <name> <file>')
    .description('Create an environment policy, or its next version (Kosli\'s format; identical content changes nothing)')
    .option('--description <text>', 'what the policy is for')
    .addOption(new Option('--type <type>', "Kosli's policy type: env, the only one").choices(['env']))
    .option('--comment <text>', "Kosli's version comment: kept in the description's place when --description is not given")
    .addHelpText('after', '\nA malformed policy is refused with file:line:column and nothing is stored.\n\nExamples:\n  evident create policy prod-policy prod-policy.yml\n  evident create policy prod-policy prod-policy.yml --description "what runs in production"')
    .action(action<{ description?: string; comment?: string }>(async (o, ctx, [name, file]) => {
      const source = readTextFile('FILE', file!);
      if (ctx.globals.dryRun) return ctx.printer.info(`dry run: would create policy ${name} from ${file}`);
      const p = await ctx.client().createPolicy({ name: name!, source, description: o.description ?? o.comment });
      ctx.printer.result(p, () => ctx.printer.text(p.created === false
        ? `Policy ${p.name} unchanged: version ${p.version} has this content`
        : `Policy ${p.name} version ${p.version} created (log entry ${p.entry_index})`));
    }));
  get
    .command('policy <ref>')
    .description('Show a policy: NAME (latest version) or NAME@VERSION')
    .addHelpText('after', '\nExamples:\n  evident get policy prod-policy\n  evident get policy prod-policy@2 --output json')
    .action(action<object>(async (_o, ctx, [ref]) => {
      const p = await ctx.client().getPolicy(ref!);
      ctx.printer.result(p, () => {
        ctx.printer.table(['FIELD', 'VALUE'], [['Name', p.name], ['Version', p.version], ['Description', p.description], ['Digest', p.digest], ['Created', p.created_at]]);
        ctx.printer.text(p.source.trimEnd());
      });
    }));
  list
    .command('policies')
    .description('List environment policies (latest versions)')
    .action(action<object>(async (_o, ctx) => {
      const { items } = await ctx.client().listPolicies();
      ctx.printer.result(items, () => ctx.printer.table(['NAME', 'VERSION', 'DESCRIPTION', 'CREATED'], items.map((p) => [p.name, p.version, p.description, p.created_at])));
    }));
  program
    .command('attach-policy <ref>')
    .description('Attach a policy (NAME or NAME@VERSION) to an environment: a new snapshot, judged by it from then on')
    .requiredOption('--environment <env>', 'the environment; repeatable or a,b: attached to each', collectNames)
    .addHelpText('after', '\nExamples:\n  evident attach-policy prod-policy --environment aws-prod\n  evident attach-policy prod-policy --environment aws-prod --environment aws-beta')
    .action(action<{ environment: string[] }>(async (o, ctx, [ref]) => {
      for (const env of o.environment) {
        if (ctx.globals.dryRun) ctx.printer.info(`dry run: would attach ${ref} to ${env}`);
        else printAttach(ctx, 'attached:', await ctx.client().attachPolicy(env, ref!));
      }
    }));
  program
    .command('detach-policy <name>')
    .description('Detach a policy from an environment: a new snapshot, no longer judged by it')
    .requiredOption('--environment <env>', 'the environment; repeatable or a,b: detached from each', collectNames)
    .addHelpText('after', '\nExample:\n  evident detach-policy prod-policy --environment aws-prod')
    .action(action<{ environment: string[] }>(async (o, ctx, [name]) => {
      for (const env of o.environment) {
        if (ctx.globals.dryRun) ctx.printer.info(`dry run: would detach ${name} from ${env}`);
        else printAttach(ctx, 'detached:', await ctx.client().detachPolicy(env, name!));
      }
    }));
}
