import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { EvidentError, checkDigest } from '../core/index.js';
import type { TokenCreate } from './schemas.js';
import type { EvidenceItem } from './evidence-schemas.js';
import { isAnswer } from './answer-check.js';
import { badAnswer } from './answer-errors.js';
import type { Answer } from './answers.js';
import { expandEvidenceFiles, writeVerified, type EvidenceFile } from './evidence-files.js';
import { PoliciesApi } from './policies-api.js';

export type { ClientOptions } from './transport.js';
export { errorFrom } from './transport.js';

/**
 * Typed access to the whole HTTP API: identity, tokens, the log and the evidence vault here; recording,
 * observing and deciding in the classes it extends (one file per area). Every answer is checked against
 * the shared schema before it is used: a verifier must not trust the server it is checking.
 */
export class EvidentClient extends PoliciesApi {
  whoami() {
    return this.json('WhoAmI', 'GET', '/api/v1/whoami');
  }

  org() {
    return this.json('Org', 'GET', this.orgPath(''));
  }

  listTokens(cursor?: string, limit?: number) {
    return this.json('TokenPage', 'GET', this.orgPath('/tokens'), { cursor, limit });
  }

  createToken(input: TokenCreate) {
    return this.json('TokenCreated', 'POST', this.orgPath('/tokens'), undefined, input);
  }

  revokeToken(id: string) {
    return this.json('Token', 'DELETE', this.orgPath(`/tokens/${encodeURIComponent(id)}`));
  }

  logKey() {
    return this.json('LogKey', 'GET', this.orgPath('/log/key'));
  }

  /** The signed note, verbatim. */
  async checkpoint(): Promise<string> {
    const res = await this.request('GET', this.orgPath('/log/checkpoint'));
    return res.text();
  }

  logEntries(start: number, end?: number) {
    return this.json('LogEntryPage', 'GET', this.orgPath('/log/entries'), { start, end });
  }

  /** A C2SP tlog-tiles hash tile or entry bundle: `rest` is the path after `tile/`. Untrusted bytes. */
  async logTile(rest: string): Promise<Uint8Array> {
    const res = await this.request('GET', this.orgPath(`/log/tile/${rest}`));
    return new Uint8Array(await res.arrayBuffer());
  }

  /** Where another thread GETs this log's tiles itself: the URL of `tile/` and the request's headers; undefined under --debug. Async as every method (the CLI's lazy client). */
  async directTiles(): Promise<{ prefix: string; headers: Record<string, string>; timeoutMs: number; proxy?: string } | undefined> {
    const get = this.plainGet(this.orgPath('/log/tile/'));
    return get && { prefix: get.url, headers: get.headers, timeoutMs: get.timeoutMs, ...(get.proxy ? { proxy: get.proxy } : {}) };
  }

  inclusionProof(q: { index?: number; leafHash?: string; treeSize?: number }) {
    return this.json('InclusionProof', 'GET', this.orgPath('/log/proof/inclusion'), { index: q.index, leaf_hash: q.leafHash, tree_size: q.treeSize });
  }

  consistencyProof(from: number, to?: number) {
    return this.json('ConsistencyProof', 'GET', this.orgPath('/log/proof/consistency'), { from, to });
  }

  /** The subject map's proof for a subject key, with the checkpoint it is proven against (not yet checked). */
  mapProof(subject: string) {
    return this.json('MapProof', 'GET', this.orgPath('/log/proof/map'), { subject });
  }

  /**
   * Uploads files to the evidence vault in one multipart request, each streamed from disk. A directory is
   * sent file by file, each named by its path relative to the directory, under the directory's name (or
   * the given name): `reports/junit/a.xml`. The server records all of them or, on any failure, none.
   */
  async uploadEvidence(files: EvidenceFile[]): Promise<EvidenceItem[]> {
    const path = this.orgPath('/evidence');
    const res = await this.upload('POST', path, await expandEvidenceFiles(files));
    let value: unknown;
    try {
      value = await res.json();
    } catch (err) {
      throw new EvidentError('VERIFICATION_FAILED', `${path}: the server sent a body that is not JSON`, { cause: err });
    }
    if (!(await isAnswer('EvidenceUploaded', value))) throw await badAnswer('EvidenceUploaded', value, `${path}: the server's answer does not have the expected shape`);
    return (value as Answer<'EvidenceUploaded'>).items;
  }

  /**
   * Downloads a blob to `destFile`, which must lie inside `options.dir` (default: its own directory). The
   * bytes are written to `destFile` only if they hash to `digest`: the server is not trusted.
   */
  async downloadEvidence(digest: string, destFile: string, options: { dir?: string } = {}) {
    const res = await this.transfer('GET', this.orgPath(`/evidence/${checkDigest(digest)}`));
    const length = res.headers.get('content-length');
    return writeVerified(res.body as WebReadableStream<Uint8Array> | null, digest, destFile, options.dir, length === null ? undefined : Number(length));
  }

  /** A blob's bytes, checked against its digest (for evidence packages; the server is not trusted). */
  async evidenceBytes(digest: string, maxBytes = 100 * 1024 * 1024): Promise<Uint8Array> {
    const res = await this.transfer('GET', this.orgPath(`/evidence/${checkDigest(digest)}`));
    if (Number(res.headers.get('content-length') ?? 0) > maxBytes) {
      await res.body?.cancel();
      throw new EvidentError('PAYLOAD_TOO_LARGE', `evidence sha256:${digest} is larger than ${maxBytes} bytes`);
    }
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (bytes.length > maxBytes) throw new EvidentError('PAYLOAD_TOO_LARGE', `evidence sha256:${digest} is larger than ${maxBytes} bytes`);
    // node:crypto on first use, as in evidence-files.ts.
    if (process.getBuiltinModule('node:crypto').createHash('sha256').update(bytes).digest('hex') !== digest) throw new EvidentError('VERIFICATION_FAILED', `the server sent other bytes than evidence sha256:${digest}`);
    return bytes;
  }
}
