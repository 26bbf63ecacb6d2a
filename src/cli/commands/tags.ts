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

async function tagSubject(kind: recordSchemas.TagRequest['kind'], word: string, opts: { set: string[]; unset: string[] }, ctx: Ctx, name: string): Promise<void> {
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
      .command(`${word} <name>`)
      .aliases(aliases)
      .description(`Set or remove ${what}: one signed log entry per change, none when nothing changes (Kosli)`)
      .option('--set <key=value>', 'set a tag (repeatable, or a=1,b=2); key: 1-64 letters, digits, _ . -; value: at most 256 characters', collect, [])
      .option('--unset <key>', 'remove a tag (repeatable, or a,b; Kosli\'s KEY=VALUE form removes KEY)', collect, [])
      .addHelpText('after', `\nExamples:\n  evident tag ${word} ${kind === 'repo' ? 'acme/backend' : kind === 'control' ? 'SOC2-CC8.1' : 'prod'} --set team=platform --set tier=1\n  evident tag ${word} ${kind === 'repo' ? 'acme/backend' : kind === 'control' ? 'SOC2-CC8.1' : 'prod'} --unset tier`)
      .action(action<{ set: string[]; unset: string[] }>((o, ctx, [name]) => tagSubject(kind, word, o, ctx, name!)));
  }
}
