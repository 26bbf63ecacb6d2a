import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { LocalCache } from './cache.js';
import type { EntryManifest } from './manifest.js';
import { hashFile, isExecutable } from './stat-memo.js';

// Restoring a cache entry into the workspace (issue #6 item 3): byte for byte, with the executable bit,
// every file checked against its digest. In two phases, so that a bad entry changes nothing: first every
// object that must be written is extracted into a staging directory and verified; only when all of them
// check out are they renamed into place. Files already on disk with the right content are left alone
// (checked through the stat memo, so a warm run reads nothing). A directory on the way that is a symbolic
// link is refused: a restore never writes through a link.

export type RestoreResult = { ok: true; written: number } | { ok: false; problem: string; corruptObject?: string };

interface Planned {
  rel: string;
  sha256: string;
  size: number;
  executable: boolean;
  /** A symbolic link's target: restored as a link (docs/cache.md "Symbolic links"). */
  link?: string;
  /** 'write' the content (or make the link), 'chmod' only, or nothing to do. */
  action: 'write' | 'chmod' | 'none';
}

/** Is the file at `rel` already this content? Uses the memo, else hashes it (and remembers). */
async function sameContent(cache: LocalCache, rel: string, abs: string, stat: fs.Stats, sha256: string): Promise<boolean> {
  const known = cache.memo.lookup(rel, stat);
  if (known) return known === sha256;
  const hashedAt = Date.now();
  const got = await hashFile(abs, stat.size);
  cache.memo.record(rel, stat, got, hashedAt);
  return got === sha256;
}

/** The problem with the directories above `rel` (a link, or a non-directory), if any. */
function parentProblem(workspace: string, rel: string, checked: Set<string>): string | undefined {
  const parts = rel.split('/');
  for (let i = 1; i < parts.length; i++) {
    const dir = parts.slice(0, i).join('/');
    if (checked.has(dir)) continue;
    const st = fs.lstatSync(path.join(workspace, dir), { throwIfNoEntry: false });
    if (!st) return undefined; // created later, as a real directory
    if (st.isSymbolicLink()) return `${dir} is a symbolic link: a restore never writes through a link`;
    if (!st.isDirectory()) return `${dir} is not a directory`;
    checked.add(dir);
  }
  return undefined;
}

async function plan(workspace: string, cache: LocalCache, files: { rel: string; sha256: string; size: number; executable: boolean; link?: string }[]): Promise<Planned[] | string> {
  const checked = new Set<string>();
  const out: Planned[] = [];
  for (const f of files) {
    const problem = parentProblem(workspace, f.rel, checked);
    if (problem) return problem;
    const abs = path.join(workspace, f.rel);
    const st = fs.lstatSync(abs, { throwIfNoEntry: false });
    let action: Planned['action'] = 'write';
    if (st?.isDirectory()) return `${f.rel} is a directory on disk, a ${f.link === undefined ? 'file' : 'symbolic link'} in the cache entry`;
    if (f.link !== undefined) {
      out.push({ ...f, action: st?.isSymbolicLink() && fs.readlinkSync(abs) === f.link ? 'none' : 'write' });
      continue;
    }
    if (st?.isFile() && st.size === f.size && (await sameContent(cache, f.rel, abs, st, f.sha256))) {
      action = isExecutable(st) === f.executable ? 'none' : 'chmod';
    }
    out.push({ ...f, action });
  }
  return out;
}

function mkdirs(workspace: string, rel: string): void {
  const parts = rel.split('/');
  for (let i = 1; i < parts.length; i++) {
    const dir = path.join(workspace, ...parts.slice(0, i));
    const st = fs.lstatSync(dir, { throwIfNoEntry: false });
    if (!st) fs.mkdirSync(dir);
    else if (!st.isDirectory()) throw new Error(`${parts.slice(0, i).join('/')} is not a directory`);
  }
}

function moveInto(staged: string, abs: string): void {
  try {
    fs.renameSync(staged, abs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    const beside = `${abs}.evident-${randomBytes(4).toString('hex')}`;
    fs.copyFileSync(staged, beside);
    fs.renameSync(beside, abs);
    fs.rmSync(staged, { force: true });
  }
}

/**
 * Restores the entry's files and its log (to `logRel`, workspace-relative). The manifest has passed
 * checkManifest() for the step's declared outputs.
 */
export async function restoreEntry(workspace: string, manifest: EntryManifest, cache: LocalCache, logRel: string): Promise<RestoreResult> {
  const files = manifest.files.map((f) => ({ rel: f.path, sha256: f.sha256, size: f.size, executable: f.executable, ...(f.link !== undefined ? { link: f.link } : {}) }));
  files.push({ rel: logRel, sha256: manifest.log.sha256, size: manifest.log.size, executable: false });
  const planned = await plan(workspace, cache, files);
  if (typeof planned === 'string') return { ok: false, problem: planned };
  const writes = planned.filter((p) => p.action === 'write');
  const staging = path.join(workspace, '.evident', 'tmp');
  const staged = new Map<Planned, string>();
  try {
    if (writes.length > 0) fs.mkdirSync(staging, { recursive: true });
    for (const p of writes) {
      const tmp = path.join(staging, `${p.sha256.slice(0, 16)}-${randomBytes(6).toString('hex')}`);
      if (p.link !== undefined) {
        // Made beside the others and renamed into place like them: rename replaces a file or link there.
        fs.symlinkSync(p.link, tmp);
        staged.set(p, tmp);
        continue;
      }
      const problem = await cache.objects.extract(p.sha256, p.size, tmp);
      if (problem) return { ok: false, problem, corruptObject: p.sha256 };
      staged.set(p, tmp);
    }
    for (const p of planned) {
      const abs = path.join(workspace, p.rel);
      if (p.action === 'write') {
        mkdirs(workspace, p.rel);
        moveInto(staged.get(p)!, abs);
        staged.delete(p);
      }
      if (p.link !== undefined) continue;
      if (p.action !== 'none') fs.chmodSync(abs, p.executable ? 0o755 : 0o644);
      if (p.action === 'write') cache.memo.record(p.rel, fs.statSync(abs), p.sha256, Date.now());
    }
    return { ok: true, written: writes.length };
  } catch (err) {
    return { ok: false, problem: `could not restore: ${(err as Error).message}` };
  } finally {
    for (const tmp of staged.values()) fs.rmSync(tmp, { force: true });
  }
}
