import fs from 'node:fs';
import type http from 'node:http';
import type { HttpAnswer } from './http-send.js';

// An evidence upload on node:http: one multipart/form-data request, each file streamed from disk (issue #21,
// docs/performance.md "Eighth round"). It used to be fetch with a FormData of fs.openAsBlob files: on Node 20
// the first fetch loads and compiles undici, ~150 ms of CPU and ~40 MB, which every report attestation (`attest
// junit`, `snyk`, `sarif`, `provenance`) and every --attachments paid, three times what the rest of the command
// costs. The body is byte for byte what undici sends for that FormData (its boundary aside): the same part
// headers, names escaped the same way, so the server records the same names.

export interface UploadFile {
  path: string;
  /** The name the file is recorded under (the part's filename). */
  name: string;
}

export interface UploadOptions {
  headers: Record<string, string>;
  signal?: AbortSignal;
  /** Kosli's --http-proxy (http-proxy.ts). */
  proxy?: URL;
}

// undici's escaping of a part's name and filename (fetch's "multipart/form-data encoding algorithm").
const escape = (s: string) => s.replace(/\n/g, '%0A').replace(/\r/g, '%0D').replace(/"/g, '%22');
const CRLF = Buffer.from('\r\n');
// A file is read in chunks of createReadStream's size, with fs's callback API: not fs.promises, nor fs streams,
// whose modules (fs/promises with fs/dir, the watchers and readline; fs/streams) are not loaded otherwise, and
// cost `attest junit` more CPU to load than reading a results file does (docs/performance.md "Tenth round").
const CHUNK = 64 * 1024;
const stat = (p: string) => new Promise<fs.Stats>((resolve, reject) => fs.stat(p, (err, st) => (err ? reject(err) : resolve(st))));

function partHead(boundary: string, name: string): Buffer {
  const filename = name ? `; filename="${escape(name)}"` : '';
  return Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"${filename}\r\nContent-Type: application/octet-stream\r\n\r\n`);
}

/**
 * POSTs (or `method`s) `files` as the form field `file`, each streamed from disk, with a content-length (each
 * file's size when the request starts: a file that then changes length fails the upload rather than send a
 * body other than the one announced). Rejects as send() does: an Error whose `cause` says why.
 */
export async function sendFiles(url: URL, method: string, files: readonly UploadFile[], options: UploadOptions): Promise<HttpAnswer> {
  const { openRequest } = await import('./http-proxy.js');
  // Random as undici's is (not node:crypto, which is not loaded otherwise): a boundary only has to be absent from the files.
  const boundary = `----evident${Math.random().toString(16).slice(2)}${Math.random().toString(16).slice(2)}`;
  const parts = await Promise.all(files.map(async (f) => ({ ...f, head: partHead(boundary, f.name), size: (await stat(f.path)).size })));
  const tail = Buffer.from(`--${boundary}--\r\n`);
  const length = parts.reduce((n, p) => n + p.head.length + p.size + CRLF.length, tail.length);
  const headers = { ...options.headers, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(length) };
  // A server may answer before it has read the whole body (413 for an oversize file): then the rest is not sent,
  // and the connection is closed once the answer is read (left open, it would hold the server's close).
  let answered = false;
  let bodySent = false;
  let request: { destroy(): void } | undefined;
  return new Promise((resolve, reject) => {
    const fail = (err: Error) => reject(new Error(err.name === 'AbortError' ? 'timed out' : 'request failed', { cause: err.name === 'AbortError' ? 'the request timed out' : err }));
    void openRequest(url, options.proxy, { method, headers, signal: options.signal }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => reject(new Error('the answer was cut', { cause: err })));
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        const status = res.statusCode ?? 0;
        resolve({
          status, statusText: res.statusMessage ?? '', ok: status >= 200 && status < 300,
          text: async () => bytes.toString('utf8'),
          json: async () => JSON.parse(bytes.toString('utf8')),
          arrayBuffer: async () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer,
        });
        if (!bodySent) request?.destroy();
      });
    }).then(async (req) => {
      request = req;
      req.on('error', fail);
      const stop = () => answered || req.destroyed;
      try {
        for (const p of parts) {
          if (stop()) return;
          await write(req, p.head);
          if (!(await pipeFile(req, p.path, p.size, stop))) return;
          await write(req, CRLF);
        }
        if (stop()) return;
        bodySent = true;
        req.end(tail);
      } catch (err) {
        req.destroy(err as Error);
      }
    }, fail);
  });
}

/** Resolves when the chunk may be followed by another: written, drained, or the request closed. */
function write(req: http.ClientRequest, chunk: Buffer): Promise<void> {
  return new Promise((resolve) => {
    if (req.write(chunk)) return resolve();
    const done = () => {
      req.off('drain', done);
      req.off('close', done);
      resolve();
    };
    req.once('drain', done);
    req.once('close', done);
  });
}

/** Exactly `size` bytes of the file into the request (backpressure kept), or an error; false when `stop` said to. */
async function pipeFile(req: http.ClientRequest, file: string, size: number, stop: () => boolean): Promise<boolean> {
  if (size === 0) return true;
  const fd = await new Promise<number>((resolve, reject) => fs.open(file, 'r', (err, n) => (err ? reject(err) : resolve(n))));
  let sent = 0;
  try {
    while (sent < size) {
      // A fresh buffer per chunk: the request may hold it until the socket has taken it.
      const chunk = Buffer.allocUnsafe(Math.min(CHUNK, size - sent));
      const read = await new Promise<number>((resolve, reject) => fs.read(fd, chunk, 0, chunk.length, sent, (err, n) => (err ? reject(err) : resolve(n))));
      if (read === 0) break;
      if (stop()) return false;
      sent += read;
      await write(req, read === chunk.length ? chunk : chunk.subarray(0, read));
    }
  } finally {
    fs.close(fd, () => undefined);
  }
  if (sent !== size) throw new Error(`${file} changed while it was being uploaded (${sent} of ${size} bytes)`);
  return true;
}
