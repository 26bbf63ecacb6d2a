import type { Command } from 'commander';
import type { recordSchemas } from '../../client/index.js';
import { EvidentError } from '../../core/index.js';
import { action, type Ctx } from '../context.js';

// Kosli's `tag RESOURCE-TYPE NAME --set k=v --unset k` for environments, controls and repositories (flows:
// flows.ts). Each change is one `<kind>.tagged` log entry on the server (services/records/tags.ts).

const collect = (value: string, previous: string[]) => [...previous, value];

/**
 * `--set a=1 --set b=2` or Kosli's `--set a=1,b=2` (a string-to-string flag); `--unset a` or `--unset a,b`.
 * Kosli's documented `--unset key1=value1` removes key1: the value is ignored, as a key never contains `=`.
 */
export function parseTagFlags(opts: { set: string[]; unset: string[] }): { set: Record<string, string>; unset: string[] } {
  const pairs = opts.set.flatMap((s) => (s.split(',').every((p) => p.indexOf('=') > 0) ? s.split(',') : [s]));
  const set = Object.fromEntries(pairs.map((pair) => {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new EvidentError('INVALID_ARGUMENT', `--set ${JSON.stringify(pair)}: write KEY=VALUE`);
    return [pair.slice(0, eq), pair.slice(eq + 1)];
  }));
  const unset = opts.unset.flatMap((u) => u.split(',')).map((u) => u.split('=')[0]!.trim()).filter(Boolean);
  return { set, unset };
}

/** Kosli's message: "Tag(s) [a, b] added, and Tag(s) [c] removed for env 'x'". */
function kosliMessage(word: string, name: string, change: { set: Record<string, string>; unset: string[] }): string {
  const added = Object.keys(change.set).sort();
  const parts = [added.length ? `Tag(s) [${added.join(', ')}] added` : '', change.unset.length ? `Tag(s) [${[...change.unset].sort().join(', ')}] removed` : ''].filter(Boolean);
  return parts.length ? `${parts.join(', and ')} for ${word} '${name}'` : `No tags were applied for ${word} '${name}'`;
}

interface TagOptions {
  set: string[];
  unset: string[];
  provider?: string;
  repoId?: string;
}

/** Kosli's version-control providers (`kosli tag repo --provider`): the hosts whose commit URLs name a repository (repo-filter.ts). */
const PROVIDERS = ['github', 'gitlab', 'bitbucket', 'azure', 'azure-devops'];

/**
 * The subject Kosli's `tag TYPE [ID] [--provider P] [--repo-id ID]` names, with Kosli's checks and messages
 * (cmd/kosli/tag.go). A repository's id in Evident is its OWNER/REPO, the name its commit URLs give it and that
 * `tag repo` prints: `--repo-id` takes it in place of the argument. Evident keeps no provider with a repository
 * (its commit URLs are matched by path: repo-filter.ts), so `--provider` is checked and names the same subject;
 * docs/kosli.md says what that means for two repositories of one name on two providers.
 */
export function tagSubjectName(kind: recordSchemas.TagRequest['kind'], name: string | undefined, opts: TagOptions): string {
  if (kind !== 'repo') {
    if (opts.provider !== undefined) throw new EvidentError('INVALID_ARGUMENT', '--provider is only valid when tagging repos');
    if (opts.repoId !== undefined) throw new EvidentError('INVALID_ARGUMENT', '--repo-id is only valid when tagging repos');
  }
  if (opts.provider !== undefined && opts.repoId !== undefined) throw new EvidentError('INVALID_ARGUMENT', '--provider cannot be combined with --repo-id');
  if (opts.provider !== undefined && !PROVIDERS.includes(opts.provider.toLowerCase())) {
    throw new EvidentError('INVALID_ARGUMENT', `--provider ${JSON.stringify(opts.provider)}: one of ${PROVIDERS.join(', ')}`);
  }
  if (name !== undefined && opts.repoId !== undefined) throw new EvidentError('INVALID_ARGUMENT', 'exactly one of the RESOURCE-ID argument or --repo-id must be provided');
  const subject = name ?? opts.repoId;
  if (subject === undefined) throw new EvidentError('INVALID_ARGUMENT', kind === 'repo' ? 'the RESOURCE-ID argument is required unless tagging a repo with --repo-id' : 'the RESOURCE-ID argument is required');
  return subject;
}

async function tagSubject(kind: recordSchemas.TagRequest['kind'], word: string, opts: TagOptions, ctx: Ctx, given: string | undefined): Promise<void> {
  const name = tagSubjectName(kind, given, opts);
  const change = parseTagFlags(opts);
  if (ctx.globals.dryRun) return ctx.printer.info(`dry run: would tag ${kind} ${name}: ${JSON.stringify(change)}`);
  const r = await ctx.client().tag({ kind, name, ...change });
  ctx.printer.result(r, () => {
    ctx.printer.text(kosliMessage(word, r.name, change));
    ctx.printer.text(`Tags: ${Object.entries(r.tags).map(([k, v]) => `${k}=${v}`).join(', ') || '-'}${r.entry_index === null ? ' (unchanged: nothing logged)' : ` (log entry ${r.entry_index})`}`);
  });
}

export function registerTagCommands(tag: Command): void {
  const subjects: [recordSchemas.TagRequest['kind'], string, string[], string][] = [
    ['environment', 'env', ['environment', 'environments'], "an environment's tags (shown by get/list environments; list environments --tag filters on them)"],
    ['control', 'control', ['controls'], "a control's tags (Evident keeps no control records: the tags are kept by the identifier given)"],
    ['repo', 'repo', ['repos'], "a repository's tags, by OWNER/REPO as its commit URLs name it"],
  ];
  for (const [kind, word, aliases, what] of subjects) {
    tag
      .command(`${word} [name]`)
      .aliases(aliases)
      .description(`Set or remove ${what}: one signed log entry per change, none when nothing changes (Kosli)`)
      .option('--set <key=value>', 'set a tag (repeatable, or a=1,b=2); key: 1-64 letters, digits, _ . -; value: at most 256 characters', collect, [])
      .option('--unset <key>', 'remove a tag (repeatable, or a,b; Kosli\'s KEY=VALUE form removes KEY)', collect, [])
      // Kosli's repository flags, on every subject as in Kosli, where they are refused but for repositories.
      .option('--provider <name>', `repositories: the version-control provider (${PROVIDERS.join(', ')}); Evident names a repository by OWNER/REPO alone (Kosli)`)
      .option('--repo-id <id>', 'repositories: the repository\'s id in place of NAME; in Evident its id is its OWNER/REPO (Kosli)')
      .addHelpText('after', `\nExamples:\n  evident tag ${word} ${kind === 'repo' ? 'acme/backend' : kind === 'control' ? 'SOC2-CC8.1' : 'prod'} --set team=platform --set tier=1\n  evident tag ${word} ${kind === 'repo' ? 'acme/backend' : kind === 'control' ? 'SOC2-CC8.1' : 'prod'} --unset tier${kind === 'repo' ? '\n  evident tag repo acme/backend --provider github --set team=platform\n  evident tag repo --repo-id acme/backend --set team=platform' : ''}`)
      .action(action<TagOptions>((o, ctx, [name]) => tagSubject(kind, word, o, ctx, name)));
  }
}
