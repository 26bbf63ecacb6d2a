import type { Command } from 'commander';
import { action, intFlag, type Ctx } from '../context.js';
import { formatTime } from '../time-format.js';
import { kosliArtifactList, kosliSearch, shaped } from '../kosli-json.js';
import { pageFlags, pageOf, type PageFlags } from '../paging.js';
import { collectRepo, repoMatcher } from '../repo-filter.js';

/**
 * `evident search SHA-OR-FINGERPRINT`: where a commit or an artifact went, across every flow — seed 000's "is
 * this commit in production?": each artifact with the environments it runs in now, since which snapshot, and
 * those it ran in before.
 */
export async function search(_opts: object, ctx: Ctx, [q]: string[]): Promise<void> {
  const { items } = await ctx.client().search(q!);
  ctx.printer.result(shaped(ctx, items, (i) => kosliSearch(q!, i)), () => {
    if (items.length === 0) return ctx.printer.info(`nothing matches ${q}`);
    ctx.printer.table(['FLOW', 'TRAIL', 'ARTIFACT', 'FINGERPRINT', 'COMMIT', 'RUNNING IN', 'EXITED FROM', 'MATCHED'],
      items.map((a) => [
        a.flow, a.trail, a.display_name, a.fingerprint.slice(0, 12), a.git_commit?.slice(0, 7),
        a.running.map((r) => `${r.environment} since #${r.since} (${formatTime(r.since_at)})`).join(', ') || '-',
        a.exited.map((x) => `${x.environment}#${x.snapshot}`).join(', ') || '-',
        a.matched,
      ]));
  });
}

/** With Kosli's --repo: every page is read and filtered (by the repository each commit URL names), then paged. */
async function artifactsOfRepo(opts: PageFlags & { flow?: string; repo?: string[] }, ctx: Ctx) {
  const matches = repoMatcher(opts.repo)!;
  const all = [];
  let cursor: string | undefined;
  do {
    const page = await ctx.client().listArtifacts({ flow: opts.flow, limit: 1000, cursor });
    all.push(...page.items.filter((a) => matches(a.commit_url)));
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  const size = opts.pageLimit ?? opts.limit;
  const start = ((opts.page ?? 1) - 1) * size;
  return { items: all.slice(start, start + size), next_cursor: null };
}

export async function listArtifacts(opts: PageFlags & { flow?: string; repo?: string[] }, ctx: Ctx): Promise<void> {
  const page = opts.repo ? await artifactsOfRepo(opts, ctx) : await pageOf(opts, (q) => ctx.client().listArtifacts({ ...q, flow: opts.flow }));
  ctx.printer.result(shaped(ctx, page, (p) => kosliArtifactList(p.items)), () => {
    ctx.printer.table(['FLOW', 'TRAIL', 'ARTIFACT', 'FINGERPRINT', 'COMMIT', 'CREATED'],
      page.items.map((a) => [a.flow, a.trail, a.display_name, a.fingerprint, a.git_commit?.slice(0, 7), a.created_at]));
    if (page.next_cursor) ctx.printer.info(`more: --cursor ${page.next_cursor}`);
  });
}

export function registerSearch(program: Command, list: Command): void {
  program
    .command('search <sha-or-fingerprint>')
    .description('Find artifacts by a git commit or fingerprint prefix (>= 5 hex characters), across all flows, with where each runs now (since which snapshot) and where it ran before')
    .addHelpText('after', '\nIs this commit in production? RUNNING IN lists each environment the artifact runs in now and the snapshot its run began in;\nEXITED FROM the first snapshot without it in environments it left.\n\nExamples:\n  evident search 16d9990\n  evident search 16d9990 --output json')
    .action(action(search));
  list
    .command('artifacts')
    .description('List artifacts, oldest first')
    .option('--flow <name>', 'only this flow')
    .option('--repo <owner/repo>', 'only artifacts built from this repository (named by their commit URL), repeatable (Kosli)', collectRepo)
    .option('--limit <n>', 'page size (1-1000)', intFlag('--limit', 1), 100)
    .option('--cursor <cursor>', 'the next page');
  pageFlags(list.commands.at(-1)!).action(action(listArtifacts));
}
