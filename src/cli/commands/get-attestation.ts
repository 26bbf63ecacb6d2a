import type { Command } from 'commander';
import { EvidentError } from '../../core/index.js';
import { action, type Ctx } from '../context.js';

export interface GetAttestationOptions {
  flow: string;
  trail: string;
  all?: boolean;
  download?: string;
}

/**
 * `evident get attestation NAME --flow F --trail T`: the latest attestation of that name (the one that
 * counts), or every report of it with --all. NAME may be ARTIFACT-NAME.NAME.
 */
export async function getAttestation(opts: GetAttestationOptions, ctx: Ctx, [name]: string[]): Promise<void> {
  const trail = await ctx.client().getTrail(opts.flow, opts.trail);
  const [artifactName, attName] = name!.includes('.') ? name!.split('.', 2) : [null, name!];
  const matches = trail.attestations.filter((a) => a.name === attName && (artifactName === null || a.artifact_name === artifactName ||
    trail.artifacts.some((x) => x.name === artifactName && x.fingerprint === a.artifact_fingerprint)));
  if (matches.length === 0) throw new EvidentError('NOT_FOUND', `no attestation ${JSON.stringify(name)} in trail ${opts.trail} of flow ${opts.flow}`);
  const shown = opts.all ? matches : [matches[matches.length - 1]!];
  ctx.printer.result(opts.all ? shown : shown[0], () => {
    for (const a of shown) {
      ctx.printer.table(['FIELD', 'VALUE'], [
        ['Name', a.artifact_name ? `${a.artifact_name}.${a.name}` : a.name], ['Type', a.type], ['Compliant', a.compliant ? 'true' : 'false'],
        ['Artifact', a.artifact_fingerprint ?? (a.artifact_name ? `${a.artifact_name} (by name)` : 'trail')], ['Git commit', a.git_commit ?? '-'],
        ['Reported', a.created_at], ['Log entry', a.entry_index], ['Summary', a.summary === null ? '-' : JSON.stringify(a.summary)],
      ]);
      if (a.evidence.length > 0) ctx.printer.table(['EVIDENCE', 'SIZE', 'DIGEST'], a.evidence.map((e) => [e.name ?? '-', e.size, e.digest]));
      ctx.printer.text('');
    }
  });
  if (opts.download) {
    // Each file is written only once its bytes match the digest the log committed to.
    // Loaded here, not at start-up: the client module brings the TypeBox validators (docs/performance.md).
    const { evidenceDestination } = await import('../../client/index.js');
    const client = ctx.client();
    const written = new Map<string, string>();
    for (const e of shown.flatMap((a) => a.evidence)) {
      let dest = evidenceDestination(opts.download, e.name, e.digest);
      if (written.get(dest) === e.digest) continue;
      // Two different files under one name: keep both, the second beside the first with its digest.
      if (written.has(dest)) dest = `${dest}.${e.digest.slice(0, 12)}`;
      written.set(dest, e.digest);
      await client.downloadEvidence(e.digest, dest, { dir: opts.download });
      ctx.printer.info(`downloaded ${dest} (sha256:${e.digest} verified)`);
    }
  }
}

export function registerGetAttestation(get: Command): void {
  get
    .command('attestation <name>')
    .description('Show the latest attestation of a name in a trail (NAME or ARTIFACT-NAME.NAME); --all for every report')
    .requiredOption('--flow <name>', 'the flow')
    .requiredOption('--trail <name>', 'the trail')
    .option('--all', 'every report of that name, oldest first')
    .option('--download <dir>', 'also download its evidence files into DIR, each checked against its digest')
    .addHelpText('after', '\nExample:\n  evident get attestation runner.unit-test --flow runner --trail $GIT_SHA --output json')
    .action(action(getAttestation));
}
