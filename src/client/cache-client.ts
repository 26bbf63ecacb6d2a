import { EvidentError, checkDigest } from '../core/index.js';
import type { CacheEntry } from './cache-schemas.js';
import { isAnswer } from './answer-check.js';
import type { Answer } from './answers.js';
import { EvidentClient } from './http-client.js';
import { errorFrom, type ClientOptions } from './transport.js';

/** HEAD requests in flight at once when asking which objects the server has. */
const HEAD_CONCURRENCY = 8;

/**
 * The remote cache's HTTP side (docs/cache.md): entries under /cache/entries/:key, objects in the evidence
 * vault. Shaped to be the runner's `RemoteCacheStore` (src/pipeline/remote-cache.ts), which the CLI hands
 * to the pipeline. Nothing the server sends is trusted: entries are checked for shape here and for
 * signature and trust by the runner, object bytes are hashed by the runner.
 */
export class CacheClient {
  private readonly client: EvidentClient;
  private readonly base: string;

  constructor(private readonly options: ClientOptions) {
    this.client = new EvidentClient(options);
    this.base = new URL(options.host).toString().replace(/\/$/, '');
  }

  private url(suffix: string): string {
    return `${this.base}/api/v1/orgs/${encodeURIComponent(this.options.org)}${suffix}`;
  }

  private async send(method: string, suffix: string, body?: unknown, okStatuses: number[] = []): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json, application/octet-stream' };
    if (this.options.apiToken) headers.authorization = `Bearer ${this.options.apiToken}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const url = this.url(suffix);
    this.options.debug?.(`${method} ${url}`);
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000) });
    } catch (err) {
      throw new EvidentError('UNAVAILABLE', `cannot reach ${this.base}: ${(err as Error).cause ?? (err as Error).message}`, { cause: err });
    }
    this.options.debug?.(`-> ${res.status}`);
    if (!res.ok && !okStatuses.includes(res.status)) throw await errorFrom(res);
    return res;
  }

  /** The entries stored under `key` (unchecked JSON beyond their shape), or [] when there is none; `keyIds`: only these producers'. */
  async entries(key: string, keyIds?: readonly string[]): Promise<unknown[]> {
    const query = keyIds && keyIds.length > 0 ? `?key_ids=${keyIds.map((id) => checkDigest(id)).join(',')}` : '';
    const res = await this.send('GET', `/cache/entries/${checkDigest(key)}${query}`, undefined, [404]);
    if (res.status === 404) {
      await res.body?.cancel();
      return [];
    }
    const value: unknown = await res.json().catch(() => undefined);
    if (!(await isAnswer('CacheEntryList', value))) throw new EvidentError('VERIFICATION_FAILED', `the server's cache entries for ${key.slice(0, 12)} do not have the expected shape`);
    return (value as Answer<'CacheEntryList'>).entries.map((e) => e.entry);
  }

  async putEntry(entry: CacheEntry): Promise<void> {
    const res = await this.send('PUT', `/cache/entries/${checkDigest(entry.key)}`, entry);
    await res.body?.cancel();
  }

  async hasObjects(digests: readonly string[]): Promise<Set<string>> {
    const present = new Set<string>();
    const queue = [...digests];
    const worker = async () => {
      for (let d = queue.shift(); d !== undefined; d = queue.shift()) {
        const res = await this.send('HEAD', `/evidence/${checkDigest(d)}`, undefined, [404]);
        if (res.ok) present.add(d);
      }
    };
    await Promise.all(Array.from({ length: Math.min(HEAD_CONCURRENCY, queue.length) }, worker));
    return present;
  }

  /** An object's bytes as sent (at most `size` + 1 are kept); the caller checks the digest. */
  async getObject(digest: string, size: number): Promise<Uint8Array> {
    const res = await this.send('GET', `/evidence/${checkDigest(digest)}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    return bytes.length > size ? bytes.subarray(0, size + 1) : bytes;
  }

  async putObjects(files: readonly { abs: string; name: string }[]): Promise<string[]> {
    const items = await this.client.uploadEvidence(files.map((f) => ({ path: f.abs, name: f.name })));
    return items.map((i) => i.digest);
  }
}
