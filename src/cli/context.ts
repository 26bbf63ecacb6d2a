import type { Command } from 'commander';
import type { EvidentClient } from '../client/index.js';
import { EvidentError } from '../core/index.js';
import { tagParser } from './arg-parsers.js';
import { resolveGlobals, type GlobalFlags, type GlobalOptions } from './config.js';
import { createPrinter, type Printer } from './output.js';

export interface Ctx {
  globals: GlobalOptions;
  printer: Printer;
  client(): EvidentClient;
}

export function makeContext(flags: GlobalFlags): Ctx {
  const globals = resolveGlobals(flags);
  const printer = createPrinter(globals.output === 'markdown' ? 'table' : globals.output, process.stdout, process.stderr, globals.quiet);
  return {
    globals,
    printer,
    client: () =>
      lazyClient({
        host: globals.host,
        org: globals.org,
        apiToken: globals.apiToken,
        maxRetries: globals.maxApiRetries,
        // Kosli's --http-proxy (KOSLI_HTTP_PROXY / EVIDENT_HTTP_PROXY through the flag table): checked by the client.
        proxy: (flags as { httpProxy?: string }).httpProxy || undefined,
        debug: globals.debug ? (line) => printer.info(`[debug] ${line}`) : undefined,
      }),
  };
}

/**
 * The HTTP client, loaded on first use: its module pulls in the TypeBox validators (~700 modules), which
 * commands that never talk to a server (`--version`, `run`, `pipeline`, `cache`) must not pay for at
 * start-up. Every EvidentClient method is async, so a method of this stand-in resolves the real client
 * (created once, with the same options — and the same errors for a bad --host) and forwards the call.
 */
function lazyClient(options: ConstructorParameters<typeof EvidentClient>[0]): EvidentClient {
  let real: Promise<EvidentClient> | undefined;
  const load = () => (real ??= import('../client/index.js').then((m) => new m.EvidentClient(options)));
  const call = (method: PropertyKey, args: unknown[]) => load().then((c) => (c[method as keyof EvidentClient] as (...a: unknown[]) => unknown).apply(c, args));
  return new Proxy({} as EvidentClient, {
    get: (_target, method) => {
      if (method === 'then') return undefined;
      // The checkpoint needs no schema: sent without loading the client (fast-checkpoint.ts), which takes over on anything but a 200.
      if (method === 'checkpoint' && !real) return async () => (await (await import('./fast-checkpoint.js')).fastCheckpoint(options)) ?? call(method, []);
      return (...args: unknown[]) => call(method, args);
    },
  });
}

/** A command's handler: its typed options (with the global flags), the context, its positional arguments. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each handler types its own options
export type Handler = (options: any, ctx: Ctx, args: string[]) => Promise<void>;

/** What commander hands a command's action, caught instead of run (actionProbe). */
export interface ProbedAction {
  handler: Handler;
  options: Record<string, unknown>;
  args: string[];
}

/**
 * Tests only (test/cli/quick-parse.test.ts): set `capture`, and a command's action hands it what commander parsed
 * (its handler, `optsWithGlobals()`, `args`) instead of running, so that the fast path's reading (quick-parse.ts)
 * can be compared with commander's.
 */
export const actionProbe: { capture?: (probed: ProbedAction) => void } = {};

/**
 * Runs a command's handler with the options commander (or the fast path, quick-parse.ts) read: resolves the
 * global options. `getTrail`: the command is `get trail`, the only one that prints markdown.
 */
export async function runHandler(handler: Handler, options: GlobalFlags, args: string[], getTrail: boolean): Promise<void> {
  const ctx = makeContext(options);
  // Checked before anything is sent: a write must not happen and then fail on its output format.
  if (ctx.globals.output === 'markdown' && !getTrail) {
    throw new EvidentError('INVALID_ARGUMENT', '--output markdown is offered by get trail only (Kosli: a GitHub job summary); use table, json or json-evident');
  }
  try {
    await handler(options, ctx, args);
  } catch (err) {
    // Kosli's convention: under --dry-run an error is printed and the command still exits 0, so that a
    // pipeline with the kill switch on (KOSLI_DRY_RUN=true) never fails on Kosli's account.
    if (!ctx.globals.dryRun) throw err;
    ctx.printer.info(`Error: ${(err as Error).message}`);
    ctx.printer.info('dry run: exiting 0');
  }
}

/** Wraps a command's handler: resolves the global options and hands it its own typed options. */
export function action<O>(handler: (options: O, ctx: Ctx, args: string[]) => Promise<void>) {
  return async function (this: Command) {
    const options = this.optsWithGlobals() as O & GlobalFlags;
    if (actionProbe.capture) return actionProbe.capture({ handler: handler as Handler, options: options as Record<string, unknown>, args: this.args });
    await runHandler(handler as Handler, options, this.args, this.name() === 'trail' && this.parent?.name() === 'get');
  };
}

/** Parses a non-negative integer flag, naming the flag when it is not one. */
export function intFlag(name: string, min = 0) {
  return tagParser((value: string): number => {
    if (!/^\d{1,16}$/.test(value) || Number(value) < min || !Number.isSafeInteger(Number(value))) {
      throw new EvidentError('INVALID_ARGUMENT', `${name} must be an integer >= ${min}, not ${JSON.stringify(value)}`);
    }
    return Number(value);
  }, ['int', name, min]);
}
