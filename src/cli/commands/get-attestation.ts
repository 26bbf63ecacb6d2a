import type { Command } from 'commander';
import { EvidentError } from '../../core/index.js';
import type { recordSchemas } from '../../client/index.js';
import { action, type Ctx } from '../context.js';

export interface GetAttestationOptions {
  flow?: string;
  trail?: string;
  fingerprint?: string;
  attestationId?: string;
  all?: boolean;
  download?: string;
}

type Attestation = recordSchemas.Attestation;

/**
 * Kosli's names beside Evident's. An attestation's id is the index of the log entry that recorded it: stable,
 * unique in the org, and what `get attestation --attestation-id` looks up (then checks against that entry).
 */
const withKosliNames = (a: Attestation) => ({
  ...a, attestation_id: String(a.entry_index), attestation_name: a.artifact_name ? `${a.artifact_name}.${a.name}` : a.name,
  attestation_type: a.type, is_compliant: a.compliant,
});

/** `--attestation-id N`: entry N must be an `attestation.reported` entry; its flow and trail say where to read it. */
async function byId(ctx: Ctx, id: string): Promise<Attestation[]> {
  if (!/^\d{1,15}$/.test(id)) throw new EvidentError('INVALID_ARGUMENT', `--attestation-id ${JSON.stringify(id)}: an attestation id is the number of its log entry (attestation_id in --output json)`);
  const { items } = await ctx.client().logEntries(Number(id), Number(id) + 1);
  const entry = items[0] ? JSON.parse(items[0].entry) as { type?: string; flow?: string; trail?: string } : undefined;
  if (!entry || entry.type !== 'attestation.reported' || !entry.flow || !entry.trail) throw new EvidentError('NOT_FOUND', `no attestation with id ${id} (log entry ${id} is ${entry ? `a ${entry.type} entry` : 'not in the log'})`);
  const trail = await ctx.client().getTrailAll(entry.flow, entry.trail);
  const found = trail.attestations.filter((a) => a.entry_index === Number(id));
  if (found.length === 0) throw new EvidentError('NOT_FOUND', `attestation ${id} is not in trail ${entry.trail} of flow ${entry.flow} as the server shows it`);
  return found;
}

/** `--fingerprint FP [--flow F]`: the attestations about that artifact, in every trail it was reported in. */
async function byFingerprint(ctx: Ctx, fp: string, flow: string | undefined, name: string | undefined): Promise<Attestation[]> {
  const { items } = await ctx.client().search(fp);
  const places = new Map<string, { flow: string; trail: string }>();
  for (const a of items) if (a.fingerprint === fp && (!flow || a.flow === flow)) places.set(`${a.flow}\u0000${a.trail}`, { flow: a.flow, trail: a.trail });
  if (places.size === 0) throw new EvidentError('NOT_FOUND', `no artifact ${fp}${flow ? ` in flow ${flow}` : ''}`);
  const found: Attestation[] = [];
  for (const place of places.values()) {
    const trail = await ctx.client().getTrailAll(place.flow, place.trail);
    found.push(...trail.attestations.filter((a) => a.artifact_fingerprint === fp && (name === undefined || a.name === name.split('.').pop())));
  }
  if (found.length === 0) throw new EvidentError('NOT_FOUND', `no attestation${name ? ` ${JSON.stringify(name)}` : ''} about artifact ${fp}${flow ? ` in flow ${flow}` : ''}`);
  return found;
}

/**
 * `evident get attestation NAME --flow F --trail T`: the latest attestation of that name (the one that
 * counts), or every report of it with --all. NAME may be ARTIFACT-NAME.NAME.
 */
async function byTrail(ctx: Ctx, opts: GetAttestationOptions, name: string | undefined): Promise<Attestation[]> {
  if (!name || !opts.flow || !opts.trail) throw new EvidentError('INVALID_ARGUMENT', 'give NAME --flow F --trail T, NAME --flow F --fingerprint FP, or --attestation-id ID');
  const trail = await ctx.client().getTrailAll(opts.flow, opts.trail);
  const [artifactName, attName] = name!.includes('.') ? name!.split('.', 2) : [null, name!];
  const matches = trail.attestations.filter((a) => a.name === attName && (artifactName === null || a.artifact_name === artifactName ||
    trail.artifacts.some((x) => x.name === artifactName && x.fingerprint === a.artifact_fingerprint)));
  if (matches.length === 0) throw new EvidentError('NOT_FOUND', `no attestation ${JSON.stringify(name)} in trail ${opts.trail} of flow ${opts.flow}`);
  return matches;
}

export async function getAttestation(opts: GetAttestationOptions, ctx: Ctx, [name]: string[]): Promise<void> {
  const matches = opts.attestationId !== undefined ? await byId(ctx, opts.attestationId)
    : opts.fingerprint !== undefined && opts.trail === undefined ? await byFingerprint(ctx, opts.fingerprint, opts.flow, name)
      : await byTrail(ctx, opts, name);
  const shown = opts.all || (opts.fingerprint !== undefined && opts.trail === undefined) ? matches : [matches[matches.length - 1]!];
  const many = shown.length > 1 || opts.all;
  ctx.printer.result(many ? shown.map(withKosliNames) : withKosliNames(shown[0]!), () => {
    for (const a of shown) {
      ctx.printer.table(['FIELD', 'VALUE'], [
        ['Name', a.artifact_name ? `${a.artifact_name}.${a.name}` : a.name], ['Type', a.type], ['Compliant', a.compliant ? 'true' : 'false'],
        ['Artifact', a.artifact_fingerprint ?? (a.artifact_name ? `${a.artifact_name} (by name)` : 'trail')], ['Git commit', a.git_commit ?? '-'],
        ['Reported', a.created_at], ['Log entry (attestation id)', a.entry_index], ['Summary', a.summary === null ? '-' : JSON.stringify(a.summary)],
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
    .command('attestation [name]')
    .description('Show the latest attestation of a name in a trail (NAME or ARTIFACT-NAME.NAME); --all for every report. Also by artifact (--fingerprint) or by id (--attestation-id)')
    .option('--flow <name>', 'the flow')
    .option('--trail <name>', 'the trail')
    .option('--fingerprint <sha256>', 'the attestations about this artifact, in every trail of --flow (or of every flow) it is in (Kosli)')
    .option('--attestation-id <id>', 'the attestation recorded by this log entry (attestation_id in --output json; Kosli)')
    .option('--all', 'every report of that name, oldest first')
    .option('--download <dir>', 'also download its evidence files into DIR, each checked against its digest')
    .addHelpText('after', '\nExamples:\n  evident get attestation runner.unit-test --flow runner --trail $GIT_SHA --output json\n  evident get attestation unit-test --flow runner --fingerprint $FP\n  evident get attestation --attestation-id 42')
    .action(action(getAttestation));
}
