import type { Command } from 'commander';
import { EvidentError } from '../../core/index.js';
import { action } from '../context.js';

/**
 * Kosli's `snapshot azure ENV` (an `azure-apps` environment: the web and function apps of a resource group).
 * Evident does not call Azure: Kosli reads each app's image digest from the app's own logs through Azure's
 * management API, which cannot be replayed here without recorded answers. The flags are Kosli's so a script
 * fails with a clear message (and nothing sent), pointing at the file-based reporter that does work for any
 * platform. docs/kosli.md "Differences that remain".
 */
export function registerSnapshotAzure(snapshot: Command): void {
  snapshot
    .command('azure <env>')
    .alias('azure-apps')
    .description('Kosli\'s Azure web/function apps reporter: not offered — report them with `snapshot artifacts ENV --file` (refused with that advice)')
    .option('--azure-client-id <id>', 'Kosli flag (accepted so the refusal is clear)')
    .option('--azure-client-secret <secret>', 'Kosli flag')
    .option('--azure-tenant-id <id>', 'Kosli flag')
    .option('--azure-subscription-id <id>', 'Kosli flag')
    .option('--azure-resource-group-name <name>', 'Kosli flag')
    .option('--digests-source <source>', 'Kosli flag')
    .option('--report-app-service-only', 'Kosli flag')
    .addHelpText('after', '\nInstead:\n  az webapp list ... | your-script > state.json   # {"artifacts": [{"name", "fingerprint", "instances"}]}\n  evident snapshot artifacts azure-env --file state.json')
    .action(action<object>(async (_o, _ctx, [env]) => {
      throw new EvidentError('INVALID_ARGUMENT', `snapshot azure is not offered: Evident does not read Azure; report what runs in ${env} with \`evident snapshot artifacts ${env} --file STATE.json\` ({"artifacts": [{"name", "fingerprint", "instances"}]}), the generic reporter for any platform`);
    }));
}
