import { loadOrCreateWorkspaceSigner, trustedKeys, type RemoteCacheOptions } from '../../pipeline/index.js';
import type { Ctx } from '../context.js';

/**
 * `--remote-cache URL`: the runner's remote tier over the Evident server at URL (org and token from
 * --org / --api-token). Entries are signed with the workspace key (generated on first use, like --sign)
 * and accepted only when signed by a key under .evident/keys/trusted/. The client module is loaded only
 * here, so runs without a remote cache do not pay for it.
 */
export async function remoteCacheOptions(url: string, ctx: Ctx, workspace: string, log: (line: string) => void, readOnly = false): Promise<RemoteCacheOptions> {
  const { CacheClient } = await import('../../client/index.js');
  const store = new CacheClient({
    host: url,
    org: ctx.globals.org,
    apiToken: ctx.globals.apiToken,
    timeoutMs: 30_000,
    debug: ctx.globals.debug ? (line) => log(`[debug] ${line}`) : undefined,
  });
  const label = `${url} (org ${ctx.globals.org})`;
  // A dry run uploads nothing, so it needs no signing key (and must not create one).
  if (readOnly) return { store, trusted: trustedKeys(workspace), label };
  const signer = loadOrCreateWorkspaceSigner(workspace, log);
  return { store, signer, trusted: trustedKeys(workspace), label };
}
