import type { Command } from 'commander';
import { EvidentError, fromHex, toHex } from '../../core/index.js';
import { trustedLogKey } from '../verify/pinned-key.js';
import { action, type Ctx } from '../context.js';
import { VerifierState } from '../verify/state.js';
import type { VerifyLogReport } from '../verify/log-verifier.js';
import { streamCheckLog } from '../verify/log-stream.js';
import { checkRememberedCheckpoint, printConflict } from '../verify/remembered.js';
import { addWitnessOptions, chooseWitnessPolicy, type WitnessPolicyFlags } from '../verify/witness-policy.js';
import { checkWitnessed } from '../verify/witnessed.js';

export interface VerifyLogOptions extends WitnessPolicyFlags {
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
  const chosen = chooseWitnessPolicy(opts, globals);

  const note = await client.checkpoint();
  const witnessed = (checkpoint: Parameters<typeof checkWitnessed>[0]['checkpoint']) => checkWitnessed({ chosen, note, checkpoint, verifier, origin });
  const seen = await checkRememberedCheckpoint({ state, origin, verifier, note, source: client, served: true, witnessed });
  const current = seen.checkpoint;
  const report: VerifyLogReport = {
    ok: true, origin, size: current.size, root: toHex(current.root),
    previous: seen.previous && { size: seen.previous.size, root: seen.previous.root },
    checks: [
      { ok: true, message: `Checkpoint signature valid (${verifier.name}+${verifier.keyId.toString(16).padStart(8, '0')})` },
      ...(seen.witness ? [seen.witness] : []), seen.check,
    ],
    conflict: seen.conflict, first_bad_index: null, first_bad_range: null,
  };

  if (opts.full && !report.conflict) {
    const previous = seen.previous && { origin, size: seen.previous.size, root: fromHex(seen.previous.root, 'root', 32), extensions: [] };
    const progress = ttyProgress(current.size);
    const check = await streamCheckLog(client, current, { org: globals.org, previous, progress: progress?.update });
    progress?.end();
    report.checks.push({ ok: check.ok, message: check.message });
    if (check.previousCheck) report.checks.push(check.previousCheck);
    if (check.mapCheck) report.checks.push(check.mapCheck);
    report.first_bad_index = check.firstBad;
    report.first_bad_range = check.firstBadRange;
  }

  report.ok = report.checks.every((c) => c.ok);

  printer.result(report, () => {
    for (const c of report.checks) printer.text(`${c.ok ? '[OK]' : '[FAIL]'} ${c.message}`);
    if (report.conflict) printConflict(printer, keyText, report.conflict);
  });
  if (!report.ok) {
    const failed = report.checks.find((c) => !c.ok)!;
    throw new EvidentError('VERIFICATION_FAILED', failed.message);
  }
}

/** A progress line on stderr, redrawn at most 5 times a second, when stderr is a terminal. */
function ttyProgress(total: number): { update(done: number): void; end(): void } | undefined {
  if (!process.stderr.isTTY || total === 0) return undefined;
  const started = performance.now();
  let shown = 0;
  return {
    update(done) {
      const now = performance.now();
      if (now - shown < 200 && done < total) return;
      shown = now;
      const rate = done / Math.max(0.001, (now - started) / 1000);
      const eta = rate > 0 ? Math.ceil((total - done) / rate) : 0;
      process.stderr.write(`\rre-derived ${done}/${total} entries (${Math.round((100 * done) / total)}%, ${Math.round(rate)}/s, ${eta} s left)\x1b[K`);
    },
    end() {
      process.stderr.write('\r\x1b[K');
    },
  };
}

export function registerVerify(program: Command): Command {
  const verify = program.command('verify').description('Verify what the server says, with proofs');
  const log = verify
    .command('log')
    .description("Verify the org's log: checkpoint signature, consistency with the last checkpoint seen, and (--full) every entry")
    .option('--full', 're-derive every leaf hash and the root from the entries, naming the first index that does not match; recompute the subject map and check the checkpoint\'s map line and every prev link')
    .option('--key <verifier-key>', 'the log verifier key to trust (env EVIDENT_VERIFIER_KEY); default: pinned on first use under ~/.evident/')
    .addHelpText(
      'after',
      '\nThe last checkpoint seen per log is kept under ~/.evident/checkpoints/. Exit status: 0 verified,\n1 verification failed (bad signature, rollback, fork, tampered entry, too few witness cosignatures), 3 server unreachable.\n' +
        'With a witness policy (--witness KEY, repeated, and --witness-threshold K; or EVIDENT_WITNESS and\nEVIDENT_WITNESS_THRESHOLD; or witnesses: and witness_threshold: in ~/.evident.yml) the checkpoint must carry\nvalid cosignatures by at least K of those witnesses, so even a first-time client cannot be shown a forked log.\n' +
        'Examples:\n  evident verify log --full\n  evident verify log --witness "$W1" --witness "$W2" --witness "$W3" --witness-threshold 2',
    );
  addWitnessOptions(log).action(action<VerifyLogOptions>(verifyLog));
  return verify;
}
