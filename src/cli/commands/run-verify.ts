import { EvidentError } from '../../core/index.js';
import { missingDeclaredInputs, verifyReceiptFile, type LoadedSpec } from '../../pipeline/index.js';
import type { Ctx } from '../context.js';

// `evident run --verify` (seed 003 §9.2; src/pipeline/run-verify.ts): the checks before the run, and the
// receipt verified after it, as `evident verify receipt` does.

/** Before any step: declared inputs nothing makes must exist; all problems at once, exit 2, nothing run. */
export function verifyBeforeRun(loaded: LoadedSpec, steps: readonly string[] | undefined): void {
  const problems = missingDeclaredInputs(loaded, steps);
  if (problems.length === 0) return;
  throw new EvidentError('INVALID_ARGUMENT', `run --verify: ${problems.length} declared input${problems.length === 1 ? '' : 's'} missing; nothing ran:\n  ${problems.join('\n  ')}`);
}

/** After the run: the receipt just written, checked (signature and trust when it is signed); fails the run when a check fails. */
export async function verifyAfterRun(loaded: LoadedSpec, receiptFile: string | undefined, signed: boolean, ctx: Ctx): Promise<void> {
  if (receiptFile === undefined) throw new EvidentError('VERIFICATION_FAILED', 'run --verify: no receipt was written, so the run cannot be verified');
  const report = await verifyReceiptFile(receiptFile, { workspace: loaded.workspace, pipelineFile: loaded.file, signatures: signed });
  for (const c of report.checks) ctx.printer.info(`verify: ${c.ok === null ? c.message : `${c.ok ? '[OK]' : '[FAIL]'} ${c.message}`}`);
  if (!report.ok) {
    const first = report.checks.find((c) => c.ok === false)!;
    throw new EvidentError('VERIFICATION_FAILED', `run --verify: the run's receipt does not verify: ${first.message}`);
  }
}
