import type { FastifyError, FastifyInstance } from 'fastify';
import { EvidentError, type ErrorCode } from '../core/index.js';

/** The one place where error codes become HTTP statuses (DESIGN.md §5). */
const STATUS: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  VERIFICATION_FAILED: 422,
  RATE_LIMITED: 429,
  TAMPERED: 500,
  INTERNAL: 500,
  UNAVAILABLE: 503,
};

/** A Fastify error (validation, limits) as the typed error the API answers with. */
export function fromFastify(err: FastifyError): EvidentError {
  if (err.validation) {
    const where = err.validationContext ?? 'request';
    const details = err.validation.map((v) => {
      const missing = (v.params as { missingProperty?: string } | undefined)?.missingProperty;
      const path = `${where}${v.instancePath}${missing ? `/${missing}` : ''}`;
      return { path, message: v.message ?? 'invalid' };
    });
    const list = details.map((d) => `${d.path}: ${d.message}`).join('; ');
    return new EvidentError('INVALID_ARGUMENT', `invalid ${where}: ${list}`, { details });
  }
  if (err.statusCode === 413) return new EvidentError('PAYLOAD_TOO_LARGE', err.message);
  if (err.statusCode === 429) return new EvidentError('RATE_LIMITED', err.message);
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
    return new EvidentError('INVALID_ARGUMENT', err.message);
  }
  return new EvidentError('INTERNAL', 'internal error', { cause: err });
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((raw, request, reply) => {
    const err = raw instanceof EvidentError ? raw : fromFastify(raw as FastifyError);
    const status = STATUS[err.code];
    if (status >= 500) request.log.error({ err: raw }, err.message);
    const body: { code: string; message: string; details?: unknown } = { code: err.code, message: err.message };
    if (err.details !== undefined) body.details = err.details;
    if (err.code === 'UNAUTHENTICATED') reply.header('www-authenticate', 'Bearer');
    void reply.status(status).send({ error: body });
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` } });
  });
}

/** The HTTP status of an error code. */
export function statusOf(code: ErrorCode): number {
  return STATUS[code];
}
