import module from 'node:module';
import { VERSION } from '../core/index.js';
import { commandConfig } from './config.js';
import { runHandler, type Handler } from './context.js';
import { EXIT, exitCodesOf, reportFailure, type ExitCodes } from './exit.js';
import { prelude } from './prelude.js';
import { quickParse, type QuickParsed, type QuickTable } from './quick-parse.js';
import { quickParser } from './quick-parsers.js';

// The entry of the fast bundles, dist/cli/evident-fast-NAME.cjs (issue #21, docs/performance.md "Ninth round"): a
// command line the fast path reads (quick-parse.ts, from the table scripts/build-cli.mjs built from commander's
// program) runs its command's handler here, without commander; any other goes to the bundle of the same group
// with commander, dist/cli/evident-cmd-NAME.cjs (main-fast.ts), before anything has been printed or sent.

interface Quick {
  run: () => Promise<number>;
}

/** What the fast path does with `argv`, or undefined when commander must. */
export function quickRoute(argv: readonly string[], env: NodeJS.ProcessEnv, table: QuickTable, handlers: Readonly<Record<string, Handler>>): Quick | undefined {
  let codes: ExitCodes;
  try {
    codes = exitCodesOf(argv, env);
  } catch {
    return undefined; // main() prints it
  }
  if (versionOnly(argv)) return { run: async () => (process.stdout.write(`${VERSION}\n`), EXIT.OK) };
  const parsed: QuickParsed | undefined = quickParse(argv, table, env, commandConfig(argv, env), quickParser);
  const handler = parsed && Object.hasOwn(handlers, parsed.key) ? handlers[parsed.key] : undefined;
  if (!parsed || !handler) return undefined;
  return {
    run: async () => {
      try {
        await runHandler(handler, parsed.options, parsed.args, parsed.key === 'get trail');
        return EXIT.OK;
      } catch (err) {
        return reportFailure(err, argv, codes);
      }
    },
  };
}

/** `evident --version` alone: commander prints the version and a newline on stdout, exit 0. */
function versionOnly(argv: readonly string[]): boolean {
  const words = argv.slice(2);
  return words.length === 1 && (words[0] === '--version' || words[0] === '-V');
}

/**
 * The entry of the version bundle, dist/cli/evident-fast-version.cjs: `evident --version` alone, or commander's
 * bundle (no command to run, so none of the client or the context is compiled).
 */
export function versionMain(fallback: string): void {
  let codes = true;
  try {
    exitCodesOf(process.argv, process.env);
  } catch {
    codes = false; // main() prints it
  }
  if (!codes || !versionOnly(process.argv)) {
    module.createRequire(import.meta.url)(fallback);
    return;
  }
  prelude();
  process.stdout.write(`${VERSION}\n`);
  process.exitCode = EXIT.OK;
}

/** Runs `process.argv` on the fast path, or loads `fallback` (beside this bundle) to run it with commander. */
export function quickMain(table: QuickTable, handlers: Readonly<Record<string, Handler>>, fallback: string): void {
  const quick = quickRoute(process.argv, process.env, table, handlers);
  if (!quick) {
    module.createRequire(import.meta.url)(fallback);
    return;
  }
  prelude();
  void quick.run().then((code) => {
    process.exitCode = code;
  });
}
