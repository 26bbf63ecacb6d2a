import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { EvidentError, yamlLib } from '../../core/index.js';

import { action, type Ctx } from '../context.js';
import { collectPath } from '../attachments.js';
import { collectNames } from '../flags.js';
import { sendSnapshot } from './snapshot-report.js';

// services/ (fingerprinting, collectors, XML parsing: ~330 ms to load) is imported when a command runs, not when
// the program is built: `evident --version` and `evident run` do not need it (docs/performance.md).
const services = () => import('../../services/index.js');

interface PathArtifact {
  name: string;
  path: string;
  exclude: string[];
}

/** A file is fingerprinted as a file, a directory as a Kosli directory digest. */
async function fingerprintPath(p: PathArtifact): Promise<string> {
  let st: fs.Stats;
  try {
    st = fs.statSync(p.path);
  } catch (err) {
    throw new EvidentError('INVALID_ARGUMENT', `artifact ${p.name}: cannot read ${p.path}: ${(err as Error).message}`);
  }
  const { fingerprintDir, fingerprintFile } = await services();
  return st.isDirectory() ? fingerprintDir(p.path, { exclude: p.exclude }) : fingerprintFile(p.path);
}

/** `{version: 1, artifacts: {NAME: {path, exclude: [...]}}}` (Kosli's paths spec), YAML or JSON. */
export function readPathsSpec(file: string): PathArtifact[] {
  let doc: unknown;
  try {
    doc = yamlLib().parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new EvidentError('INVALID_ARGUMENT', `--paths-file ${file}: ${(err as Error).message}`);
  }
  const spec = doc as { version?: unknown; artifacts?: Record<string, { path?: unknown; exclude?: unknown }> };
  if (spec?.version !== 1 || typeof spec.artifacts !== 'object' || spec.artifacts === null) {
    throw new EvidentError('INVALID_ARGUMENT', `--paths-file ${file}: expected {version: 1, artifacts: {NAME: {path, exclude}}}`);
  }
  const base = path.dirname(path.resolve(file));
  return Object.entries(spec.artifacts).map(([name, a]) => {
    if (typeof a?.path !== 'string') throw new EvidentError('INVALID_ARGUMENT', `--paths-file ${file}: artifacts.${name}.path must be a path`);
    const exclude = a.exclude === undefined ? [] : a.exclude;
    if (!Array.isArray(exclude) || !exclude.every((x) => typeof x === 'string')) throw new EvidentError('INVALID_ARGUMENT', `--paths-file ${file}: artifacts.${name}.exclude must be a list of globs`);
    return { name, path: path.resolve(base, a.path), exclude };
  });
}

// Kosli's `--paths "top-dir/STAR/STAR/src"` (STAR being `*`): a `*` or `?` in a path segment matches names in
// that directory (not across `/`), as Kosli expands them itself; a path without them is taken as it is.
export function expandGlob(pattern: string): string[] {
  if (!/[*?]/.test(pattern)) return [pattern];
  const absolute = pattern.startsWith('/');
  let found = [absolute ? '/' : '.'];
  for (const segment of pattern.split('/').filter((x) => x !== '')) {
    if (!/[*?]/.test(segment)) {
      found = found.map((dir) => path.join(dir, segment)).filter((p) => fs.existsSync(p));
      continue;
    }
    const re = new RegExp(`^${segment.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
    found = found.flatMap((dir) => {
      try {
        return fs.readdirSync(dir).filter((name) => re.test(name)).sort().map((name) => path.join(dir, name));
      } catch {
        return []; // not a directory
      }
    });
  }
  return found.map((p) => (absolute ? p : path.relative('.', p)));
}

/** Fingerprints each path and reports them as the environment's state, one instance each. */
export async function snapshotPaths(opts: { path?: string[]; paths?: string[]; pathsFile?: string; exclude?: string[]; name?: string }, ctx: Ctx, [env]: string[]): Promise<void> {
  const given = [...(opts.path ?? []), ...(opts.paths ?? []).flatMap(expandGlob)];
  if (opts.name !== undefined && given.length !== 1) throw new EvidentError('INVALID_ARGUMENT', '--name names one --path');
  const items: PathArtifact[] = opts.pathsFile ? readPathsSpec(opts.pathsFile) : given.map((p) => ({ name: opts.name ?? p, path: p, exclude: opts.exclude ?? [] }));
  if (items.length === 0) throw new EvidentError('INVALID_ARGUMENT', 'give --path PATH (repeatable) or --paths-file FILE');
  const artifacts: { name: string; fingerprint: string; instances: number }[] = [];
  for (const item of items) artifacts.push({ name: item.name, fingerprint: await fingerprintPath(item), instances: 1 });
  await sendSnapshot(ctx, env!, artifacts);
}

export function registerSnapshotPaths(snapshot: Command): void {
  // Kosli's `snapshot path ENV --path P --name N [--exclude a,b]`: one artifact under a name.
  snapshot
    .command('path <env>')
    .description('Report one file or directory (fingerprinted as a file or a Kosli directory digest) under a name: Kosli\'s snapshot path')
    .requiredOption('--path <path>', 'the file or directory', collectPath)
    .requiredOption('--name <name>', 'the artifact\'s name')
    .option('-x, --exclude <glob>', 'paths inside a directory to leave out (a,b or repeated)', collectNames)
    .addHelpText('after', '\nExample:\n  evident snapshot path prod-host --path /opt/app --name app --exclude logs,tmp')
    .action(action(snapshotPaths));
  for (const kind of ['server', 'paths'] as const) {
    snapshot
      .command(`${kind} <env>`)
      .description(`Report the files and directories ${kind === 'server' ? 'deployed on this server' : 'named in a paths spec'}: each is fingerprinted (file, or Kosli directory digest) and runs with one instance`)
      .option('--path <path>', 'a file or directory, repeatable (your shell expands globs)', collectPath)
      .option('--paths-file <file>', 'a spec: {version: 1, artifacts: {NAME: {path, exclude: [GLOB...]}}}, YAML or JSON')
      .option('--paths <a,b>', 'files or directories, comma-separated (Kosli)', collectNames)
      .option('-x, --exclude <glob>', 'paths inside directories to leave out (a,b or repeated; Kosli)', collectNames)
      .addHelpText('after', `\nExamples:\n  evident snapshot ${kind} prod-host --path /opt/app/*.jar\n  evident snapshot ${kind} prod-host --paths-file paths.yml`)
      .action(action(snapshotPaths));
  }
}
