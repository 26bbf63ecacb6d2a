import { EvidentError, parseProxy, send } from '../core/index.js';
import type { ClientOptions } from '../client/index.js';

// `evident log checkpoint` without loading the client (issue #21, docs/performance.md "CLI start-up"): the
// client module brings TypeBox and every answer schema (~340 KB of JavaScript to compile and ~40 ms of CPU),
// while the checkpoint is a signed note printed verbatim (nothing to validate: verify log checks it). Only a
// 200 is answered here; anything else returns undefined and the full client asks again, so its errors,
// retries and messages stay the only ones (a GET: asking twice changes nothing).

/** The checkpoint's text, or undefined when the full client must take over. */
export async function fastCheckpoint(options: ClientOptions): Promise<string | undefined> {
  let base: string;
  try {
    const host = new URL(options.host);
    if (host.protocol !== 'http:' && host.protocol !== 'https:') return undefined;
    base = host.toString().replace(/\/$/, '');
  } catch {
    return undefined; // the client names the bad --host
  }
  let proxy: URL | undefined;
  try {
    // Through --http-proxy like every other request (a proxy may be the only way out).
    proxy = options.proxy ? parseProxy(options.proxy) : undefined;
  } catch {
    return undefined; // the client names the bad --http-proxy
  }
  const url = new URL(`${base}/api/v1/orgs/${encodeURIComponent(options.org)}/log/checkpoint`);
  const headers: Record<string, string> = { accept: 'application/json, text/plain' };
  if (options.apiToken) headers.authorization = `Bearer ${options.apiToken}`;
  options.debug?.(`GET ${url.toString()}`);
  try {
    const res = await send(url, { method: 'GET', headers, timeoutMs: options.timeoutMs ?? 30_000, proxy });
    options.debug?.(`-> ${res.status}`);
    return res.ok ? await res.text() : undefined;
  } catch (err) {
    // Retries are the client's (it tries again from the start); without any, the client's own message.
    if ((options.maxRetries ?? 0) > 0) return undefined;
    throw new EvidentError('UNAVAILABLE', `cannot reach ${base}: ${(err as Error).cause ?? (err as Error).message}`, { cause: err });
  }
}
