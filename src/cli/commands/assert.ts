import fs from 'node:fs';
import type { Command } from 'commander';
import { EvidentError } from '../../core/index.js';
import type { policySchemas } from '../../client/index.js';
import { action, type Ctx } from '../context.js';
import { resolveFingerprint, type FingerprintFlags } from './fingerprint-input.js';

/** Prints the decision and each failing rule, writes the VSA, and exits 1 (VERIFICATION_FAILED) when not compliant. */
function finish(ctx: Ctx, r: policySchemas.AssertResult, vsaFile: string | undefined): void {
  if (vsaFile && r.vsa) {
    fs.writeFileSync(vsaFile, JSON.stringify(r.vsa, null, 2) + '\n');
    ctx.printer.info(`VSA written to ${vsaFile}; re-check it offline with: evident verify vsa ${vsaFile} --key ${r.signed_by}`);
  }
  ctx.printer.result(r, () => {
    for (const a of r.artifacts) {
      const allowed = a.allowed ? ` (allowed: ${a.allowed.reason})` : '';
      ctx.printer.text(`${a.compliant ? 'COMPLIANT' : 'NON-COMPLIANT'}  ${a.name}  ${a.fingerprint}${allowed}`);
    }
    for (const f of r.failures) ctx.printer.text(`  FAILED ${f.policy}@${f.version} ${f.rule}: ${f.reason}: ${f.message}  [${f.artifact}]`);
  });
  if (!r.compliant) throw new EvidentError('VERIFICATION_FAILED', `not compliant (${r.scope}): ${r.failures.length} failing rule(s)`);
}

interface AssertArtifactFlags extends FingerprintFlags {
  environment?: string;
  policy?: string;
  flow?: string;
  vsa?: string;
}

export function registerAssertCommands(program: Command): void {
  const assert = program.command('assert').description('Gate a deployment: exit 0 when compliant, 1 when not (each failing rule printed)');
  assert
    .command('artifact [path]')
    .description('Is an artifact compliant: in an environment, with policies, or in a flow (default: in its flow)?')
    .option('--fingerprint <fp>', 'the artifact\'s SHA-256 fingerprint')
    .option('-t, --artifact-type <type>', 'fingerprint PATH locally: file | dir | docker | oci')
    .option('-x, --exclude <glob...>', 'with -t dir: paths to leave out')
    .option('--environment <env>', 'judge by the policies attached to this environment (and its exemptions)')
    .option('--policy <p,q>', 'judge by these policies (NAME or NAME@VERSION, comma-separated)')
    .option('--flow <flow>', "judge as compliant in this flow: reported in it, and the trail of its latest report in this flow compliant (even if another flow reported it since; without --flow: its latest report's trail)")
    .option('--vsa <file>', 'write the decision as a SLSA Verification Summary Attestation v1, signed by the server')
    .addHelpText('after', '\nExamples:\n  evident assert artifact --fingerprint $FP --environment aws-prod\n  evident assert artifact app.tar -t file --policy prod-policy --vsa app.vsa.json')
    .action(action<AssertArtifactFlags>(async (o, ctx, [path]) => {
      const fingerprint = await resolveFingerprint(o, path);
      const policies = o.policy?.split(',').map((s) => s.trim()).filter(Boolean);
      const r = await ctx.client().assertArtifact({ fingerprint, environment: o.environment, policies, flow: o.flow, vsa: o.vsa !== undefined });
      finish(ctx, r, o.vsa);
    }));
  assert
    .command('snapshot <expr>')
    .description('Is a snapshot compliant: every artifact against the policies attached at it (ENV, ENV#N, ENV~N, ENV@{...})')
    .option('--vsa <file>', 'write the decision as a SLSA Verification Summary Attestation v1, signed by the server')
    .addHelpText('after', '\nExample:\n  evident assert snapshot aws-prod --vsa prod.vsa.json')
    .action(action<{ vsa?: string }>(async (o, ctx, [expr]) => {
      finish(ctx, await ctx.client().assertSnapshot({ snapshot: expr!, vsa: o.vsa !== undefined }), o.vsa);
    }));
}
