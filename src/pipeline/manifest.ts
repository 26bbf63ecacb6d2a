import { STATE_DIR, coversPath, type Pattern } from './patterns.js';
import { linkDigest } from './verify-files.js';

// The manifest of one cache entry, `.evident/cache/metadata/entries/<key>.json`: the files a step wrote
// (path, SHA-256, size, executable bit) and its log. A manifest is treated as attacker-controlled (a
// cache directory can be copied from elsewhere, and the remote cache will feed the same code): before
// anything is restored, every path must be a plain relative path inside one of the step's declared
// outputs, so that a hit can never write outside the workspace, into .evident/, or beside the outputs.

export const MANIFEST_VERSION = 1;
const HEX64 = /^[0-9a-f]{64}$/;
const MAX_FILES = 1_000_000;

export interface EntryFile {
  path: string;
  sha256: string;
  size: number;
  executable: boolean;
  /** A symbolic link's target (then sha256 is linkDigest(link), size 0, no object). */
  link?: string;
}

export interface EntryManifest {
  v: typeof MANIFEST_VERSION;
  key: string;
  step: string;
  created_at: string;
  /** How long the step took when it ran (the planner's critical path uses it). */
  duration_secs: number;
  files: EntryFile[];
  log: { sha256: string; size: number };
}

/** Why `rel` may not be restored for a step declaring `outputs`, or undefined when it may. */
export function unsafeOutputPath(rel: unknown, outputs: readonly Pattern[]): string | undefined {
  if (typeof rel !== 'string' || rel === '') return 'is not a path';
  if (rel.length > 4096) return 'is too long';
  if (rel.includes('\0') || rel.includes('\\')) return 'contains a NUL byte or a backslash';
  if (rel.startsWith('/')) return 'is an absolute path';
  const segments = rel.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) return 'is not a plain relative path (empty, "." or ".." segments)';
  if (segments[0] === STATE_DIR) return `is inside ${STATE_DIR}/`;
  if (!outputs.some((p) => coversPath(p, rel))) return "is not under any of the step's declared outputs";
  return undefined;
}

const size = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The manifest if it is well formed and safe for this key and these declared outputs; else the problem. */
export function checkManifest(value: unknown, key: string, outputs: readonly Pattern[]): { manifest: EntryManifest } | { problem: string } {
  const m = value as Partial<EntryManifest> | null;
  if (!m || typeof m !== 'object') return { problem: 'the manifest is not a JSON object' };
  if (m.v !== MANIFEST_VERSION) return { problem: `unknown manifest version ${JSON.stringify(m.v)}` };
  if (m.key !== key) return { problem: 'the manifest is for another key' };
  if (typeof m.step !== 'string' || typeof m.created_at !== 'string' || typeof m.duration_secs !== 'number' || !(m.duration_secs >= 0)) {
    return { problem: 'the manifest lacks step, created_at or duration_secs' };
  }
  if (!m.log || typeof m.log.sha256 !== 'string' || !HEX64.test(m.log.sha256) || !size(m.log.size)) return { problem: 'the manifest has no valid log digest' };
  if (!Array.isArray(m.files) || m.files.length > MAX_FILES) return { problem: 'the manifest has no valid file list' };
  const paths = new Set<string>();
  for (const [i, f] of m.files.entries()) {
    if (!f || typeof f !== 'object') return { problem: `files[${i}] is not an object` };
    const unsafe = unsafeOutputPath(f.path, outputs);
    if (unsafe) return { problem: `files[${i}].path ${JSON.stringify(f.path)} ${unsafe}` };
    if (typeof f.sha256 !== 'string' || !HEX64.test(f.sha256) || !size(f.size) || typeof f.executable !== 'boolean') {
      return { problem: `files[${i}] (${f.path}) lacks a valid sha256, size or executable` };
    }
    if (f.link !== undefined) {
      if (typeof f.link !== 'string' || f.link === '' || f.link.length > 4096 || f.link.includes('\0')) return { problem: `files[${i}].link (${f.path}) is not a link target` };
      if (f.sha256 !== linkDigest(f.link) || f.size !== 0 || f.executable) return { problem: `files[${i}] (${f.path}) is a link whose digest, size or executable bit is not a link's` };
    }
    if (paths.has(f.path)) return { problem: `files[${i}].path ${f.path} is listed twice` };
    paths.add(f.path);
  }
  // A path cannot be both a file and a directory of another file.
  for (const p of paths) {
    for (let cut = p.indexOf('/'); cut !== -1; cut = p.indexOf('/', cut + 1)) {
      if (paths.has(p.slice(0, cut))) return { problem: `${p.slice(0, cut)} is listed as a file and as a directory` };
    }
  }
  return { manifest: m as EntryManifest };
}
