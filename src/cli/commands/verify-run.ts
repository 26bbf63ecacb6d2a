import path from 'node:path';
import type { Command } from 'commander';
import { EvidentError } from '../../core/index.js';
import { parsePublicKeyText, readPublicKeyFile, verifyAttestationFile, verifyReceiptFile } from '../../pipeline/index.js';
import { action, type Ctx } from '../context.js';

// `evident verify receipt` (seed 003 §5.3) and `evident verify attestation`: offline checks of what
// `evident run` wrote, one `[OK]`/`[FAIL]` line per check.

interface CheckLine {
  ok: boolean | null;
  message: string;
}

function printChecks(ctx: Ctx, checks: CheckLine[]): void {
  for (const c of checks) ctx.printer.text(c.ok === null ? c.message : `${c.ok ? '[OK]' : '[FAIL]'} ${c.message}`);
}

/** Exit 2 for a file that is not what it claims to be at all, 1 naming the first failed check. */
function fail(report: { ok: boolean; malformed: boolean; checks: CheckLine[] }, what: string): void {
  if (report.ok) return;
  const first = report.checks.find((c) => c.ok === false)!;
  throw new EvidentError(report.malformed ? 'INVALID_ARGUMENT' : 'VERIFICATION_FAILED', `${what}: ${first.message}`);
}

interface ReceiptFlags {
  signatures: boolean;
  trustedOnly?: boolean;
  anyKey?: boolean;
  workspace?: string;
  file?: string;
}

async function verifyReceipt(opts: ReceiptFlags, ctx: Ctx, args: string[]): Promise<void> {
  if (opts.trustedOnly && opts.anyKey) {
    throw new EvidentError('INVALID_ARGUMENT', '--trusted-only and --any-key contradict each other', { details: [{ path: '--any-key', message: 'conflicts with --trusted-only' }] });
  }
  if (opts.trustedOnly && !opts.signatures) {
    throw new EvidentError('INVALID_ARGUMENT', '--trusted-only needs the signature check: drop --no-signatures', { details: [{ path: '--trusted-only', message: 'conflicts with --no-signatures' }] });
  }
  if (opts.anyKey) {
    // Loud, on stderr whatever the output format: this accepts a receipt anyone could have signed.
    process.stderr.write('WARNING: --any-key: the signer is NOT checked against your trusted keys; anyone can make a key and sign a receipt saying anything\n');
  }
  const workspace = path.resolve(opts.workspace ?? '.');
  const report = await verifyReceiptFile(args[0]!, {
    workspace, pipelineFile: opts.file === undefined ? undefined : path.resolve(opts.file), signatures: opts.signatures, anyKey: opts.anyKey ?? false,
  });
  ctx.printer.result(report, () => {
    printChecks(ctx, report.checks);
    if (report.signer && !report.signer.trusted && opts.anyKey && opts.signatures) {
      ctx.printer.info(`WARNING: signed by ${report.signer.key_id}, which is not a trusted key (accepted because of --any-key)`);
    }
  });
  fail(report, 'receipt verification failed');
}

interface AttestationFlags {
  key: string;
  workspace?: string;
}

async function verifyAttestation(opts: AttestationFlags, ctx: Ctx, args: string[]): Promise<void> {
  const key = /^ed25519:[0-9a-f]{64}$/.test(opts.key) ? parsePublicKeyText(opts.key, '--key') : readPublicKeyFile(opts.key);
  const report = await verifyAttestationFile(args[0]!, { key, workspace: path.resolve(opts.workspace ?? '.') });
  ctx.printer.result(report, () => printChecks(ctx, report.checks));
  fail(report, 'attestation verification failed');
}

export function registerVerifyRun(verify: Command): void {
  verify
    .command('receipt')
    .description('Verify a run receipt: format, pipeline hash, output file hashes, Ed25519 signature')
    .argument('<FILE>', 'a receipt, e.g. .evident/cache/receipts/receipt_20241201_143052.yaml')
    .option('--no-signatures', 'skip the signature check')
    .option('--trusted-only', 'require the signer to be a trusted key (the default; kept for scripts)')
    .option('--any-key', 'accept a valid signature by any key, trusted or not (printed as a warning)')
    .option('--workspace <dir>', 'the workspace the run built in: outputs are checked there (default: the current directory)')
    .option('-f, --file <attest.yaml>', 'the pipeline file whose hash must match (default: WORKSPACE/attest.yaml)')
    .addHelpText(
      'after',
      `
Checks, one line each:
  [OK] Receipt format valid             the YAML has exactly the receipt fields, hashes are sha256:<hex>
  [OK] Pipeline hash matches            SHA-256 of attest.yaml now equals pipeline_hash
  [OK] Pipeline steps match (…)         each step's command and needs are attest.yaml's; its inputs are under its declared inputs
  [OK] All file hashes verified         every output on disk equals its hash (paths must stay in the workspace)
  [OK] Run succeeded                    status is succeeded and every exit code 0 (a failed or cancelled run's receipt fails)
  [OK] Cryptographic signature valid    Ed25519 by signer_public_key over the receipt (docs/receipts.md)
  [OK] Signer is trusted (as "NAME")    the signer is in .evident/keys/trusted/ (skipped with --any-key)
Exit status: 0 verified, 1 a check failed (the first failure is named), 2 unreadable or not a receipt.

Examples:
  evident verify receipt .evident/cache/receipts/receipt_20241201_143052.yaml
  evident verify receipt receipt.yaml --no-signatures
  evident verify receipt receipt.yaml --any-key --workspace ./checkout`,
    )
    .action(action(verifyReceipt));
  verify
    .command('attestation')
    .description('Verify a provenance attestation (DSSE envelope of an in-toto statement) written by evident run')
    .argument('<FILE>', 'e.g. .evident/provenance/build/out%2Fapp.tar.intoto.json')
    .requiredOption('--key <pub>', 'the signer\'s public key: a file ("ed25519:<hex>", in-toto JSON or PEM) or "ed25519:<hex>" itself')
    .option('--workspace <dir>', 'where the subjects are checked against files (default: the current directory)')
    .addHelpText(
      'after',
      `
Checks: the envelope (payloadType application/vnd.in-toto+json), a signature by --key over the DSSE PAE,
the statement (in-toto Statement v1; SLSA Provenance v1 predicate), and each subject's sha256 against the
file of that name in the workspace (a subject not present is reported, not failed).
Exit status: 0 verified, 1 a check failed, 2 unreadable or not a DSSE envelope.

Examples:
  evident verify attestation .evident/provenance/build/out%2Fapp.tar.intoto.json --key .evident/keys/public.key
  evident verify attestation app.intoto.json --key ed25519:3b6a27bc... --output json`,
    )
    .action(action(verifyAttestation));
}
