import fs from 'node:fs';
import type { Command } from 'commander';
import { EvidentError } from '../../core/index.js';
import { parseVerifierKey } from '../../ledger/index.js';
import { action, type Ctx } from '../context.js';
import { readTextFile } from '../flags.js';
import { checkCheckpoint, type Check } from '../verify/log-verifier.js';

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

async function collect(ctx: Ctx, ref: string, key?: string) {
  const { keyText, verifier, origin } = await trustedLogKey(ctx, key);
  const client = ctx.client();
  const note = await client.checkpoint();
  const cp = checkCheckpoint(note, verifier, origin);
  const { buildArtifactPackage, verifyPackage } = await packages();
  return { verifyPackage, verifier, pkg: await buildArtifactPackage(client, ctx.globals.org, ref, keyText, note, cp) };
}

/** `evident verify artifact REF`: every entry about the artifact is proven included under the current checkpoint. */
export async function verifyArtifact(opts: { key?: string }, ctx: Ctx, [ref]: string[]): Promise<void> {
  const { verifyPackage, verifier, pkg } = await collect(ctx, ref!, opts.key);
  report(ctx, pkg.subject.fingerprint, verifyPackage(pkg, verifier));
}

/** `evident export artifact REF -o FILE`: the same proof, written as one file for offline checking. */
export async function exportArtifact(opts: { key?: string; out: string }, ctx: Ctx, [ref]: string[]): Promise<void> {
  const { verifyPackage, verifier, pkg } = await collect(ctx, ref!, opts.key);
  const checks = verifyPackage(pkg, verifier);
  if (!checks.every((c) => c.ok)) report(ctx, pkg.subject.fingerprint, checks);
  fs.writeFileSync(opts.out, JSON.stringify(pkg, null, 2) + '\n', { flag: 'w' });
  ctx.printer.result({ file: opts.out, subject: pkg.subject, entries: pkg.entries.length }, () =>
    ctx.printer.text(`Wrote ${opts.out}: ${pkg.entries.length} entries about ${pkg.subject.fingerprint}, proven against checkpoint size ${pkg.checkpoint.split('\n')[1]}`),
  );
}

/** `evident verify package FILE`: offline, no server. */
export async function verifyPackageFile(opts: { key?: string }, ctx: Ctx, [file]: string[]): Promise<void> {
  const { parsePackage, verifyPackage } = await packages();
  const pkg = parsePackage(readTextFile('FILE', file!), file!);
  const explicit = opts.key ?? process.env.EVIDENT_VERIFIER_KEY;
  if (explicit === undefined) {
    ctx.printer.info('Warning: trusting the log key written inside the package; pass --key with the log\'s verifier key to check it is genuine.');
  } else if (explicit !== pkg.verifier_key) {
    ctx.printer.info('Note: the package names another key than --key; checking against --key.');
  }
  report(ctx, pkg.subject.fingerprint, verifyPackage(pkg, parseVerifierKey(explicit ?? pkg.verifier_key)));
}

export function registerProveArtifact(verify: Command, program: Command): void {
  verify
    .command('artifact <ref>')
    .description('Prove every log entry about an artifact is included under the current signed checkpoint')
    .option('--key <verifier-key>', 'the log verifier key to trust (default: pinned on first use)')
    .addHelpText('after', '\nExample:\n  evident verify artifact runner:16d9990')
    .action(action(verifyArtifact));
  verify
    .command('package <file>')
    .description('Check an evidence package offline: checkpoint signature, inclusion proofs, evidence digests')
    .option('--key <verifier-key>', "the log's verifier key (env EVIDENT_VERIFIER_KEY); without it the package's own key is trusted, with a warning")
    .addHelpText('after', '\nExit status: 0 verified, 1 verification failed.\nExample:\n  evident verify package runner.evidence.json --key "$(cat log.pub)"')
    .action(action(verifyPackageFile));
  const exp = program.command('export').description('Write evidence packages');
  exp
    .command('artifact <ref>')
    .description('Write an evidence package for an artifact: its entries, proofs, checkpoint and evidence files')
    .requiredOption('-o, --out <file>', 'where to write the package (JSON)')
    .option('--key <verifier-key>', 'the log verifier key to trust (default: pinned on first use)')
    .addHelpText('after', '\nExample:\n  evident export artifact 9af401c4 -o runner.evidence.json && evident verify package runner.evidence.json')
    .action(action(exportArtifact));
}
