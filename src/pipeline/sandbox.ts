import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { EvidentError } from '../core/index.js';
import { isGlobSegment, parsePattern } from './patterns.js';
import type { StepSpec } from './types.js';

// The `sandbox` isolation level (seed 003 §7 lists process, container and VM isolation; DESIGN.md §3 asks for
// "a sandboxed isolation level where the machine has a real sandbox — never a pretend one"). A sandboxed
// step runs under bubblewrap: the whole file system read-only, a private /tmp, /dev and /proc of its own,
// no network (--unshare-net), and writable only where its declared outputs go. Where bwrap is missing the
// step fails with a clear error rather than running unsandboxed.

/** The path of bwrap on PATH, or undefined. */
export function findBwrap(pathVar = process.env.PATH ?? '/usr/bin:/bin'): string | undefined {
  for (const dir of pathVar.split(':')) {
    const candidate = path.join(dir || '.', 'bwrap');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export const NO_BWRAP = 'sandbox isolation needs bubblewrap (bwrap), which is not installed: apt-get install bubblewrap';

/**
 * The directories a step may write: for each output pattern, its literal directory part (`dist/` → dist,
 * `out/app.tar` → out, `build/**\/*.js` → build). A file output therefore makes its directory writable — bwrap
 * binds existing paths, and the file does not exist yet. An output at the top of the workspace makes the
 * workspace writable (said in docs/runner.md).
 */
export function writableDirs(workspace: string, step: StepSpec): string[] {
  const dirs = new Set<string>();
  for (const raw of step.outputs) {
    const { segments, glob } = parsePattern(raw);
    const literal: string[] = [];
    for (const segment of segments) {
      if (isGlobSegment(segment) || segment === '**') break;
      literal.push(segment);
    }
    const abs = path.join(workspace, ...literal);
    const isDir = glob || raw.endsWith('/') || fs.statSync(abs, { throwIfNoEntry: false })?.isDirectory() === true;
    dirs.add(isDir ? abs : path.dirname(abs));
  }
  return [...dirs].sort();
}

/** The command line prefix that runs `/bin/sh -c CMD` inside the sandbox. Creates the writable directories. */
export function sandboxPrefix(workspace: string, step: StepSpec, bwrap = findBwrap()): string[] {
  if (!bwrap) throw new EvidentError('INVALID_ARGUMENT', NO_BWRAP);
  const args = [bwrap, '--die-with-parent', '--unshare-net', '--unshare-ipc', '--unshare-uts', '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp'];
  // The workspace again after /tmp (test workspaces live under /tmp), then the output directories writable.
  args.push('--ro-bind', workspace, workspace);
  for (const dir of writableDirs(workspace, step)) {
    fs.mkdirSync(dir, { recursive: true });
    args.push('--bind', dir, dir);
  }
  args.push('--chdir', step.workingDir ? path.join(workspace, step.workingDir) : workspace);
  return args;
}

/** Whether bwrap can make a sandbox here (user namespaces may be off in containers); the reason when not. */
export function sandboxUsable(bwrap = findBwrap()): { ok: true } | { ok: false; reason: string } {
  if (!bwrap) return { ok: false, reason: NO_BWRAP };
  try {
    execFileSync(bwrap, ['--ro-bind', '/', '/', '--unshare-net', '/bin/true'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim() };
  }
}
