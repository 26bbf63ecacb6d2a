import { tagParser } from './arg-parsers.js';
import type { Ctx } from './context.js';

/** `--attachments PATH`, repeatable or `a,b` (Kosli's list form): files or directories (each file under it) for the evidence vault. */
export function collectPath(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(',').filter((p) => p !== '')];
}
tagParser(collectPath, ['path']);

/**
 * Uploads attachments to the org's evidence vault first (content-addressed, so repeating an upload is
 * harmless) and returns their digests, which the attestation then commits to.
 */
export async function uploadAttachments(ctx: Ctx, paths: string[] | undefined): Promise<string[] | undefined> {
  if (!paths || paths.length === 0) return undefined;
  if (ctx.globals.dryRun) {
    ctx.printer.info(`dry run: would upload ${paths.join(', ')}`);
    return [];
  }
  const items = await ctx.client().uploadEvidence(paths.map((path) => ({ path })));
  for (const i of items) ctx.printer.info(`uploaded ${i.name ?? 'file'} (${i.size} bytes) sha256:${i.digest}`);
  return items.map((i) => i.digest);
}
