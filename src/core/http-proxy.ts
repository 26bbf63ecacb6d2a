import http from 'node:http';
import { isIP, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { ReadableStream as WebStream } from 'node:stream/web';

// Kosli's `--http-proxy URL`: every request of the client goes through an HTTP proxy. Plain node:http (no
// undici, which Node 20 does not expose): an http:// target is asked of the proxy in absolute form (RFC 9112
// §3.2.2); an https:// target through a CONNECT tunnel (RFC 9110 §9.3.6) with TLS end to end, so the proxy
// never sees the token or the bodies. `user:password@` in the proxy URL is sent as Proxy-Authorization.

export interface RequestOptions {
  method: string;
  headers: Record<string, string>;
  signal?: AbortSignal;
}

function proxyAuth(proxy: URL): Record<string, string> {
  if (!proxy.username) return {};
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { 'proxy-authorization': `Basic ${Buffer.from(credentials).toString('base64')}` };
}

function tunnel(url: URL, proxy: URL, signal?: AbortSignal): Promise<Socket> {
  const target = `${url.hostname}:${url.port || 443}`;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: proxy.hostname, port: proxy.port || 80, method: 'CONNECT', path: target, headers: { host: target, ...proxyAuth(proxy) }, signal });
    req.on('connect', (res, socket) => {
      if (res.statusCode === 200) return resolve(socket);
      socket.destroy();
      reject(new Error(`the proxy ${proxy.host} answered ${res.statusCode} to CONNECT ${target}`));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * A request to `url`, directly or through `proxy`; the caller writes the body and ends it. node:https and
 * node:tls are loaded only for an https:// target: a command talking to an http:// server (a local one, or
 * behind a TLS-terminating proxy) does not pay for them at start-up (docs/performance.md "CLI start-up").
 */
export async function openRequest(url: URL, proxy: URL | undefined, options: RequestOptions, onResponse: (res: http.IncomingMessage) => void): Promise<http.ClientRequest> {
  if (!proxy) return (url.protocol === 'https:' ? (await import('node:https')).default : http).request(url, options, onResponse);
  if (url.protocol === 'http:') {
    return http.request({
      host: proxy.hostname, port: proxy.port || 80, method: options.method, path: url.href, signal: options.signal,
      headers: { ...options.headers, host: url.host, ...proxyAuth(proxy) },
    }, onResponse);
  }
  const socket = await tunnel(url, proxy, options.signal);
  const [{ default: https }, { default: tls }] = await Promise.all([import('node:https'), import('node:tls')]);
  return https.request(url, { ...options, createConnection: () => tls.connect({ socket, ...(isIP(url.hostname) ? {} : { servername: url.hostname }) }) }, onResponse);
}

/**
 * An evidence upload or download (transport.ts transfer()) through the proxy: the multipart body streamed as
 * fetch would send it, the answer handed back as a fetch Response streaming the proxy's bytes.
 */
export function transferVia(url: URL, proxy: URL, options: RequestOptions, body?: FormData): Promise<Response> {
  const encoded = body === undefined ? undefined : new Response(body);
  const headers = { ...options.headers, ...(encoded ? { 'content-type': encoded.headers.get('content-type')! } : {}) };
  return new Promise((resolve, reject) => {
    openRequest(url, proxy, { ...options, headers }, (res) => {
      const answer = new Headers();
      for (const [k, v] of Object.entries(res.headers)) for (const x of Array.isArray(v) ? v : v === undefined ? [] : [v]) answer.append(k, x);
      const status = res.statusCode ?? 502;
      const stream = status === 204 || status === 304 ? null : (Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>);
      resolve(new Response(stream, { status, statusText: res.statusMessage ?? '', headers: answer }));
    }).then((req) => {
      req.on('error', reject);
      if (encoded?.body) Readable.fromWeb(encoded.body as unknown as WebStream<Uint8Array>).on('error', reject).pipe(req);
      else req.end();
    }, reject);
  });
}
