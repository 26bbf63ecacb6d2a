// One HTTP request on node:http, for the client's JSON and tile calls (and the CLI's `log checkpoint`, which
// sends it without loading the client: src/cli/fast-checkpoint.ts), directly or through --http-proxy
// (http-proxy.ts). Not fetch: on Node 20 the first fetch
// loads and compiles undici (~0.3 s of CPU and ~40 MB, more than the rest of a networked command's start-up:
// docs/performance.md "CLI start-up"). Evidence uploads are node:http too (http-upload.ts); downloads still use fetch
// (transfer()).

/** What the client reads of an answer: the status and the whole body (answers here are small). */
export interface HttpAnswer {
  status: number;
  statusText: string;
  ok: boolean;
  text(): Promise<string>;
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export interface SendOptions {
  method: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** Kosli's --http-proxy (http-proxy.ts). */
  proxy?: URL;
}

/** Rejects with an Error whose `cause` is the socket's error (as fetch's "fetch failed" does), so callers can tell a refused connection. */
export async function send(url: URL, options: SendOptions): Promise<HttpAnswer> {
  // Loaded here, not at the top: every module that imports core would otherwise load node:http, https and tls.
  const { openRequest } = await import('./http-proxy.js');
  const headers = { ...options.headers, ...(options.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(options.body)) }) };
  return new Promise((resolve, reject) => {
    const fail = (err: Error) => reject(new Error(err.name === 'AbortError' ? 'timed out' : 'request failed', { cause: err.name === 'AbortError' ? 'the request timed out' : err }));
    void openRequest(url, options.proxy, { method: options.method, headers, signal: AbortSignal.timeout(options.timeoutMs) }, (res) => {
      // Copied into one buffer as it arrives when its length is declared: each chunk (a slice of a socket
      // read) is garbage at once, not held until the end, where it could outlive a scavenge and wait for a
      // full GC (verify log --full's hashing threads receive ~1 KB an entry: held chunks grew a thread's
      // external memory to V8's limit, +70 MB of peak RSS over 1M entries; docs/performance.md "Twelfth round").
      const declared = Number(res.headers['content-length']);
      let sized = Number.isSafeInteger(declared) && declared >= 0 && declared <= PREALLOCATE_MAX ? Buffer.allocUnsafeSlow(declared) : undefined;
      let at = 0;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        if (sized && at + c.length <= sized.length) {
          sized.set(c, at);
          at += c.length;
          return;
        }
        if (sized) chunks.push(sized.subarray(0, at));
        sized = undefined;
        chunks.push(c);
      });
      res.on('error', (err) => reject(new Error('the answer was cut', { cause: err })));
      res.on('end', () => {
        const bytes = sized && at === sized.length ? sized : ownedConcat(sized ? [sized.subarray(0, at)] : chunks);
        const status = res.statusCode ?? 0;
        resolve({
          status,
          statusText: res.statusMessage ?? '',
          ok: status >= 200 && status < 300,
          text: async () => bytes.toString('utf8'),
          json: async () => JSON.parse(bytes.toString('utf8')),
          // The body's own buffer, not a copy (verify log --full reads ~1 KB per entry through here: a second
          // copy cost as much CPU as the HTTP parsing). The caller may transfer it to a thread.
          arrayBuffer: async () => bytes.buffer as ArrayBuffer,
        });
      });
    }).then((req) => {
      req.on('error', fail);
      req.end(options.body);
    }, fail);
  });
}

/** The largest declared body received into a buffer allocated up front (a larger one is gathered as it comes). */
const PREALLOCATE_MAX = 16 * 1024 * 1024;

/**
 * The chunks in one buffer of exactly their length that owns its whole ArrayBuffer (never Buffer's shared
 * pool, which Buffer.concat uses for small bodies): transferable to a worker thread without a copy.
 */
function ownedConcat(chunks: Buffer[]): Buffer {
  let length = 0;
  for (const c of chunks) length += c.length;
  const out = Buffer.allocUnsafeSlow(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Checks a --http-proxy value: an http:// URL (a TLS proxy is not offered). Pure: loads no network module. */
export function parseProxy(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`--http-proxy must be a URL like http://proxy.example.com:3128, not ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:') throw new Error(`--http-proxy must be an http:// proxy URL, not ${url.protocol}`);
  return url;
}

/** An evidence upload or download through the proxy (http-proxy.ts transferVia), loading it on first use. */
export async function transferVia(url: URL, proxy: URL, options: { method: string; headers: Record<string, string>; signal?: AbortSignal }, body?: FormData): Promise<Response> {
  return (await import('./http-proxy.js')).transferVia(url, proxy, options, body);
}
