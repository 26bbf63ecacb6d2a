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

export function exitCodeFor(err: unknown): number {
  if (err instanceof ExitStatusError) return err.status;
  return err instanceof EvidentError ? BY_CODE[err.code] : EXIT.UNAVAILABLE;
}

/** One line (plus the problem list) on stderr; the stack only with --debug. */
export function describeError(err: unknown, debug: boolean): string {
  if (!(err instanceof EvidentError)) return debug && err instanceof Error ? String(err.stack) : `Error: ${String((err as Error)?.message ?? err)}`;
  let text = `Error: ${err.message}`;
  if (debug && err.stack) text += `\n${err.stack}`;
  if (debug && err.cause) text += `\ncaused by: ${String((err.cause as Error).stack ?? err.cause)}`;
  return text;
}
