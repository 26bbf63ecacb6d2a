import { EvidentError, type ErrorCode } from '../core/index.js';

/** The one place where error codes become exit codes (DESIGN.md §5). */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, UNAVAILABLE: 3, AUTH: 4 } as const;

const BY_CODE: Record<ErrorCode, number> = {
  VERIFICATION_FAILED: EXIT.FAILED,
  TAMPERED: EXIT.FAILED,
  NOT_FOUND: EXIT.FAILED,
  CONFLICT: EXIT.FAILED,
  INVALID_ARGUMENT: EXIT.USAGE,
  UNAUTHENTICATED: EXIT.AUTH,
  FORBIDDEN: EXIT.AUTH,
  PAYLOAD_TOO_LARGE: EXIT.UNAVAILABLE,
  RATE_LIMITED: EXIT.UNAVAILABLE,
  UNAVAILABLE: EXIT.UNAVAILABLE,
  INTERNAL: EXIT.UNAVAILABLE,
};

/** An error whose exit status is not its code's: a run stopped by a signal exits 128 + the signal number (130, 143). */
export class ExitStatusError extends EvidentError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super('VERIFICATION_FAILED', message);
  }
}

/**
 * Which exit statuses a run uses. Evident's (the default, `evident --help`): 1 failed or not found, 2 usage,
 * 3 server or network, 4 authentication, so that a script can tell "not compliant" from "could not ask".
 * Kosli's (docs/kosli.md "Exit status"): 1 for every error, as `kosli` does, for the scripts that test
 * `[ $? -eq 1 ]`.
 */
export type ExitCodes = 'evident' | 'kosli';

/**
 * Kosli's statuses when asked for by `EVIDENT_EXIT_CODES=kosli` (`evident` asks for Evident's whatever the name),
 * else when the CLI was started under the name `kosli` (a symlink or a copy named `kosli` on PATH: a script
 * written for Kosli, run unchanged). Node keeps the name a script was started by in argv[1] (a symlink is not
 * resolved there). Not from KOSLI_* variables: Evident's own scripts set them during a migration too.
 */
export function exitCodesOf(argv: readonly string[], env: NodeJS.ProcessEnv): ExitCodes {
  const chosen = env.EVIDENT_EXIT_CODES?.trim().toLowerCase();
  if (chosen) {
    if (chosen === 'kosli' || chosen === 'evident') return chosen;
    throw new EvidentError('INVALID_ARGUMENT', `EVIDENT_EXIT_CODES=${JSON.stringify(env.EVIDENT_EXIT_CODES)}: give kosli (1 on every error) or evident (1 failed, 2 usage, 3 server or network, 4 authentication)`);
  }
  const script = (argv[1] ?? '').split(/[\\/]/).pop() ?? '';
  return /^kosli(\.(exe|cmd|[cm]?js))?$/i.test(script) ? 'kosli' : 'evident';
}

export function exitCodeFor(err: unknown, codes: ExitCodes = 'evident'): number {
  // A run stopped by a signal keeps 128 + the signal number under both conventions (a shell's own convention).
  if (err instanceof ExitStatusError) return err.status;
  if (codes === 'kosli') return EXIT.FAILED;
  return err instanceof EvidentError ? BY_CODE[err.code] : EXIT.UNAVAILABLE;
}

/**
 * An error that ended a command: described on stderr (with the stack under --debug, and the problem list), and its
 * exit status (run.ts and the fast path, main-quick.ts).
 */
export function reportFailure(err: unknown, argv: readonly string[], codes: ExitCodes): number {
  const debug = argv.includes('--debug') || process.env.EVIDENT_DEBUG === 'true';
  process.stderr.write(describeError(err, debug) + '\n');
  if (err instanceof EvidentError && Array.isArray(err.details)) {
    for (const d of err.details as { path: string; message: string }[]) process.stderr.write(`  ${d.path}: ${d.message}\n`);
  }
  return exitCodeFor(err, codes);
}

/** One line (plus the problem list) on stderr; the stack only with --debug. */
export function describeError(err: unknown, debug: boolean): string {
  if (!(err instanceof EvidentError)) return debug && err instanceof Error ? String(err.stack) : `Error: ${String((err as Error)?.message ?? err)}`;
  let text = `Error: ${err.message}`;
  if (debug && err.stack) text += `\n${err.stack}`;
  if (debug && err.cause) text += `\ncaused by: ${String((err.cause as Error).stack ?? err.cause)}`;
  return text;
}
