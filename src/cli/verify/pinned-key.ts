import { parseVerifierKey, type NoteVerifier } from '../../ledger/index.js';
import { logOrigin } from './log-verifier.js';
import type { Ctx } from '../context.js';
import { VerifierState } from './state.js';

/**
 * The log key a verifier trusts: `--key`, else EVIDENT_VERIFIER_KEY, else the key pinned under
 * ~/.evident/keys/ for this server and org — pinned on first use, with a notice on stderr.
 */
export async function trustedLogKey(ctx: Ctx, explicit?: string): Promise<{ keyText: string; verifier: NoteVerifier; origin: string }> {
  const state = new VerifierState(ctx.globals.stateDir);
  const server = `${ctx.globals.host.replace(/\/$/, '')}#${ctx.globals.org}`;
  let keyText = explicit ?? process.env.EVIDENT_VERIFIER_KEY ?? state.pinnedKey(server);
  if (keyText === undefined) {
    keyText = (await ctx.client().logKey()).verifier_key;
    state.pinKey(server, keyText);
    ctx.printer.info(`Pinned the log key on first use: ${keyText}\n(compare it with the key the server printed; pass --key to pin it yourself)`);
  }
  const verifier = parseVerifierKey(keyText);
  return { keyText, verifier, origin: logOrigin(verifier, ctx.globals.org) };
}

