import path from 'node:path';
import { Option, type Command } from 'commander';
import { explainStep, openCache, pruneReceipts } from '../../pipeline/index.js';
import { action, intFlag, type Ctx } from '../context.js';
import { FILE_FLAG, loadPipeline } from './pipeline.js';

// `evident cache explain|stats|clean`: the local cache of `evident run` (issue #6 item 3; docs/cache.md).

const short = (key: string) => key.slice(0, 12);

export async function cacheExplain(opts: { file: string }, ctx: Ctx, args: string[]): Promise<void> {
  const loaded = loadPipeline(opts.file, ctx);
  const e = await explainStep(loaded, args[0]!);
  const verdict = e.cached ? 'a cache hit' : 'a cache miss';
  ctx.printer.result(
    {
      step: e.step,
      key: e.key,
      previous_key: e.previous?.key ?? null,
      previous_run_at: e.previous?.at ?? null,
      key_changed: e.previous !== undefined && e.previous.key !== e.key,
      cached: e.cached,
      changes: e.changes,
      inputs: e.components.inputs.length,
    },
    () => {
      if (!e.previous) ctx.printer.text(`${e.step}: no earlier run recorded; key ${short(e.key)} (${e.components.inputs.length} input files): ${verdict}`);
      else if (e.previous.key === e.key) {
        ctx.printer.text(`${e.step}: key unchanged since the last run (${e.previous.at}): ${short(e.key)}: ${e.cached ? verdict : `${verdict}, the entry is no longer in the cache (evicted or cleaned)`}`);
      } else {
        ctx.printer.text(`${e.step}: key changed since the last run (${e.previous.at}): ${short(e.previous.key)} -> ${short(e.key)}: ${verdict}`);
        for (const line of e.lines) ctx.printer.text(`  ${line}`);
      }
    },
  );
}

export async function cacheStats(opts: { file: string }, ctx: Ctx): Promise<void> {
  const loaded = loadPipeline(opts.file, ctx);
  const cache = openCache(loaded);
  const s = cache.stats();
  cache.close();
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  ctx.printer.result(
    { root: cache.root, entries: s.entries, objects: s.objects, bytes: s.bytes, max_bytes: s.maxBytes, oldest_use: s.oldestUse ?? null },
    () =>
      ctx.printer.table(['CACHE', 'ENTRIES', 'OBJECTS', 'SIZE', 'MAX SIZE', 'LEAST RECENTLY USED'], [[cache.root, s.entries, s.objects, mb(s.bytes), `${loaded.spec.cache.maxSize} (${mb(s.maxBytes)})`, s.oldestUse ?? '-']]),
  );
}

export async function cacheClean(opts: { file: string }, ctx: Ctx): Promise<void> {
  const loaded = loadPipeline(opts.file, ctx);
  const cache = openCache(loaded);
  const before = cache.stats();
  if (ctx.globals.dryRun) {
    ctx.printer.result({ dry_run: true, entries: before.entries, bytes: before.bytes }, () => ctx.printer.text(`would remove ${before.entries} entries (${before.bytes} bytes) from ${cache.root}`));
    return;
  }
  cache.clean();
  ctx.printer.result({ removed_entries: before.entries, removed_bytes: before.bytes }, () => ctx.printer.text(`removed ${before.entries} entries (${before.bytes} bytes) from ${cache.root}`));
}

export const DEFAULT_KEEP_RECEIPTS = 100;

/** `evident cache prune`: what a run does at its end (retention_days, max_size), plus receipts by age and count. */
export async function cachePrune(opts: { file: string; receiptsMaxAge?: number; keepReceipts?: number }, ctx: Ctx): Promise<void> {
  const loaded = loadPipeline(opts.file, ctx);
  const dryRun = ctx.globals.dryRun ?? false;
  const maxAgeDays = opts.receiptsMaxAge ?? loaded.spec.cache.retentionDays;
  const keep = opts.keepReceipts ?? DEFAULT_KEEP_RECEIPTS;
  let evicted = 0;
  if (!dryRun) {
    const cache = openCache(loaded);
    evicted = cache.prune().length;
    cache.close();
  }
  const receipts = pruneReceipts(loaded.workspace, { maxAgeDays, keep, dryRun });
  ctx.printer.result({ dry_run: dryRun, evicted_entries: evicted, removed_receipts: receipts.map((f) => path.basename(f)) }, () =>
    ctx.printer.text(`${dryRun ? 'would remove' : 'removed'} ${receipts.length} receipt(s) (older than ${maxAgeDays} days, or beyond the newest ${keep})${dryRun ? '' : `; ${evicted} cache entr${evicted === 1 ? 'y' : 'ies'} evicted`}`),
  );
}

export function registerCache(program: Command): void {
  const cache = program.command('cache').description('Inspect and empty the local cache of `evident run` (.evident/cache)');
  cache
    .command('explain')
    .description("Say why a step's cache key changed since the last run: which input file, env var, command or upstream step")
    .argument('<STEP>', 'the step')
    .option(...FILE_FLAG)
    .addHelpText('after', `
The key of a step is worked out as \`evident run\` would now (the steps it needs included) and compared,
component by component, with the key inputs the last run recorded. Lines look like:
  input src/main.js: content changed (sha256 1a2b3c4d5e6f -> 9f8e7d6c5b4a)
  input scripts/build.sh: executable bit set
  env BUILD_ENV: changed from "production" to "staging"
  command: changed from "npm run build" to "npm run build:prod"
  upstream lint: its key changed (…); see \`evident cache explain lint\`

Examples:
  evident cache explain build
  evident cache explain test -f ci/attest.yaml --output json`)
    .action(action(cacheExplain));
  cache
    .command('stats')
    .description('Print the number of entries and objects and the size of the cache against cache.max_size')
    .option(...FILE_FLAG)
    .addHelpText('after', '\nExamples:\n  evident cache stats\n  evident cache stats --output json')
    .action(action(cacheStats));
  cache
    .command('prune')
    .description('Evict cache entries past retention_days or over max_size, and remove old receipts (by age and count)')
    .option(...FILE_FLAG)
    .addOption(new Option('--receipts-max-age <days>', 'remove receipts older than this many days (default: cache.retention_days)').argParser(intFlag('--receipts-max-age', 0)))
    .addOption(new Option('--keep-receipts <n>', `keep at most the newest N receipts (default ${DEFAULT_KEEP_RECEIPTS})`).argParser(intFlag('--keep-receipts', 0)))
    .addHelpText('after', '\nReceipts are files named receipt_<YYYYMMDD_HHMMSS>.yaml under .evident/cache/receipts/; nothing else there is touched.\n\nExamples:\n  evident cache prune\n  evident cache prune --keep-receipts 20 --receipts-max-age 7\n  evident cache prune --dry-run')
    .action(action(cachePrune));
  cache
    .command('clean')
    .description('Remove every cache entry, object and recorded key (receipts under .evident/cache/receipts stay)')
    .option(...FILE_FLAG)
    .addHelpText('after', '\nExamples:\n  evident cache clean\n  evident cache clean --dry-run')
    .action(action(cacheClean));
}
