import type { Command } from 'commander';
import { action } from '../context.js';
import { resolveFingerprint, type FingerprintFlags } from './fingerprint-input.js';

/** Kosli's `allow artifact`: an exemption, recorded with its reason, listed with `list allowed-artifacts`. */
export function registerAllowCommands(program: Command, list: Command): void {
  program
    .command('allow')
    .description('Exempt an artifact from the policies of an environment')
    .command('artifact <fingerprint-or-name>')
    .description('Allow an artifact in an environment: it counts as compliant there, with the reason shown (one log entry)')
    .requiredOption('--environment <env>', 'the environment')
    .requiredOption('--reason <text>', 'why it is allowed')
    .option('--fingerprint <sha256>', "Kosli's form: the fingerprint, the argument then being the artifact's name")
    .option('-t, --artifact-type <type>', "Kosli's form: fingerprint the argument as file | dir | docker | oci")
    .option('-x, --exclude <glob>', 'with -t dir: paths to leave out, repeatable', (v: string, p: string[] = []) => [...p, v])
    .addHelpText('after', '\nExamples:\n  evident allow artifact 9af4... --environment aws-prod --reason "datadog agent, vendor image"\n  evident allow artifact datadog/agent:7 --artifact-type docker --environment aws-prod --reason "vendor image"')
    .action(action<{ environment: string; reason: string } & FingerprintFlags>(async (o, ctx, [arg]) => {
      const fp = o.fingerprint !== undefined || o.artifactType !== undefined ? await resolveFingerprint(o, arg) : arg;
      if (ctx.globals.dryRun) return ctx.printer.info(`dry run: would allow ${fp} in ${o.environment}`);
      const a = await ctx.client().allowArtifact(o.environment, { fingerprint: fp!, reason: o.reason });
      ctx.printer.result(a, () => ctx.printer.text(`Artifact ${a.fingerprint} allowed in ${a.environment} (log entry ${a.entry_index})`));
    }));
  list
    .command('allowed-artifacts')
    .description('List the artifacts allowed in an environment, with their reasons')
    .requiredOption('--environment <env>', 'the environment')
    .action(action<{ environment: string }>(async (o, ctx) => {
      const { items } = await ctx.client().listAllowances(o.environment);
      ctx.printer.result(items, () => ctx.printer.table(['FINGERPRINT', 'REASON', 'BY', 'AT'], items.map((a) => [a.fingerprint, a.reason, a.allowed_by, a.created_at])));
    }));
}
