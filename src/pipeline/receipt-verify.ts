import fs from 'node:fs';
import path from 'node:path';
import { EvidentError } from '../core/index.js';
import { trustedKeys } from './keys.js';
import { RECEIPT_MAX_BYTES, parseReceiptText, receiptSignatureValid, receiptSigner, type Receipt } from './receipt.js';
import { digestWorkspaceFile, sha256File } from './verify-files.js';
import { checkReceiptSteps } from './receipt-steps.js';

// `evident verify receipt`: the four checks of seed 003 §5.3, each one line, in the seed's order, plus
// Evident's: the receipt's steps are those of attest.yaml (receipt-steps.ts), the run succeeded, and the
// signer is trusted (unless --any-key).

export interface ReceiptCheck {
  check: 'format' | 'pipeline_hash' | 'pipeline_steps' | 'file_hashes' | 'status' | 'signature' | 'trust';
  /** null: skipped. */
  ok: boolean | null;
  message: string;
}

export interface ReceiptReport {
  ok: boolean;
  /** The file is not a receipt at all (exit status 2 rather than 1). */
  malformed: boolean;
  file: string;
  checks: ReceiptCheck[];
  signer: { key_id: string; public_key: string; trusted: boolean; trusted_as: string | null } | null;
  problems: string[];
}

export interface VerifyReceiptOptions {
  workspace: string;
  /** The pipeline file to hash; default `<workspace>/attest.yaml`. */
  pipelineFile?: string;
  signatures: boolean;
  /**
   * Accept a valid signature by any key. By default the signer must be a trusted key (.evident/keys/
   * trusted/): anyone can make a key and sign a receipt saying anything (issue 14 finding 3).
   */
  anyKey?: boolean;
}

function readReceiptText(file: string): string {
  try {
    if (fs.statSync(file).size > RECEIPT_MAX_BYTES) throw new EvidentError('INVALID_ARGUMENT', `${file} is larger than ${RECEIPT_MAX_BYTES} bytes: not a receipt`);
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof EvidentError) throw err;
    throw new EvidentError('INVALID_ARGUMENT', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}

async function checkPipelineHash(receipt: Receipt, file: string): Promise<ReceiptCheck> {
  if (!fs.existsSync(file)) return { check: 'pipeline_hash', ok: false, message: `Pipeline hash cannot be checked: ${file} not found` };
  const actual = `sha256:${await sha256File(file)}`;
  return actual === receipt.pipeline_hash
    ? { check: 'pipeline_hash', ok: true, message: 'Pipeline hash matches' }
    : { check: 'pipeline_hash', ok: false, message: `Pipeline hash does not match ${file} (receipt ${receipt.pipeline_hash}, file ${actual})` };
}

/** Each output's final content (the last step that wrote a path wins) against the file on disk. */
async function checkOutputs(receipt: Receipt, workspace: string): Promise<{ check: ReceiptCheck; problems: string[] }> {
  const expected = new Map<string, { hash: string; step: string }>();
  for (const step of receipt.steps) for (const out of step.outputs) expected.set(out.path, { hash: out.hash, step: step.name });
  const problems: string[] = [];
  for (const [rel, { hash, step }] of expected) {
    const found = await digestWorkspaceFile(workspace, rel, { links: true });
    if (found.status === 'unsafe') problems.push(`output of step ${step}: ${found.reason}`);
    else if (found.status === 'missing') problems.push(`output ${rel} of step ${step} is missing`);
    else if (`sha256:${found.sha256}` !== hash) problems.push(`output ${rel} of step ${step} has changed (receipt ${hash}, file sha256:${found.sha256})`);
  }
  if (problems.length === 0) return { check: { check: 'file_hashes', ok: true, message: 'All file hashes verified' }, problems };
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  return { check: { check: 'file_hashes', ok: false, message: `File hashes: ${problems[0]}${more}` }, problems };
}

/** A receipt of a run that failed or was cancelled records what happened; it does not verify as a success. */
function statusCheck(receipt: Receipt): ReceiptCheck {
  const failed = receipt.steps.filter((s) => s.exit_code !== 0).map((s) => s.name);
  const status = receipt.status ?? (failed.length > 0 ? 'failed' : 'succeeded');
  if (status === 'succeeded' && failed.length === 0) return { check: 'status', ok: true, message: 'Run succeeded' };
  const which = failed.length > 0 ? `: ${failed.join(', ')} exited non-zero` : '';
  return { check: 'status', ok: false, message: `Run ${status === 'succeeded' ? 'failed' : status}${which} (the receipt records a run that did not succeed)` };
}

export async function verifyReceiptFile(file: string, options: VerifyReceiptOptions): Promise<ReceiptReport> {
  const report: ReceiptReport = { ok: false, malformed: false, file, checks: [], signer: null, problems: [] };
  const { receipt, problems } = parseReceiptText(readReceiptText(file));
  if (!receipt) {
    report.malformed = true;
    report.problems = problems.map((p) => `${p.path}: ${p.message}`);
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    report.checks.push({ check: 'format', ok: false, message: `Receipt format invalid: ${report.problems[0]}${more}` });
    return report;
  }
  report.checks.push({ check: 'format', ok: true, message: 'Receipt format valid' });
  const pipelineFile = options.pipelineFile ?? path.join(options.workspace, 'attest.yaml');
  report.checks.push(await checkPipelineHash(receipt, pipelineFile));
  const steps = checkReceiptSteps(receipt, pipelineFile);
  report.checks.push({ check: 'pipeline_steps', ok: steps.ok, message: steps.message });
  report.problems.push(...steps.problems);
  const outputs = await checkOutputs(receipt, options.workspace);
  report.checks.push(outputs.check);
  report.problems.push(...outputs.problems);
  report.checks.push(statusCheck(receipt));

  const signer = receiptSigner(receipt);
  if (signer) {
    const trusted = trustedKeys(options.workspace).find((t) => t.keyId === signer.keyId);
    report.signer = { key_id: signer.keyId, public_key: signer.text, trusted: trusted !== undefined, trusted_as: trusted?.name ?? null };
  }
  if (!options.signatures) {
    report.checks.push({ check: 'signature', ok: null, message: 'Signature verification skipped' });
  } else if (!signer) {
    report.checks.push({ check: 'signature', ok: false, message: 'Receipt is not signed (run with --sign, or verify with --no-signatures)' });
  } else {
    const valid = receiptSignatureValid(receipt);
    report.checks.push({ check: 'signature', ok: valid, message: valid ? 'Cryptographic signature valid' : 'Cryptographic signature invalid' });
    if (!options.anyKey) {
      report.checks.push(
        report.signer?.trusted
          ? { check: 'trust', ok: true, message: `Signer is trusted (as "${report.signer.trusted_as}")` }
          : { check: 'trust', ok: false, message: `Signer ${signer.keyId} is not a trusted key (evident keys trust PUBFILE, or --any-key)` },
      );
    }
  }
  report.ok = report.checks.every((c) => c.ok !== false);
  return report;
}
