import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';

// Reading the files an attacker-controlled document (a receipt, a provenance statement) names: only
// normalised relative paths, only inside the workspace, never through a symlink that leaves it, only
// regular files (a FIFO would hang the verifier, a device would read forever).

export type WorkspaceFileCheck =
  | { status: 'ok'; sha256: string }
  | { status: 'missing' }
  | { status: 'unsafe'; reason: string };

/** Why `rel` is not a normalised workspace-relative path, or undefined when it is one. */
export function relativePathProblem(rel: string): string | undefined {
  if (rel === '' || rel.includes('\0')) return 'is empty or contains NUL';
  if (rel.startsWith('/') || /^[A-Za-z]:[\\/]/.test(rel)) return 'is absolute';
  const segments = rel.split('/');
  if (segments.includes('..')) return 'escapes the workspace (..)';
  if (segments.some((s) => s === '' || s === '.')) return 'is not normalised';
  return undefined;
}

export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    fs.createReadStream(file)
      .on('data', (d) => hash.update(d))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** The digest an output that is a symbolic link is recorded by (docs/cache.md "Symbolic links"). */
export function linkDigest(target: string): string {
  return createHash('sha256').update(`symlink:${target}`).digest('hex');
}

/**
 * The SHA-256 of workspace file `rel`, or why it was not read. With `links`, a symbolic link at `rel`
 * itself (its directories being real and inside) is not followed: it stands for linkDigest(its target),
 * as `evident run` records link outputs.
 */
export async function digestWorkspaceFile(workspace: string, rel: string, options: { links?: boolean } = {}): Promise<WorkspaceFileCheck> {
  const problem = relativePathProblem(rel);
  if (problem) return { status: 'unsafe', reason: `path ${JSON.stringify(rel)} ${problem}` };
  const root = fs.realpathSync(workspace);
  if (options.links) {
    const st = fs.lstatSync(path.join(root, rel), { throwIfNoEntry: false });
    if (st?.isSymbolicLink()) {
      const parent = path.dirname(path.join(root, rel));
      let realParent: string;
      try {
        realParent = fs.realpathSync(parent);
      } catch {
        return { status: 'missing' };
      }
      if (realParent !== root && !realParent.startsWith(root + path.sep)) return { status: 'unsafe', reason: `path ${JSON.stringify(rel)} leads out of the workspace through a symlink` };
      return { status: 'ok', sha256: linkDigest(fs.readlinkSync(path.join(root, rel))) };
    }
  }
  let real: string;
  try {
    real = fs.realpathSync(path.join(root, rel));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return { status: 'missing' };
    throw err;
  }
  if (!real.startsWith(root + path.sep)) return { status: 'unsafe', reason: `path ${JSON.stringify(rel)} leads out of the workspace through a symlink` };
  if (!fs.statSync(real).isFile()) return { status: 'unsafe', reason: `path ${JSON.stringify(rel)} is not a regular file` };
  return { status: 'ok', sha256: await sha256File(real) };
}
