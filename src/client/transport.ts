import { EvidentError, parseProxy, send, sendFiles, transferVia, type ErrorCode, type HttpAnswer, type UploadFile } from '../core/index.js';
import { isAnswer } from './answer-check.js';
import { badAnswer } from './answer-errors.js';
import type { Answer, AnswerName } from './answers.js';

export interface ClientOptions {
  /** Base URL of the Evident server, e.g. http://127.0.0.1:8080 */
  host: string;
  org: string;
  apiToken?: string;
  timeoutMs?: number;
  /** How often a request that could not reach the server is tried again, with backoff (default 0). */
  maxRetries?: number;
  /** Kosli's --http-proxy: an http:// proxy URL every request goes through (http-proxy.ts). */
  proxy?: string;
  /** Called with each request, for --debug. */
  debug?: (line: string) => void;
}

const CODES: readonly ErrorCode[] = [
  'INVALID_ARGUMENT', 'NOT_FOUND', 'CONFLICT', 'UNAUTHENTICATED', 'FORBIDDEN', 'PAYLOAD_TOO_LARGE',
  'RATE_LIMITED', 'VERIFICATION_FAILED', 'TAMPERED', 'UNAVAILABLE', 'INTERNAL',
];

type Query = Record<string, string | number | undefined>;

/**
 * The HTTP side every resource's calls share: the base URL, the token, timeouts, and the rule that
 * everything a server sends back is checked against the shared schema before it is used (a verifier must
 * not trust the server it is checking). Resource calls are layered on top, one file each.
 */
export class ClientTransport {
  protected readonly base: string;
  private readonly proxy: URL | undefined;

  constructor(protected readonly options: ClientOptions) {
    let url: URL;
    try {
      url = new URL(options.host);
    } catch {
      throw new EvidentError('INVALID_ARGUMENT', `--host must be a URL like http://127.0.0.1:8080, not ${JSON.stringify(options.host)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new EvidentError('INVALID_ARGUMENT', `--host must use http or https`);
    this.base = url.toString().replace(/\/$/, '');
    try {
      this.proxy = options.proxy ? parseProxy(options.proxy) : undefined;
    } catch (err) {
      throw new EvidentError('INVALID_ARGUMENT', (err as Error).message);
    }
  }

  /**
   * A GET of `path` as plain data (its URL and the headers request() would send, the token among them), for a
   * thread of this process that sends it itself (verify log --full's hashing threads); undefined under --debug,
   * which prints every request from here.
   */
  protected plainGet(path: string): { url: string; headers: Record<string, string>; timeoutMs: number; proxy?: string } | undefined {
    if (this.options.debug) return undefined;
    const headers: Record<string, string> = { accept: 'application/json, text/plain' };
    if (this.options.apiToken) headers.authorization = `Bearer ${this.options.apiToken}`;
    return { url: this.base + path, headers, timeoutMs: this.options.timeoutMs ?? 30_000, ...(this.proxy ? { proxy: this.proxy.href } : {}) };
  }

  protected orgPath(suffix: string): string {
    return `/api/v1/orgs/${encodeURIComponent(this.options.org)}${suffix}`;
  }

  protected async request(method: string, path: string, query?: Query, body?: unknown): Promise<HttpAnswer> {
    const url = new URL(this.base + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json, text/plain' };
    if (this.options.apiToken) headers.authorization = `Bearer ${this.options.apiToken}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const idempotent = method === 'GET' || method === 'HEAD';
    for (let attempt = 0; ; attempt++) {
      this.options.debug?.(`${method} ${url.toString()}${attempt > 0 ? ` (retry ${attempt})` : ''}`);
      let res: HttpAnswer;
      try {
        res = await send(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), timeoutMs: this.options.timeoutMs ?? 30_000, proxy: this.proxy });
      } catch (err) {
        if (attempt < (this.options.maxRetries ?? 0) && (idempotent || notSent(err))) {
          await backoff(attempt);
          continue;
        }
        throw new EvidentError('UNAVAILABLE', `cannot reach ${this.base}: ${(err as Error).cause ?? (err as Error).message}`, { cause: err });
      }
      this.options.debug?.(`-> ${res.status}`);
      if (idempotent && RETRY_STATUS.has(res.status) && attempt < (this.options.maxRetries ?? 0)) {
        await backoff(attempt);
        continue;
      }
      if (!res.ok) throw await errorFrom(res);
      return res;
    }
  }

  /** A JSON answer, checked against the shape named `answer` (answers.ts) before it is returned. */
  protected async json<K extends AnswerName>(answer: K, method: string, path: string, query?: Query, body?: unknown): Promise<Answer<K>> {
    const res = await this.request(method, path, query, body);
    let value: unknown;
    try {
      value = await res.json();
    } catch (err) {
      throw new EvidentError('VERIFICATION_FAILED', `${path}: the server sent a body that is not JSON`, { cause: err });
    }
    if (!(await isAnswer(answer, value))) throw await badAnswer(answer, value, `${path}: the server's answer does not have the expected shape`);
    return value as Answer<K>;
  }

  /**
   * Files sent as one multipart request, streamed from disk on node:http (core/http-upload.ts: not fetch, whose
   * first use loads undici); evidence files can be large, so it may take up to an hour.
   */
  protected upload(method: string, path: string, files: readonly UploadFile[]): Promise<HttpAnswer> {
    return this.streamed(method, path, (url, headers, signal) => sendFiles(url, method, files, { headers, signal, proxy: this.proxy }));
  }

  /** A download with a streamed answer: evidence files can be large, so it may take up to an hour. */
  protected transfer(method: string, path: string): Promise<Response> {
    return this.streamed(method, path, (url, headers, signal) =>
      this.proxy ? transferVia(url, this.proxy, { method, headers, signal }) : fetch(url, { method, headers, signal }));
  }

  /** What an upload and a download share: the headers, the hour's timeout, and how a failure is reported. */
  private async streamed<R extends Pick<HttpAnswer, 'status' | 'statusText' | 'ok' | 'json'>>(
    method: string, path: string, request: (url: URL, headers: Record<string, string>, signal: AbortSignal) => Promise<R>,
  ): Promise<R> {
    const url = new URL(this.base + path);
    const headers: Record<string, string> = { accept: 'application/json, application/octet-stream' };
    if (this.options.apiToken) headers.authorization = `Bearer ${this.options.apiToken}`;
    this.options.debug?.(`${method} ${url.toString()}`);
    let res: R;
    try {
      res = await request(url, headers, AbortSignal.timeout(Math.max(this.options.timeoutMs ?? 0, 60 * 60_000)));
    } catch (err) {
      throw new EvidentError('UNAVAILABLE', `cannot reach ${this.base}: ${(err as Error).cause ?? (err as Error).message}`, { cause: err });
    }
    this.options.debug?.(`-> ${res.status}`);
    if (!res.ok) throw await errorFrom(res);
    return res;
  }
}

/** A gateway that could not reach the server: a read is tried again. */
const RETRY_STATUS = new Set([502, 503, 504]);

/**
 * Errors where the request never reached the server (refused, no such host): a write may be tried again
 * without risk of recording it twice. Any other failure of a write is reported, not retried.
 */
function notSent(err: unknown): boolean {
  const code = ((err as Error).cause as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH';
}

/** 100 ms, 200 ms, 400 ms... capped at 5 s: the server gets time to come back without a pipeline waiting long. */
function backoff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** attempt, 5000)));
}

export async function errorFrom(res: Pick<HttpAnswer, 'status' | 'statusText' | 'json'>): Promise<EvidentError> {
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  if (await isAnswer('ErrorBody', body)) {
    const { code, message, details } = (body as Answer<'ErrorBody'>).error;
    const known = (CODES as readonly string[]).includes(code) ? (code as ErrorCode) : 'INTERNAL';
    return new EvidentError(known, message, { details: details as Record<string, unknown> | undefined });
  }
  const code: ErrorCode = res.status === 401 ? 'UNAUTHENTICATED' : res.status === 403 ? 'FORBIDDEN' : res.status === 404 ? 'NOT_FOUND' : 'UNAVAILABLE';
  return new EvidentError(code, `the server answered ${res.status} ${res.statusText}`);
}
