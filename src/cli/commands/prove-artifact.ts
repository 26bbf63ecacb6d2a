import fs from 'node:fs';
import type { Command } from 'commander';
import { EvidentError } from '../../core/index.js';
import { parseCheckpoint, parseVerifierKey, splitNote } from '../../ledger/index.js';

/** The text of a checkpoint whose signature verifyPackage() has already checked. */
const parseCarried = (note: string) => parseCheckpoint(splitNote(note).text);
import { action, type Ctx } from '../context.js';
import { readTextFile } from '../flags.js';
import { logOrigin, type Check } from '../verify/log-verifier.js';
import { checkRememberedCheckpoint, printConflict, type RememberedCheckpoint } from '../verify/remembered.js';
import { VerifierState } from '../verify/state.js';
import { addWitnessOptions, chooseWitnessPolicy, type WitnessPolicyFlags } from '../verify/witness-policy.js';
import { checkWitnessed } from '../verify/witnessed.js';
import { witnessPolicyJson } from '../../ledger/index.js';

// The package code validates with TypeBox (hundreds of modules): loaded when a command runs, not at start-up.
const packages = () => Promise.all([import('../verify/build-package.js'), import('../verify/evidence-package.js')]).then(([b, e]) => ({ ...b, ...e }));
import { trustedLogKey } from '../verify/pinned-key.js';

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

async function collect(ctx: Ctx, ref: string, opts: WitnessPolicyFlags & { key?: string }) {
  const { keyText, verifier, origin } = await trustedLogKey(ctx, opts.key);
  const chosen = chooseWitnessPolicy(opts, ctx.globals);
  const client = ctx.client();
  const note = await client.checkpoint();
  const state = new VerifierState(ctx.globals.stateDir);
  const witnessed = (checkpoint: Parameters<typeof checkWitnessed>[0]['checkpoint']) => checkWitnessed({ chosen, note, checkpoint, verifier, origin });
  const seen = await checkRememberedCheckpoint({ state, origin, verifier, note, source: client, served: true, witnessed });
  refuseConflict(ctx, ref, keyText, seen);
  const { buildArtifactPackage, verifyPackage } = await packages();
  const pkg = await buildArtifactPackage(client, ctx.globals.org, ref, keyText, note, seen.checkpoint);
  // The package records the policy it was made under; a verifier's own policy still wins (witness-policy.ts).
  if (chosen) pkg.witness_policy = witnessPolicyJson(chosen.policy);
  return { verifyPackage, verifier, pkg, seen };
}

/** `evident verify artifact REF`: every entry about the artifact is proven included under the current checkpoint. */
export async function verifyArtifact(opts: WitnessPolicyFlags & { key?: string }, ctx: Ctx, [ref]: string[]): Promise<void> {
  const { verifyPackage, verifier, pkg, seen } = await collect(ctx, ref!, opts);
  report(ctx, pkg.subject.fingerprint, withSeen(verifyPackage(pkg, verifier), seen));
}

/** `evident export artifact REF -o FILE`: the same proof, written as one file for offline checking. */
export async function exportArtifact(opts: WitnessPolicyFlags & { key?: string; out: string }, ctx: Ctx, [ref]: string[]): Promise<void> {
  const { verifyPackage, verifier, pkg, seen } = await collect(ctx, ref!, opts);
  const checks = withSeen(verifyPackage(pkg, verifier), seen);
  if (!checks.every((c) => c.ok)) report(ctx, pkg.subject.fingerprint, checks);
  fs.writeFileSync(opts.out, JSON.stringify(pkg, null, 2) + '\n', { flag: 'w' });
  ctx.printer.result({ file: opts.out, subject: pkg.subject, entries: pkg.entries.length }, () =>
    ctx.printer.text(`Wrote ${opts.out}: ${pkg.entries.length} entries about ${pkg.subject.fingerprint}, proven against checkpoint size ${pkg.checkpoint.split('\n')[1]}`),
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
  const chosen = chooseWitnessPolicy(opts, ctx.globals, pkg.witness_policy);
  const checks = verifyPackage(pkg, verifier);
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
      refuseConflict(ctx, pkg.subject.fingerprint, explicit, seen);
    }
  }
  report(ctx, pkg.subject.fingerprint, withSeen(checks, seen, witness));
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
    .description('Check an evidence package offline: checkpoint signature, inclusion proofs, evidence digests')
    .option('--key <verifier-key>', "the log's verifier key (env EVIDENT_VERIFIER_KEY); without it the package's own key is trusted, with a warning")
    .option('--offline', 'do not ask the host for a consistency proof with the last checkpoint seen, even when a host is given')
    .addHelpText(
      'after',
      '\nWith --key, the package\'s checkpoint is checked against the last one this client saw for the log\n' +
        '(~/.evident/checkpoints/): the same root at the same size offline, and, when a host is given and not\n' +
        '--offline, a consistency proof from the host. A fork or rollback prints both signed checkpoints.\n' +
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
}
