import type { environmentSchemas } from '../../client/index.js';
import type { Ctx } from '../context.js';

export type ReportedState = environmentSchemas.SnapshotReport['artifacts'];

/**
 * The last step of every reporter: send the full current state (or, with --dry-run, print it) and say
 * whether a new snapshot was made. Reporters differ only in how they collect the state.
 */
export async function sendSnapshot(ctx: Ctx, env: string, artifacts: ReportedState): Promise<void> {
  if (ctx.globals.dryRun) {
    return ctx.printer.result({ artifacts }, () => {
      ctx.printer.info(`dry run: would report ${artifacts.length} running artifact(s) to ${env}`);
      for (const a of artifacts) ctx.printer.text(`${a.fingerprint}  ${a.instances}  ${a.name}`);
    });
  }
  const r = await ctx.client().reportSnapshot(env, { artifacts });
  ctx.printer.result(r, () => ctx.printer.text(r.created ? `Snapshot ${env}#${r.index} created (log entry ${r.entry_index})` : `No change: ${env}${r.index ? `#${r.index}` : ''} is still current`));
}
