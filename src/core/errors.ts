/**
 * The one error type of Evident. Every failure a user can see carries a stable string code; the server
 * maps codes to HTTP statuses (server/errors.ts) and the CLI maps them to exit codes (cli/exit.ts), each in
 * exactly one place.
 */
export type ErrorCode =
  | 'INVALID_ARGUMENT' // bad input: flags, request bodies, names, files
  | 'NOT_FOUND'
  | 'CONFLICT' // already exists, or a concurrent change won
  | 'UNAUTHENTICATED' // no token, unknown token, expired or revoked token
  | 'FORBIDDEN' // a valid token without the role or the org for this action
  | 'PAYLOAD_TOO_LARGE'
  | 'RATE_LIMITED'
  | 'VERIFICATION_FAILED' // a proof, signature or log that does not check out
  | 'TAMPERED' // stored data that contradicts its own commitments
  | 'UNAVAILABLE' // a dependency (database, server) cannot be reached
  | 'INTERNAL';

/** One problem with one input, located by a JSON-pointer-like path (`/proof/2`, `--end`). */
export interface ProblemDetail {
  path: string;
  message: string;
}

export interface ErrorOptions {
  cause?: unknown;
  details?: ProblemDetail[] | Record<string, unknown>;
}

export class EvidentError extends Error {
  readonly code: ErrorCode;
  readonly details: ProblemDetail[] | Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EvidentError';
    this.code = code;
    this.details = options.details;
  }
}

export function isEvidentError(err: unknown, code?: ErrorCode): err is EvidentError {
  return err instanceof EvidentError && (code === undefined || err.code === code);
}

/** Raises INVALID_ARGUMENT listing every problem found, or does nothing when there are none. */
export function assertNoProblems(problems: ProblemDetail[], what: string): void {
  if (problems.length === 0) return;
  const list = problems.map((p) => `${p.path}: ${p.message}`).join('; ');
  throw new EvidentError('INVALID_ARGUMENT', `invalid ${what}: ${list}`, { details: problems });
}
