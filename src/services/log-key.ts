import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EvidentError } from '../core/index.js';
import { generateSignerKey, parseSignerKey, type NoteSigner } from '../ledger/index.js';

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

const KEY_FILE = 'log-key';

/**
 * The log's Ed25519 signing key (DESIGN.md §7): given by flag or environment, or created once in the
 * data directory with mode 0600. A key file readable by others is refused.
 */
export function loadLogKey(options: LogKeyOptions): LoadedLogKey {
  if (options.key?.startsWith('PRIVATE+KEY+')) return { signer: parseSignerKey(options.key.trim()), created: false };
  const file = options.key ?? path.join(options.dataDir, KEY_FILE);
  if (options.key === undefined && !fs.existsSync(file)) {
    fs.mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    const name = options.name ?? `evident.${os.hostname().toLowerCase().replace(/[^a-z0-9.-]/g, '-')}`;
    const { signerKey } = generateSignerKey(name);
    try {
      // 'wx': never overwrite a key another process created a moment ago.
      fs.writeFileSync(file, signerKey + '\n', { mode: 0o600, flag: 'wx' });
      return { signer: parseSignerKey(signerKey), file, created: true };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  let text: string;
  try {
    const mode = fs.statSync(file).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new EvidentError('INVALID_ARGUMENT', `log key file ${file} is readable by others (mode ${mode.toString(8)}); run chmod 600 ${file}`);
    }
    text = fs.readFileSync(file, 'utf8').trim();
  } catch (err) {
    if (err instanceof EvidentError) throw err;
    throw new EvidentError('INVALID_ARGUMENT', `cannot read log key file ${file}: ${(err as Error).message}`, { cause: err });
  }
  return { signer: parseSignerKey(text), file, created: false };
}
