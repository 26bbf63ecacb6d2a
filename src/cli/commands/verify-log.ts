import type { Command } from 'commander';
import { EvidentError, toHex } from '../../core/index.js';
import { openCheckpoint, type Checkpoint } from '../../ledger/index.js';
import { trustedLogKey } from '../verify/pinned-key.js';
import { action, type Ctx } from '../context.js';
import { VerifierState } from '../verify/state.js';
import { checkAgainstPrevious, checkAllEntries, checkCheckpoint, type VerifyLogReport } from '../verify/log-verifier.js';

export interface VerifyLogOptions {
  full?: boolean;
  key?: string;
}

/**
 * Checks the log as Go's checksum-database client does: the checkpoint must be signed by the pinned key,
 * and every newer checkpoint must be proven consistent with the last one seen. With --full, every entry
 * is re-derived as well.
 */
export async function verifyLog(opts: VerifyLogOptions, ctx: Ctx): Promise<void> {
  const { globals, printer } = ctx;
  const client = ctx.client();
  const state = new VerifierState(globals.stateDir);
  const { keyText, verifier, origin } = await trustedLogKey(ctx, opts.key);

  const note = await client.checkpoint();
  const current = checkCheckpoint(note, verifier, origin);
  const report: VerifyLogReport = {
    ok: true, origin, size: current.size, root: toHex(current.root), previous: null,
    checks: [{ ok: true, message: `Checkpoint signature valid (${verifier.name}+${verifier.keyId.toString(16).padStart(8, '0')})` }],
    conflict: null, first_bad_index: null,
  };

  const previousNote = state.latestCheckpoint(origin);
  let previous: Checkpoint | undefined;
  if (previousNote !== undefined) {
    previous = openCheckpoint(previousNote, [verifier]);
    report.previous = { size: previous.size, root: toHex(previous.root) };
    const check = await checkAgainstPrevious(client, previous, current);
    report.checks.push({ ok: check.ok, message: check.message });
    if (check.kind) report.conflict = { kind: check.kind, previous: previousNote, current: note };
  } else {
    report.checks.push({ ok: true, message: `First checkpoint seen for ${origin}: remembered for next time` });
  }

  if (opts.full && !report.conflict) {
    const progress = current.size > 10_000 ? (done: number, total: number) => printer.info(`re-derived ${done}/${total} entries`) : undefined;
    const check = await checkAllEntries(client, current, globals.org, progress);
    report.checks.push({ ok: check.ok, message: check.message });
    report.first_bad_index = check.firstBad;
  }

  report.ok = report.checks.every((c) => c.ok);
  // Remember only a checkpoint that extends what was seen, never one that contradicts it.
  if (!report.conflict && (!previous || current.size >= previous.size)) state.saveCheckpoint(origin, note);

  printer.result(report, () => {
    for (const c of report.checks) printer.text(`${c.ok ? '[OK]' : '[FAIL]'} ${c.message}`);
    if (report.conflict) {
      printer.text(`\nThe log contradicts itself (${report.conflict.kind}). Both checkpoints are signed by ${keyText}:\n`);
      printer.text(`--- previously seen ---\n${report.conflict.previous}--- now served ---\n${report.conflict.current}`);
    }
  });
  if (!report.ok) {
    const failed = report.checks.find((c) => !c.ok)!;
    throw new EvidentError('VERIFICATION_FAILED', failed.message);
  }
}

export function registerVerify(program: Command): Command {
  const verify = program.command('verify').description('Verify what the server says, with proofs');
  verify
    .command('log')
    .description("Verify the org's log: checkpoint signature, consistency with the last checkpoint seen, and (--full) every entry")
    .option('--full', 're-derive every leaf hash and the root from the entries, naming the first index that does not match')
    .option('--key <verifier-key>', 'the log verifier key to trust (env EVIDENT_VERIFIER_KEY); default: pinned on first use under ~/.evident/')
    .addHelpText(
      'after',
      '\nThe last checkpoint seen per log is kept under ~/.evident/checkpoints/. Exit status: 0 verified,\n1 verification failed (bad signature, rollback, fork, tampered entry), 3 server unreachable.\n' +
        'Example:\n  evident verify log --full',
    )
    .action(action<VerifyLogOptions>(verifyLog));
  return verify;
}
