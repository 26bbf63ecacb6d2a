import type { Server, ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import { EvidentError } from '../core/index.js';

/**
 * Connection and request limits (docs/server.md §Limits, docs/security.md). Every one bounds what a client
 * can hold: Node's and Fastify's defaults leave a request body that stops flowing open forever (reliability
 * report F3), so that 600 silent POSTs used every file descriptor of a server with `nofile` 600.
 */
export interface ServerLimits {
  /** Time to receive a request's headers (Node `headersTimeout`). */
  headersTimeoutMs: number;
  /** Time to receive a whole request, headers and body (Node `requestTimeout`). */
  requestTimeoutMs: number;
  /** Longest pause while a request body is arriving; the connection is cut after it. */
  bodyIdleTimeoutMs: number;
  /** How long an idle keep-alive connection stays open between requests. */
  keepAliveTimeoutMs: number;
  /** Requests served on one keep-alive connection before it is closed (0: no limit). */
  maxRequestsPerSocket: number;
  /** Open connections from one TCP peer address; more are closed at once (0: no limit). */
  maxConnectionsPerAddress: number;
  /** Open connections in all (0: no limit). */
  maxConnections: number;
  /** Deepest nesting of arrays and objects in a JSON body. */
  maxJsonDepth: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 300_000,
  bodyIdleTimeoutMs: 15_000,
  keepAliveTimeoutMs: 10_000,
  maxRequestsPerSocket: 1000,
  maxConnectionsPerAddress: 128,
  maxConnections: 8192,
  maxJsonDepth: 256,
};

/** Fills in defaults and refuses settings Node would refuse (or that would disable a limit by accident). */
export function resolveLimits(given: Partial<ServerLimits> = {}): ServerLimits {
  const limits = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(given) as [keyof ServerLimits, number | undefined][]) if (value !== undefined) limits[key] = value;
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 0) throw new EvidentError('INVALID_ARGUMENT', `server limit ${key} must be a whole number ≥ 0, not ${value}`);
  }
  for (const key of ['headersTimeoutMs', 'requestTimeoutMs', 'bodyIdleTimeoutMs', 'keepAliveTimeoutMs', 'maxJsonDepth'] as const) {
    if (limits[key] === 0) throw new EvidentError('INVALID_ARGUMENT', `server limit ${key} cannot be 0 (that would remove the limit)`);
  }
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new EvidentError('INVALID_ARGUMENT', `the headers timeout (${limits.headersTimeoutMs} ms) cannot be longer than the request timeout (${limits.requestTimeoutMs} ms)`);
  }
  return limits;
}

/** Node checks headersTimeout and requestTimeout on this period: its default (30 s) stretches both. */
const CHECK_INTERVAL_MS = 1000;

/** The Node HTTP server options the limits set at creation. */
export function httpServerOptions(limits: ServerLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: Math.min(CHECK_INTERVAL_MS, limits.headersTimeoutMs),
    keepAliveTimeout: limits.keepAliveTimeoutMs,
  };
}

/** An HTTP/1.1 answer written straight to a socket, in the API's error shape, before closing it. */
export function rawErrorResponse(status: number, reason: string, code: string, message: string): string {
  const body = JSON.stringify({ error: { code, message } });
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/**
 * Errors Node raises before Fastify sees a request (bad syntax, headers too large, timeouts) answered in
 * the `{error: {code, message}}` shape (F13), not Fastify's own.
 */
export function clientErrorHandler(limits: ServerLimits) {
  return (err: NodeJS.ErrnoException & { rawPacket?: unknown }, socket: Socket): void => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    let answer: string;
    if (err.code === 'HPE_HEADER_OVERFLOW') {
      answer = rawErrorResponse(431, 'Request Header Fields Too Large', 'INVALID_ARGUMENT', 'the request line and headers are larger than the server accepts (16 KiB)');
    } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      answer = rawErrorResponse(408, 'Request Timeout', 'INVALID_ARGUMENT', `the request was not received in time (headers within ${limits.headersTimeoutMs} ms, all of it within ${limits.requestTimeoutMs} ms)`);
    } else {
      answer = rawErrorResponse(400, 'Bad Request', 'INVALID_ARGUMENT', 'malformed HTTP request');
    }
    socket.end(answer);
    socket.destroySoon?.();
  };
}

/**
 * Caps open connections per TCP peer address and in all. The peer is the socket's address, never a
 * forwarded header: behind a proxy every connection comes from the proxy, so raise or disable the cap there.
 */
export function capConnections(server: Server, limits: ServerLimits): void {
  if (limits.maxConnections > 0) server.maxConnections = limits.maxConnections;
  if (limits.maxConnectionsPerAddress === 0) return;
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const count = open.get(address) ?? 0;
    if (count >= limits.maxConnectionsPerAddress) {
      socket.end(rawErrorResponse(503, 'Service Unavailable', 'UNAVAILABLE', `too many open connections from ${address} (the limit is ${limits.maxConnectionsPerAddress})`));
      socket.destroySoon?.();
      return;
    }
    open.set(address, count + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
  });
}

/** True when the request announces a body (RFC 9112 §6.3: Content-Length or Transfer-Encoding). */
export function hasBody(headers: Record<string, string | string[] | undefined>): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
