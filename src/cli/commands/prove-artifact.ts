import fs from 'node:fs';
import type { Command } from 'commander';
import { EvidentError } from '../../core/index.js';
import { parseCheckpoint, parseVerifierKey, splitNote, witnessPolicyJson } from '../../ledger/index.js';

/** The text of a checkpoint whose signature verifyPackage() has already checked. */
const parseCarried = (note: string) => parseCheckpoint(splitNote(note).text);
import { action, type Ctx } from '../context.js';
import { readTextFile } from '../flags.js';
import { logOrigin, type Check } from '../verify/log-verifier.js';
import { checkRememberedCheckpoint, printConflict, type RememberedCheckpoint } from '../verify/remembered.js';
import { VerifierState } from '../verify/state.js';
import { addWitnessOptions, chooseWitnessPolicy, type WitnessPolicyFlags } from '../verify/witness-policy.js';
import { checkWitnessed } from '../verify/witnessed.js';

// The package code validates with TypeBox (hundreds of modules): loaded when a command runs, not at start-up.
const packages = () => Promise.all([import('../verify/build-package.js'), import('../verify/evidence-package.js'), import('../verify/build-chain-package.js')])
  .then(([b, e, c]) => ({ ...b, ...e, ...c }));
import { trustedLogKey } from '../verify/pinned-key.js';
import { describeSubject, subjectKeyOf, type PackageSubject } from '../verify/completeness.js';
import type { EvidencePackage } from '../verify/evidence-package.js';

/** What results name as their subject: an artifact's fingerprint (as before trails and environments had packages). */
const subjectLabel = (s: PackageSubject): string => (s.type === 'artifact' ? s.fingerprint : describeSubject(s));

function report(ctx: Ctx, subject: string, checks: Check[]): void {
  const ok = checks.every((c) => c.ok);
  ctx.printer.result({ ok, subject, checks }, () => {
    for (const c of checks) ctx.printer.text(`${c.ok ? '[OK]' : '[FAIL]'} ${c.message}`);
  });
  if (!ok) throw new EvidentError('VERIFICATION_FAILED', checks.find((c) => !c.ok)!.message);
}

/** The package checks with the remembered-checkpoint check placed after the signature check it relies on. */
function withSeen(checks: Check[], seen: RememberedCheckpoint | undefined, witness?: Check): Check[] {
  if (!checks[0]?.ok) return checks;
  const w = witness ?? seen?.witness ?? undefined;
  return [checks[0], ...(w ? [w] : []), ...(seen ? [seen.check] : []), ...checks.slice(1)];
}

/** A fork or rollback ends the command at once (exit 1), printing both signed notes, as `verify log` does. */
function refuseConflict(ctx: Ctx, subject: string, keyText: string, seen: RememberedCheckpoint): void {
  if (seen.check.ok) return;
  ctx.printer.result({ ok: false, subject, checks: [seen.check], conflict: seen.conflict }, () => {
    ctx.printer.text(`[FAIL] ${seen.check.message}`);
    if (seen.conflict) printConflict(ctx.printer, keyText, seen.conflict);
  });
  throw new EvidentError('VERIFICATION_FAILED', seen.check.message);
}

/** An artifact reference, or a trail or environment. */
type Wanted = { ref: string } | Exclude<PackageSubject, { type: 'artifact' }>;

/**
 * Builds and checks a package: the checkpoint is the one the subject map proof comes with (or the latest,
 * for a log without a map yet), checked against the last one seen before anything is read against it.
 */
async function collect(ctx: Ctx, wanted: Wanted, opts: WitnessPolicyFlags & { key?: string }) {
  const { keyText, verifier, origin } = await trustedLogKey(ctx, opts.key);
  const chosen = chooseWitnessPolicy(opts, ctx.globals);
  const client = ctx.client();
  const p = await packages();
  const subject: PackageSubject = 'ref' in wanted ? { type: 'artifact', fingerprint: await p.resolveArtifact(client, wanted.ref) } : wanted;
  const subjectText = subjectKeyOf(subject);
  let note: string;
  let mapProof: EvidencePackage['map_proof'];
  try {
    const mp = await client.mapProof(subjectText);
    note = mp.checkpoint;
    mapProof = { subject: subjectText, proof: mp.proof };
  } catch (err) {
    // A log without a map yet (or a server without map proofs): the package is checked without one, and
    // verify package refuses it if its checkpoint does commit to a map.
    if (!(err instanceof EvidentError) || err.code !== 'NOT_FOUND') throw err;
    note = await client.checkpoint();
  }
  const state = new VerifierState(ctx.globals.stateDir);
  const witnessed = (checkpoint: Parameters<typeof checkWitnessed>[0]['checkpoint']) => checkWitnessed({ chosen, note, checkpoint, verifier, origin });
  const seen = await checkRememberedCheckpoint({ state, origin, verifier, note, source: client, served: true, witnessed });
  refuseConflict(ctx, subjectLabel(subject), keyText, seen);
  const pkg = subject.type === 'artifact'
    ? await p.buildArtifactPackage(client, ctx.globals.org, subject.fingerprint, keyText, note, seen.checkpoint, mapProof)
    : await p.buildChainPackage(client, ctx.globals.org, subject, keyText, note, seen.checkpoint, mapProof);
  // The package records the policy it was made under; a verifier's own policy still wins (witness-policy.ts).
  if (chosen) pkg.witness_policy = witnessPolicyJson(chosen.policy);
  return { verifyPackage: p.verifyPackage, verifier, pkg, seen };
}

/** `evident verify artifact REF`: every entry about the artifact is proven included under the current checkpoint. */
export async function verifyArtifact(opts: WitnessPolicyFlags & { key?: string }, ctx: Ctx, [ref]: string[]): Promise<void> {
  const { verifyPackage, verifier, pkg, seen } = await collect(ctx, { ref: ref! }, opts);
  report(ctx, subjectLabel(pkg.subject), withSeen(verifyPackage(pkg, verifier), seen));
}

/** `evident export artifact REF -o FILE`: the same proof, written as one file for offline checking. */
export async function exportArtifact(opts: WitnessPolicyFlags & { key?: string; out: string }, ctx: Ctx, [ref]: string[]): Promise<void> {
  await exportPackage(ctx, { ref: ref! }, opts);
}

/** `evident export trail NAME --flow FLOW -o FILE`: the trail's chain of entries, complete as of the checkpoint. */
export async function exportTrail(opts: WitnessPolicyFlags & { key?: string; out: string; flow: string }, ctx: Ctx, [trail]: string[]): Promise<void> {
  await exportPackage(ctx, { type: 'trail', flow: opts.flow, trail: trail! }, opts);
}

/** `evident export environment NAME -o FILE`: the environment's chain (its snapshots, policies, expectations…). */
export async function exportEnvironment(opts: WitnessPolicyFlags & { key?: string; out: string }, ctx: Ctx, [environment]: string[]): Promise<void> {
  await exportPackage(ctx, { type: 'environment', environment: environment! }, opts);
}

async function exportPackage(ctx: Ctx, wanted: Wanted, opts: WitnessPolicyFlags & { key?: string; out: string }): Promise<void> {
  const { verifyPackage, verifier, pkg, seen } = await collect(ctx, wanted, opts);
  const what = describeSubject(pkg.subject);
  const checks = withSeen(verifyPackage(pkg, verifier), seen);
  if (!checks.every((c) => c.ok)) report(ctx, subjectLabel(pkg.subject), checks);
  fs.writeFileSync(opts.out, JSON.stringify(pkg, null, 2) + '\n', { flag: 'w' });
  ctx.printer.result({ file: opts.out, subject: pkg.subject, entries: pkg.entries.length }, () =>
    ctx.printer.text(`Wrote ${opts.out}: ${pkg.entries.length} entries about ${what}, proven against checkpoint size ${pkg.checkpoint.split('\n')[1]}`),
  );
}

/**
 * `evident verify package FILE`: offline, no server needed. Its checkpoint is compared with the one this
 * client remembers for the log (same size: same root); when a host is given (--host, EVIDENT_HOST or the
 * config file) and not --offline, the server is asked for the consistency proof between the two sizes.
 */
export async function verifyPackageFile(opts: WitnessPolicyFlags & { key?: string; offline?: boolean }, ctx: Ctx, [file]: string[]): Promise<void> {
  const { parsePackage, verifyPackage } = await packages();
  const pkg = parsePackage(readTextFile('FILE', file!), file!);
  const explicit = opts.key ?? process.env.EVIDENT_VERIFIER_KEY;
  if (explicit === undefined) {
    ctx.printer.info('Warning: trusting the log key written inside the package; pass --key with the log\'s verifier key to check it is genuine.');
  } else if (explicit !== pkg.verifier_key) {
    ctx.printer.info('Note: the package names another key than --key; checking against --key.');
  }
  const verifier = parseVerifierKey(explicit ?? pkg.verifier_key);
  const checks = verifyPackage(pkg, verifier);
  const chosen = chooseWitnessPolicy(opts, ctx.globals, pkg.witness_policy);
  let seen: RememberedCheckpoint | undefined;
  let witness: Check | undefined;
  if (checks[0]?.ok) {
    const origin = logOrigin(verifier, pkg.org);
    let source: ReturnType<Ctx['client']> | undefined;
    if (ctx.globals.hostGiven && !opts.offline && pkg.org === ctx.globals.org) {
      // Proofs only from the host that serves this very log: another log's proofs would look like a fork.
      const client = ctx.client();
      if ((await client.logKey()).origin === origin) source = client;
      else ctx.printer.info(`Note: ${ctx.globals.host} serves another log than ${origin}; checking against the last checkpoint seen offline.`);
    }
    // Witnesses protect even a package whose log key came from the package: a forger's log has no cosignatures.
    witness = await checkWitnessed({ chosen, note: pkg.checkpoint, checkpoint: parseCarried(pkg.checkpoint), verifier, origin, source });
    // A key taken from the package itself is not trusted, so what it signed is neither compared nor remembered.
    if (explicit !== undefined) {
      const state = new VerifierState(ctx.globals.stateDir);
      seen = await checkRememberedCheckpoint({ state, origin, verifier, note: pkg.checkpoint, source, served: false });
      refuseConflict(ctx, subjectLabel(pkg.subject), explicit, seen);
    }
  }
  report(ctx, subjectLabel(pkg.subject), withSeen(checks, seen, witness));
}

export function registerProveArtifact(verify: Command, program: Command): void {
  const artifact = verify
    .command('artifact <ref>')
    .description('Prove every log entry about an artifact is included under the current signed checkpoint')
    .option('--key <verifier-key>', 'the log verifier key to trust (default: pinned on first use)')
    .addHelpText(
      'after',
      '\nLike verify log, the checkpoint must be consistent with the last one seen (~/.evident/checkpoints/),\n' +
        'which it then replaces. With a witness policy (--witness, --witness-threshold) the checkpoint needs that many\n' +
        'valid witness cosignatures. Exit status: 0 verified, 1 verification failed (or forked or rolled-back log).\n' +
        'Example:\n  evident verify artifact runner:16d9990',
    );
  addWitnessOptions(artifact).action(action(verifyArtifact));
  const pkg = verify
    .command('package <file>')
    .description('Check an evidence package offline: checkpoint signature, inclusion proofs, completeness, evidence digests')
    .option('--key <verifier-key>', "the log's verifier key (env EVIDENT_VERIFIER_KEY); without it the package's own key is trusted, with a warning")
    .option('--offline', 'do not ask the host for a consistency proof with the last checkpoint seen, even when a host is given')
    .addHelpText(
      'after',
      '\nWith --key, the package\'s checkpoint is checked against the last one this client saw for the log\n' +
        '(~/.evident/checkpoints/): the same root at the same size offline, and, when a host is given and not\n' +
        '--offline, a consistency proof from the host. A fork or rollback prints both signed checkpoints.\n' +
        'Completeness: the subject map proof must name the newest entry about the subject at the checkpoint, and\n' +
        'the package must hold every entry of its chain of prev links back to the first; a missing entry is named.\n' +
        'A witness policy (--witness KEY repeated, --witness-threshold K; env or config file as for verify log) wins over\n' +
        'the one the package carries; the checkpoint needs that many valid cosignatures, or (with a host) the host\'s\n' +
        'witnessed checkpoint must prove it a prefix.\n' +
        'Exit status: 0 verified, 1 verification failed (or forked log, or too few witness cosignatures), 3 host unreachable.\nExample:\n  evident verify package runner.evidence.json --key "$(cat log.pub)"',
    );
  addWitnessOptions(pkg).action(action(verifyPackageFile));
  const exp = program.command('export').description('Write evidence packages');
  const exported = exp
    .command('artifact <ref>')
    .description('Write an evidence package for an artifact: its entries, proofs, checkpoint and evidence files')
    .requiredOption('-o, --out <file>', 'where to write the package (JSON)')
    .option('--key <verifier-key>', 'the log verifier key to trust (default: pinned on first use)')
    .addHelpText('after', '\nThe checkpoint must be consistent with the last one seen, as for verify log; with a witness policy\n(--witness, --witness-threshold) it must be witnessed, and the package records that policy.\nExample:\n  evident export artifact 9af401c4 -o runner.evidence.json && evident verify package runner.evidence.json');
  addWitnessOptions(exported).action(action(exportArtifact));
  const trailExport = exp
    .command('trail <name>')
    .description('Write an evidence package for a trail: every entry about it (complete as of the checkpoint), proofs, evidence files')
    .requiredOption('--flow <name>', 'the flow')
    .requiredOption('-o, --out <file>', 'where to write the package (JSON)')
    .option('--key <verifier-key>', 'the log verifier key to trust (default: pinned on first use)')
    .addHelpText('after', '\nReads only the trail\'s chain of entries (subject map proof, then prev links).\nExample:\n  evident export trail 16d9990 --flow runner -o trail.evidence.json && evident verify package trail.evidence.json');
  addWitnessOptions(trailExport).action(action(exportTrail));
  const environmentExport = exp
    .command('environment <name>')
    .description('Write an evidence package for an environment: every entry about it (complete as of the checkpoint), proofs')
    .requiredOption('-o, --out <file>', 'where to write the package (JSON)')
    .option('--key <verifier-key>', 'the log verifier key to trust (default: pinned on first use)')
    .addHelpText('after', '\nReads only the environment\'s chain of entries (subject map proof, then prev links).\nExample:\n  evident export environment aws-prod -o prod.evidence.json && evident verify package prod.evidence.json');
  addWitnessOptions(environmentExport).action(action(exportEnvironment));
}
