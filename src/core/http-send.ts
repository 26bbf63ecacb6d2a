// One HTTP request on node:http, for the client's JSON and tile calls (and the CLI's `log checkpoint`, which
// sends it without loading the client: src/cli/fast-checkpoint.ts). Not fetch: on Node 20 the first fetch
// loads and compiles undici (~0.3 s of CPU and ~40 MB, more than the rest of a networked command's start-up:
// docs/performance.md "CLI start-up"). Uploads and downloads of evidence files still use fetch (transfer()).

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
}

/** Rejects with an Error whose `cause` is the socket's error (as fetch's "fetch failed" does), so callers can tell a refused connection. */
export async function send(url: URL, options: SendOptions): Promise<HttpAnswer> {
  // Loaded here, not at the top: every module that imports core would otherwise load node:http and node:https.
  const lib = url.protocol === 'https:' ? (await import('node:https')).default : (await import('node:http')).default;
  const headers = { ...options.headers, ...(options.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(options.body)) }) };
  return new Promise((resolve, reject) => {
    const req = lib.request(url, { method: options.method, headers, signal: AbortSignal.timeout(options.timeoutMs) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => reject(new Error('the answer was cut', { cause: err })));
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        const status = res.statusCode ?? 0;
        resolve({
          status,
          statusText: res.statusMessage ?? '',
          ok: status >= 200 && status < 300,
          text: async () => bytes.toString('utf8'),
          json: async () => JSON.parse(bytes.toString('utf8')),
          arrayBuffer: async () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
        });
      });
    });
    req.on('error', (err) => reject(new Error(err.name === 'AbortError' ? 'timed out' : 'request failed', { cause: err.name === 'AbortError' ? 'the request timed out' : err })));
    req.end(options.body);
  });
}
