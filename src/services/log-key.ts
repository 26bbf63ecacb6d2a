import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EvidentError } from '../core/index.js';
import { generateCosignerKey, generateSignerKey, parseCosignerKey, parseSignerKey, type Cosigner, type NoteSigner } from '../ledger/index.js';

export interface LogKeyOptions {
  /** A signer key string (`PRIVATE+KEY+…`) or the path of a file holding one. */
  key?: string;
  /** Where the key is created on first start when none is given. */
  dataDir: string;
  /** Name for a newly created key; becomes the prefix of every checkpoint origin. */
  name?: string;
}

export interface LoadedLogKey {
  signer: NoteSigner;
  file?: string;
  created: boolean;
}

export interface LoadedWitnessKey {
  cosigner: Cosigner;
  file?: string;
  created: boolean;
}

interface KeyKind<T> {
  file: string;
  what: string;
  generate(name: string): string;
  parse(text: string): T;
}

const hostName = () => os.hostname().toLowerCase().replace(/[^a-z0-9.-]/g, '-');

/**
 * A signing key given by flag or environment, or created once in the data directory with mode 0600
 * (DESIGN.md §7). A key file readable by others is refused.
 */
function loadKey<T>(options: LogKeyOptions, kind: KeyKind<T>, defaultName: string): { key: T; file?: string; created: boolean } {
  if (options.key?.startsWith('PRIVATE+KEY+')) return { key: kind.parse(options.key.trim()), created: false };
  const file = options.key ?? path.join(options.dataDir, kind.file);
  if (options.key === undefined && !fs.existsSync(file)) {
    fs.mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    const signerKey = kind.generate(options.name ?? defaultName);
    try {
      // 'wx': never overwrite a key another process created a moment ago.
      fs.writeFileSync(file, signerKey + '\n', { mode: 0o600, flag: 'wx' });
      return { key: kind.parse(signerKey), file, created: true };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  let text: string;
  try {
    const mode = fs.statSync(file).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new EvidentError('INVALID_ARGUMENT', `${kind.what} file ${file} is readable by others (mode ${mode.toString(8)}); run chmod 600 ${file}`);
    }
    text = fs.readFileSync(file, 'utf8').trim();
  } catch (err) {
    if (err instanceof EvidentError) throw err;
    throw new EvidentError('INVALID_ARGUMENT', `cannot read ${kind.what} file ${file}: ${(err as Error).message}`, { cause: err });
  }
  return { key: kind.parse(text), file, created: false };
}

/** The log's Ed25519 signing key (`<data-dir>/log-key` unless given). */
export function loadLogKey(options: LogKeyOptions): LoadedLogKey {
  const kind: KeyKind<NoteSigner> = { file: 'log-key', what: 'log key', generate: (n) => generateSignerKey(n).signerKey, parse: parseSignerKey };
  const { key, file, created } = loadKey(options, kind, `evident.${hostName()}`);
  return { signer: key, file, created };
}

/** A witness's Ed25519 cosigning key (C2SP tlog-cosignature, type 0x04; `<data-dir>/witness-key` unless given). */
export function loadWitnessKey(options: LogKeyOptions): LoadedWitnessKey {
  const kind: KeyKind<Cosigner> = { file: 'witness-key', what: 'witness key', generate: (n) => generateCosignerKey(n).signerKey, parse: parseCosignerKey };
  const { key, file, created } = loadKey(options, kind, `witness.${hostName()}`);
  return { cosigner: key, file, created };
}
