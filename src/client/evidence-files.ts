import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { EvidentError, checkDigest, sanitiseEvidenceName } from '../core/index.js';

// fs/promises is taken from `fs.promises` when used, not imported: outside Node 20's start-up snapshot, loading it
// cost every command that loads the client ~3 ms of CPU in the CLI's CommonJS bundle (docs/performance.md "Scale,
// seventh round"), while only evidence uploads and downloads use it.
const fsp = (): typeof fs.promises => fs.promises;
// An upload's walk uses fs's callback API, not fs.promises: `attest junit` stats one file, and loading fs/promises
// for it also loaded and compiled fs/dir, the watchers and readline, a tenth of what the command costs besides
// node's own start-up (docs/performance.md "Tenth round"). The errors are the same (message, code, path).
const stat = (p: string) => new Promise<fs.Stats>((resolve, reject) => fs.stat(p, (err, st) => (err ? reject(err) : resolve(st))));
const readdir = (p: string) => new Promise<fs.Dirent[]>((resolve, reject) => fs.readdir(p, { withFileTypes: true }, (err, es) => (err ? reject(err) : resolve(es))));

export interface EvidenceFile {
  /** A file, or a directory: each file under it is uploaded on its own. */
  path: string;
  /** Name to record; for a directory, the prefix of its files' names. Default: the base name. */
  name?: string;
}

/**
 * The files an upload sends, with the names they are recorded under. A directory contributes every regular
 * file beneath it (in bytewise path order), named `<name or directory base name>/<relative path>` with '/'
 * separators. Symbolic links to files are followed; links to directories are skipped so a cycle cannot
 * make the walk endless.
 */
export async function expandEvidenceFiles(files: readonly EvidenceFile[]): Promise<{ path: string; name: string }[]> {
  const out: { path: string; name: string }[] = [];
  for (const f of files) {
    const full = path.resolve(f.path);
    let st: fs.Stats;
    try {
      st = await stat(full);
    } catch (err) {
      throw new EvidentError('INVALID_ARGUMENT', `cannot read attachment ${f.path}: ${(err as Error).message}`, { cause: err });
    }
    const name = f.name ?? path.basename(full);
    if (st.isFile()) out.push({ path: full, name });
    else if (st.isDirectory()) await walk(full, name, out);
    else throw new EvidentError('INVALID_ARGUMENT', `attachment ${f.path} is neither a file nor a directory`);
  }
  return out;
}

async function walk(dir: string, prefix: string, out: { path: string; name: string }[]): Promise<void> {
  const entries = (await readdir(dir)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const full = path.join(dir, e.name);
    const name = `${prefix}/${e.name}`;
    if (e.isDirectory()) await walk(full, name, out);
    else if (e.isFile()) out.push({ path: full, name });
    else if (e.isSymbolicLink()) {
      const target = await stat(full).catch(() => undefined);
      if (target?.isFile()) out.push({ path: full, name });
    }
  }
}

function inside(dir: string, file: string): boolean {
  const rel = path.relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/**
 * Where evidence recorded under `name` (a name from the server: untrusted) goes under `dir`. The name is
 * sanitised to a relative path first; anything still pointing outside `dir` is refused.
 */
export function evidenceDestination(dir: string, name: string | null, digest: string): string {
  const safe = sanitiseEvidenceName(name) ?? `sha256-${checkDigest(digest)}`;
  const root = path.resolve(dir);
  const file = path.resolve(root, ...safe.split('/'));
  if (!inside(root, file)) throw new EvidentError('INVALID_ARGUMENT', `refusing to write evidence named ${JSON.stringify(name)} outside ${dir}`);
  return file;
}

/**
 * Writes a download to `destFile` only once its bytes hash to `digest`: they go to a temporary file beside
 * it first, so a failed or forged download leaves nothing at `destFile`. `destFile` must be inside `dir`
 * (default: its own directory), also after symbolic links in between are resolved.
 */
export async function writeVerified(
  body: WebReadableStream<Uint8Array> | null, digest: string, destFile: string, dir?: string, expectedSize?: number,
): Promise<{ digest: string; size: number; path: string }> {
  checkDigest(digest);
  const dest = path.resolve(destFile);
  const root = path.resolve(dir ?? path.dirname(dest));
  if (!inside(root, dest)) throw new EvidentError('INVALID_ARGUMENT', `refusing to write ${destFile}: it is outside ${root}`);
  await fsp().mkdir(path.dirname(dest), { recursive: true });
  const [realRoot, realParent] = await Promise.all([fsp().realpath(root), fsp().realpath(path.dirname(dest))]);
  if (realParent !== realRoot && !inside(realRoot, realParent)) {
    throw new EvidentError('INVALID_ARGUMENT', `refusing to write ${destFile}: a symbolic link leads outside ${root}`);
  }
  // node:crypto on first use (not in Node 20's start-up snapshot: loading it costs every command that loads
  // the client a few ms of CPU, docs/performance.md "Scale, sixth round").
  const { createHash, randomBytes } = process.getBuiltinModule('node:crypto');
  const temp = path.join(path.dirname(dest), `.evident-download-${randomBytes(8).toString('hex')}`);
  const file = await fsp().open(temp, 'wx', 0o600);
  const hash = createHash('sha256');
  let size = 0;
  let done = false;
  try {
    try {
      for await (const chunk of body ? Readable.fromWeb(body) : []) {
        const bytes = chunk as Buffer;
        hash.update(bytes);
        size += bytes.length;
        await file.write(bytes).catch((err: unknown) => {
          throw new EvidentError('INVALID_ARGUMENT', `cannot write ${destFile}: ${(err as Error).message}`, { cause: err });
        });
      }
    } catch (err) {
      if (err instanceof EvidentError) throw err;
      // The server cuts a download short when its own check of the bytes fails (see the store's Verifier).
      throw new EvidentError('UNAVAILABLE', `the download of sha256:${digest} broke off after ${size} bytes: ${(err as Error).message}; nothing was written`, { cause: err });
    }
    await file.sync();
    await file.close();
    done = true;
    const actual = hash.digest('hex');
    if (actual !== digest || (expectedSize !== undefined && size !== expectedSize)) {
      throw new EvidentError('VERIFICATION_FAILED', `the server sent ${size} bytes hashing to ${actual}, not sha256:${digest}; nothing was written`);
    }
    await fsp().rename(temp, dest);
    return { digest, size, path: dest };
  } finally {
    if (!done) await file.close().catch(() => undefined);
    await fsp().rm(temp, { force: true });
  }
}
