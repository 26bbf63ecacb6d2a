import fs from 'node:fs';
import path from 'node:path';
import { EvidentError } from '../core/index.js';
import { trustedKeys } from './keys.js';
import { RECEIPT_MAX_BYTES, parseReceiptText, receiptSignatureValid, receiptSigner, type Receipt } from './receipt.js';
import { digestWorkspaceFile, sha256File } from './verify-files.js';

// `evident verify receipt`: the four checks of seed 003 §5.3, each one line, in the seed's order.

export interface ReceiptCheck {
  check: 'format' | 'pipeline_hash' | 'file_hashes' | 'signature' | 'trust';
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
  trustedOnly: boolean;
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
    const found = await digestWorkspaceFile(workspace, rel);
    if (found.status === 'unsafe') problems.push(`output of step ${step}: ${found.reason}`);
    else if (found.status === 'missing') problems.push(`output ${rel} of step ${step} is missing`);
    else if (`sha256:${found.sha256}` !== hash) problems.push(`output ${rel} of step ${step} has changed (receipt ${hash}, file sha256:${found.sha256})`);
  }
  if (problems.length === 0) return { check: { check: 'file_hashes', ok: true, message: 'All file hashes verified' }, problems };
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  return { check: { check: 'file_hashes', ok: false, message: `File hashes: ${problems[0]}${more}` }, problems };
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
  report.checks.push(await checkPipelineHash(receipt, options.pipelineFile ?? path.join(options.workspace, 'attest.yaml')));
  const outputs = await checkOutputs(receipt, options.workspace);
  report.checks.push(outputs.check);
  report.problems.push(...outputs.problems);

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
    if (options.trustedOnly) {
      report.checks.push(
        report.signer?.trusted
          ? { check: 'trust', ok: true, message: `Signer is trusted (as "${report.signer.trusted_as}")` }
          : { check: 'trust', ok: false, message: `Signer ${signer.keyId} is not a trusted key (evident keys trust PUBFILE)` },
      );
    }
  }
  report.ok = report.checks.every((c) => c.ok !== false);
  return report;
}
