import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { createPublicKey, verify } from 'node:crypto';
import { EvidentError, yamlLib, type ProblemDetail } from '../core/index.js';
import { blockYaml } from './receipt-yaml.js';
import { canonicalJsonBytes, pae } from '../formats/index.js';
import { publicKeyInfo, type KeySigner } from './keys.js';
import type { RunRecord } from './types.js';

// One receipt per run, in the YAML of seed 003 §5.2 (docs/receipts.md). Hashes are `sha256:<hex>` (the
// seed shows blake3; Evident uses SHA-256 everywhere). The signature is Ed25519 over
//   PAE("application/vnd.evident.receipt+json", RFC 8785 canonical JSON of the receipt without
//   `signature` and `signer_public_key`)
// — DSSE's pre-authentication encoding, so a receipt signature can never be replayed as a DSSE or in-toto
// signature made with the same key.

export const RECEIPT_PAYLOAD_TYPE = 'application/vnd.evident.receipt+json';
export const RECEIPT_MAX_BYTES = 32 * 1024 * 1024;

export interface ReceiptFile {
  path: string;
  hash: string;
}

export interface ReceiptStep {
  name: string;
  command: string;
  exit_code: number;
  duration_secs: number;
  /** Added by Evident: hit, miss or disabled. */
  cache?: string;
  /** Added by Evident: the step's declared environment (pass_env variables by digest). */
  env?: Record<string, string>;
  /** Added by Evident: the steps it needs, as declared (verify receipt compares them with attest.yaml). */
  needs?: string[];
  /** Added by Evident: `process`, `sandbox` or `container`. */
  isolation?: string;
  /** Added by Evident: a container step's image, `NAME@sha256:ID` (the image ID that ran). */
  image?: string;
  /** ATTEST's `attestation.type` of the step (`build`, `test`, …), when declared. */
  attestation_type?: string;
  inputs: ReceiptFile[];
  outputs: ReceiptFile[];
}

export interface SystemInfo {
  /** `os.platform()` and `os.release()`, e.g. `linux 6.1.0-18-amd64`. */
  os: string;
  arch: string;
  /** The runtime that ran Evident, e.g. `node v20.20.2`. */
  runtime: string;
  /** The shell every step's command runs in. */
  shell: string;
  /** The isolation levels the run's steps used, e.g. `process` or `process, sandbox`. */
  isolation: string;
}

export interface Receipt {
  /** Added by Evident: the pipeline's name. */
  pipeline?: string;
  pipeline_hash: string;
  timestamp: string;
  total_duration_secs: number;
  /** The seed's field, kept for its readers: the version of the Evident that wrote the receipt. */
  attest_version: string;
  /** Added by Evident: `succeeded`, `failed` or `cancelled`. */
  status?: string;
  /**
   * Added by Evident (seed 003 §5.1 "Environment: variables and system information"): where the run ran.
   * Recorded, signed with the rest, and not in any cache key: the toolchain a step uses is keyed through
   * its declared inputs (lockfiles, configs), isolation through the key's `isolation`; keying the OS or
   * Node version would make every machine miss for steps whose outputs do not depend on them.
   */
  system?: SystemInfo;
  steps: ReceiptStep[];
  signature?: string;
  signer_public_key?: string;
}

const TOP_REQUIRED = ['pipeline_hash', 'timestamp', 'total_duration_secs', 'attest_version', 'steps'];
const TOP_OPTIONAL = ['pipeline', 'status', 'system', 'signature', 'signer_public_key'];
const STEP_REQUIRED = ['name', 'command', 'exit_code', 'duration_secs', 'inputs', 'outputs'];
const STEP_OPTIONAL = ['cache', 'env', 'needs', 'isolation', 'image', 'attestation_type'];
const HASH = /^sha256:[0-9a-f]{64}$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

const secs = (n: number): number => Math.round(n * 1000) / 1000;
const files = (list: { path: string; sha256: string }[]): ReceiptFile[] => list.map((f) => ({ path: f.path, hash: `sha256:${f.sha256}` }));

/** `2024-12-01T14:30:52.123Z` → `2024-12-01T14:30:52Z` (the seed's precision). */
export function receiptTimestamp(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) throw new EvidentError('INVALID_ARGUMENT', `invalid run start time ${JSON.stringify(iso)}`);
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function buildReceipt(run: RunRecord, version: string): Receipt {
  return {
    pipeline: run.pipeline,
    pipeline_hash: `sha256:${run.pipelineHash}`,
    timestamp: receiptTimestamp(run.startedAt),
    total_duration_secs: secs(run.totalDurationSecs),
    attest_version: version,
    status: run.cancelled ? 'cancelled' : run.ok ? 'succeeded' : 'failed',
    steps: run.steps.map((s) => ({
      name: s.name, command: s.command, exit_code: s.exitCode, duration_secs: secs(s.durationSecs),
      // Optional fields only when the runner filled them: an undefined would make the receipt unsignable.
      ...(typeof s.cache === 'string' ? { cache: s.cache } : {}),
      ...(s.env ? { env: { ...s.env } } : {}),
      ...(s.needs ? { needs: [...s.needs] } : {}),
      ...(s.isolation ? { isolation: s.isolation } : {}),
      ...(s.image ? { image: s.image } : {}),
      ...(s.attestationType ? { attestation_type: s.attestationType } : {}),
      inputs: files(s.inputs ?? []), outputs: files(s.outputs ?? []),
    })),
  };
}

/** The exact bytes a receipt signature covers (see the header comment). */
export function receiptSigningBytes(receipt: Receipt): Uint8Array {
  const { signature: _s, signer_public_key: _k, ...content } = receipt;
  return pae(RECEIPT_PAYLOAD_TYPE, canonicalJsonBytes(content));
}

export function signReceipt(receipt: Receipt, signer: KeySigner): Receipt {
  const { signature: _s, signer_public_key: _k, ...content } = receipt;
  const sig = Buffer.from(signer.sign(receiptSigningBytes(content))).toString('hex');
  return { ...content, signature: `ed25519:${sig}`, signer_public_key: signer.text };
}

/** True when `signature` is a valid Ed25519 signature by `signer_public_key`; false for any malformed part. */
export function receiptSignatureValid(receipt: Receipt): boolean {
  const sig = /^ed25519:([0-9a-f]{128})$/.exec(receipt.signature ?? '');
  const pub = /^ed25519:([0-9a-f]{64})$/.exec(receipt.signer_public_key ?? '');
  if (!sig || !pub) return false;
  try {
    const key = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, Buffer.from(pub[1]!, 'hex')]), format: 'der', type: 'spki' });
    return verify(null, receiptSigningBytes(receipt), key, Buffer.from(sig[1]!, 'hex'));
  } catch {
    return false;
  }
}

export function formatReceipt(receipt: Receipt): string {
  const header = '# Evident run receipt (docs/receipts.md). Verify with: evident verify receipt FILE\n';
  // Strings double-quoted as in the seed: a YAML 1.1 reader (PyYAML) would otherwise turn the timestamp into a date.
  return header + blockYaml(receipt as unknown as Record<string, unknown>);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function keyProblems(obj: Record<string, unknown>, required: string[], optional: string[], at: string): ProblemDetail[] {
  const problems: ProblemDetail[] = [];
  for (const k of required) if (!(k in obj)) problems.push({ path: `${at}/${k}`, message: 'is missing' });
  for (const k of Object.keys(obj)) if (!required.includes(k) && !optional.includes(k)) problems.push({ path: `${at}/${k}`, message: 'is not a receipt field' });
  return problems;
}

function fileListProblems(value: unknown, at: string): ProblemDetail[] {
  if (!Array.isArray(value)) return [{ path: at, message: 'must be a list' }];
  return value.flatMap((f, i) => {
    if (!isObject(f)) return [{ path: `${at}/${i}`, message: 'must be {path, hash}' }];
    const problems = keyProblems(f, ['path', 'hash'], [], `${at}/${i}`);
    if (typeof f.path !== 'string' || f.path === '') problems.push({ path: `${at}/${i}/path`, message: 'must be a non-empty string' });
    if (typeof f.hash !== 'string' || !HASH.test(f.hash)) problems.push({ path: `${at}/${i}/hash`, message: 'must be sha256:<64 lower-case hex>' });
    return problems;
  });
}

function stepProblems(step: unknown, at: string): ProblemDetail[] {
  if (!isObject(step)) return [{ path: at, message: 'must be a mapping' }];
  const problems = keyProblems(step, STEP_REQUIRED, STEP_OPTIONAL, at);
  if (typeof step.name !== 'string' || step.name === '') problems.push({ path: `${at}/name`, message: 'must be a non-empty string' });
  if (typeof step.command !== 'string') problems.push({ path: `${at}/command`, message: 'must be a string' });
  if (!Number.isSafeInteger(step.exit_code)) problems.push({ path: `${at}/exit_code`, message: 'must be an integer' });
  if (typeof step.duration_secs !== 'number' || !(step.duration_secs >= 0)) problems.push({ path: `${at}/duration_secs`, message: 'must be a number >= 0' });
  if (step.cache !== undefined && typeof step.cache !== 'string') problems.push({ path: `${at}/cache`, message: 'must be a string' });
  if (step.isolation !== undefined && typeof step.isolation !== 'string') problems.push({ path: `${at}/isolation`, message: 'must be a string' });
  if (step.image !== undefined && (typeof step.image !== 'string' || !/@sha256:[0-9a-f]{64}$/.test(step.image))) problems.push({ path: `${at}/image`, message: 'must be NAME@sha256:<64 hex>' });
  if (step.attestation_type !== undefined && typeof step.attestation_type !== 'string') problems.push({ path: `${at}/attestation_type`, message: 'must be a string' });
  if (step.needs !== undefined && (!Array.isArray(step.needs) || !step.needs.every((n) => typeof n === 'string'))) problems.push({ path: `${at}/needs`, message: 'must be a list of step names' });
  if (step.env !== undefined && (!isObject(step.env) || !Object.values(step.env).every((v) => typeof v === 'string'))) {
    problems.push({ path: `${at}/env`, message: 'must map names to strings' });
  }
  return [...problems, ...fileListProblems(step.inputs, `${at}/inputs`), ...fileListProblems(step.outputs, `${at}/outputs`)];
}

/** Every way `value` is not a receipt (an attacker-controlled document); empty when it is one. */
export function receiptProblems(value: unknown): ProblemDetail[] {
  if (!isObject(value)) return [{ path: '/', message: 'a receipt is a YAML mapping' }];
  const problems = keyProblems(value, TOP_REQUIRED, TOP_OPTIONAL, '');
  if (typeof value.pipeline_hash !== 'string' || !HASH.test(value.pipeline_hash)) problems.push({ path: '/pipeline_hash', message: 'must be sha256:<64 lower-case hex>' });
  if (typeof value.timestamp !== 'string' || !TIMESTAMP.test(value.timestamp)) problems.push({ path: '/timestamp', message: 'must be YYYY-MM-DDTHH:MM:SSZ' });
  if (typeof value.total_duration_secs !== 'number' || !(value.total_duration_secs >= 0)) problems.push({ path: '/total_duration_secs', message: 'must be a number >= 0' });
  for (const k of ['attest_version', 'pipeline', 'status'] as const) {
    if (k in value && typeof value[k] !== 'string') problems.push({ path: `/${k}`, message: 'must be a string' });
  }
  if ('system' in value && (!isObject(value.system) || Object.values(value.system).some((v) => typeof v !== 'string'))) problems.push({ path: '/system', message: 'must be a mapping of strings' });
  if (!Array.isArray(value.steps)) problems.push({ path: '/steps', message: 'must be a list' });
  else value.steps.forEach((s, i) => problems.push(...stepProblems(s, `/steps/${i}`)));
  const signed = ['signature', 'signer_public_key'].filter((k) => k in value);
  if (signed.length === 1) problems.push({ path: `/${signed[0]}`, message: 'signature and signer_public_key go together' });
  if ('signature' in value && (typeof value.signature !== 'string' || !/^ed25519:[0-9a-f]{128}$/.test(value.signature))) {
    problems.push({ path: '/signature', message: 'must be ed25519:<128 hex>' });
  }
  if ('signer_public_key' in value && (typeof value.signer_public_key !== 'string' || !/^ed25519:[0-9a-f]{64}$/.test(value.signer_public_key))) {
    problems.push({ path: '/signer_public_key', message: 'must be ed25519:<64 hex>' });
  }
  return problems;
}

/** Parses receipt YAML: no aliases, unique keys, YAML 1.2 core schema. Returns the value and its problems. */
export function parseReceiptText(text: string): { receipt: Receipt | undefined; problems: ProblemDetail[] } {
  const doc = yamlLib().parseDocument(text, { schema: 'core', uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) return { receipt: undefined, problems: [{ path: '/', message: `not YAML: ${doc.errors[0]!.message.split('\n')[0]}` }] };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 0 });
  } catch (err) {
    return { receipt: undefined, problems: [{ path: '/', message: (err as Error).message }] };
  }
  const problems = receiptProblems(value);
  return { receipt: problems.length === 0 ? (value as Receipt) : undefined, problems };
}

/** Writes the receipt as `.evident/cache/receipts/receipt_<YYYYMMDD_HHMMSS>.yaml` (a suffix if taken). */
export function writeReceipt(workspace: string, receipt: Receipt): string {
  const dir = path.join(workspace, '.evident', 'cache', 'receipts');
  fs.mkdirSync(dir, { recursive: true });
  const stamp = receipt.timestamp.replace(/[-:]/g, '').replace('T', '_').replace('Z', '');
  const text = formatReceipt(receipt);
  for (let n = 1; ; n++) {
    const file = path.join(dir, `receipt_${stamp}${n === 1 ? '' : `_${n}`}.yaml`);
    try {
      fs.writeFileSync(file, text, { flag: 'wx' });
      return file;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || n > 1000) throw err;
    }
  }
}

/** The public key of a signed receipt, for trust decisions. */
export function receiptSigner(receipt: Receipt): ReturnType<typeof publicKeyInfo> | undefined {
  const m = /^ed25519:([0-9a-f]{64})$/.exec(receipt.signer_public_key ?? '');
  return m ? publicKeyInfo(m[1]!) : undefined;
}

/** What a receipt records of the machine and runtime (SystemInfo); `isolation` from the run's steps. */
export function systemInfo(run: RunRecord): SystemInfo {
  const levels = [...new Set(run.steps.map((s) => s.isolation ?? 'process'))].sort();
  return { os: `${os.platform()} ${os.release()}`, arch: os.arch(), runtime: `node ${process.version}`, shell: '/bin/sh', isolation: levels.length > 0 ? levels.join(', ') : 'process' };
}
