import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { EvidentError } from '../core/index.js';

// The runner's seal on its own cache files (docs/cache.md "Threat model"). `.evident/cache/` is not a
// root of trust: it can be restored from a CI cache, copied from another machine, or edited by anything
// that writes the workspace. Yet some of its files decide what a run vouches for without re-reading the
// workspace: a cache entry's manifest (which digests a hit records), the stat memo (which digest a file
// has without reading it), the replay file (a whole run's record) and the parsed attest.yaml (which
// commands run). Each is sealed with HMAC-SHA-256 under a key only the runner holds,
// `.evident/keys/cache-seal.key` (mode 0600, outside the cache directory, beside the signing key), and
// a file whose seal does not verify is ignored like a missing one. The MAC covers a domain and the
// file's kind, so that one sealed file cannot stand in for another kind.
//
// Sealed file = body ‖ "\n" ‖ "evident-seal:" ‖ hex(HMAC(key, "evident-cache-seal/v1\0" ‖ kind ‖ "\0" ‖ body)).

const DOMAIN = 'evident-cache-seal/v1';
const MARK = '\nevident-seal:';
const KEY_HEX = /^[0-9a-f]{64}$/;

export type SealKind = 'manifest' | 'stat-memo' | 'replay' | 'parsed-spec';

export function sealKeyFile(workspace: string): string {
  return path.join(workspace, '.evident', 'keys', 'cache-seal.key');
}

export class Sealer {
  private constructor(private readonly key: Buffer) {}

  static fromKey(key: Buffer): Sealer {
    return new Sealer(key);
  }

  /**
   * The workspace's seal key; created (0600) when missing and `create` is set, else undefined when
   * missing. A key readable by group or others is refused, as the signing key is.
   */
  static forWorkspace(workspace: string, options: { create: boolean }): Sealer | undefined {
    const file = sealKeyFile(workspace);
    const existing = readKey(file);
    if (existing) return new Sealer(existing);
    if (!options.create) return undefined;
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    fs.writeFileSync(tmp, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    try {
      // link, not rename: a key another process made first is kept, and both use it.
      fs.linkSync(tmp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
    return new Sealer(readKey(file)!);
  }

  private mac(kind: SealKind, body: string): string {
    return createHmac('sha256', this.key).update(`${DOMAIN}\0${kind}\0`).update(body).digest('hex');
  }

  seal(kind: SealKind, body: string): string {
    return `${body}${MARK}${this.mac(kind, body)}\n`;
  }

  /** The body when `text` carries a valid seal of this kind, else undefined. */
  open(kind: SealKind, text: string): string | undefined {
    const at = text.lastIndexOf(MARK);
    if (at < 0) return undefined;
    const body = text.slice(0, at);
    const given = Buffer.from(text.slice(at + MARK.length).trim(), 'hex');
    const want = Buffer.from(this.mac(kind, body), 'hex');
    return given.length === want.length && timingSafeEqual(given, want) ? body : undefined;
  }
}

function readKey(file: string): Buffer | undefined {
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(file);
  } catch {
    return undefined;
  }
  if ((st.mode & 0o077) !== 0) {
    throw new EvidentError('INVALID_ARGUMENT', `cache seal key ${file} is accessible by group or others (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}); refusing to use it. Run: chmod 600 ${file}`);
  }
  const text = fs.readFileSync(file, 'utf8').trim();
  if (!KEY_HEX.test(text)) throw new EvidentError('INVALID_ARGUMENT', `cache seal key ${file} is malformed (64 hex digits expected); delete it to make a new one (the cache then rebuilds)`);
  return Buffer.from(text, 'hex');
}
