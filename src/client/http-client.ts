import { createHash } from 'node:crypto';
import { Check, Errors } from 'typebox/value';
import type { Static, TSchema } from 'typebox';
import { EvidentError, type ErrorCode } from '../core/index.js';
import {
  ConsistencyProof, ErrorBody, InclusionProof, LogEntryPage, LogKey, Org, TokenCreated, TokenPage, Token, WhoAmI,
  type TokenCreate,
} from './schemas.js';
import * as envs from './environment-schemas.js';
import * as pols from './policy-schemas.js';
import { ReleasePlan } from './release-schemas.js';
import { DoraReport, type DoraQuery } from './metrics-schemas.js';
import {
  ArtifactDetails, Artifact, ArtifactPage, Attestation, AttestationType, ProvenanceAttestations, AttestationTypeList, Flow, SearchResult, Trail, TrailDetail, TrailPage,
  type ApprovalCreate, type ArtifactCreate, type AttestationTypeCreate, type CustomAttestationCreate, type JUnitCreate, type ProvenanceCreate, type PullRequestCreate, type SarifCreate, type FlowCreate, type GenericAttestationCreate, type TrailCreate,
} from './record-schemas.js';
import * as recordSchemas from './record-schemas.js';
import fs from 'node:fs';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { checkDigest } from '../core/index.js';
import { EvidenceUploaded, type EvidenceItem } from './evidence-schemas.js';
import { expandEvidenceFiles, writeVerified, type EvidenceFile } from './evidence-files.js';

export interface ClientOptions {
  /** Base URL of the Evident server, e.g. http://127.0.0.1:8080 */
  host: string;
  org: string;
  apiToken?: string;
  timeoutMs?: number;
  /** Called with each request, for --debug. */
  debug?: (line: string) => void;
}

const CODES: readonly ErrorCode[] = [
  'INVALID_ARGUMENT', 'NOT_FOUND', 'CONFLICT', 'UNAUTHENTICATED', 'FORBIDDEN', 'PAYLOAD_TOO_LARGE',
  'RATE_LIMITED', 'VERIFICATION_FAILED', 'TAMPERED', 'UNAVAILABLE', 'INTERNAL',
];

type Query = Record<string, string | number | undefined>;

/**
 * Typed access to the HTTP API. Everything a server sends back is checked against the shared schema
 * before it is used: a verifier must not trust the server it is checking.
 */
export class EvidentClient {
  private readonly base: string;

  constructor(private readonly options: ClientOptions) {
    let url: URL;
    try {
      url = new URL(options.host);
    } catch {
      throw new EvidentError('INVALID_ARGUMENT', `--host must be a URL like http://127.0.0.1:8080, not ${JSON.stringify(options.host)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new EvidentError('INVALID_ARGUMENT', `--host must use http or https`);
    this.base = url.toString().replace(/\/$/, '');
  }

  private orgPath(suffix: string): string {
    return `/api/v1/orgs/${encodeURIComponent(this.options.org)}${suffix}`;
  }

  private async request(method: string, path: string, query?: Query, body?: unknown): Promise<Response> {
    const url = new URL(this.base + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json, text/plain' };
    if (this.options.apiToken) headers.authorization = `Bearer ${this.options.apiToken}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    this.options.debug?.(`${method} ${url.toString()}`);
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
    } catch (err) {
      throw new EvidentError('UNAVAILABLE', `cannot reach ${this.base}: ${(err as Error).cause ?? (err as Error).message}`, { cause: err });
    }
    this.options.debug?.(`-> ${res.status}`);
    if (!res.ok) throw await errorFrom(res);
    return res;
  }

  private async json<T extends TSchema>(schema: T, method: string, path: string, query?: Query, body?: unknown): Promise<Static<T>> {
    const res = await this.request(method, path, query, body);
    let value: unknown;
    try {
      value = await res.json();
    } catch (err) {
      throw new EvidentError('VERIFICATION_FAILED', `${path}: the server sent a body that is not JSON`, { cause: err });
    }
    if (!Check(schema, value)) {
      const details = [...Errors(schema, value)].slice(0, 10).map((e) => ({ path: e.instancePath || '/', message: e.message }));
      throw new EvidentError('VERIFICATION_FAILED', `${path}: the server's answer does not have the expected shape`, { details });
    }
    return value as Static<T>;
  }

  whoami() {
    return this.json(WhoAmI, 'GET', '/api/v1/whoami');
  }

  org() {
    return this.json(Org, 'GET', this.orgPath(''));
  }

  listTokens(cursor?: string, limit?: number) {
    return this.json(TokenPage, 'GET', this.orgPath('/tokens'), { cursor, limit });
  }

  createToken(input: TokenCreate) {
    return this.json(TokenCreated, 'POST', this.orgPath('/tokens'), undefined, input);
  }

  revokeToken(id: string) {
    return this.json(Token, 'DELETE', this.orgPath(`/tokens/${encodeURIComponent(id)}`));
  }

  createFlow(input: FlowCreate) {
    return this.json(Flow, 'POST', this.orgPath('/flows'), undefined, input);
  }

  listFlows(q: { cursor?: string; limit?: number; includeArchived?: boolean; sort?: string; missingAttestationType?: string } = {}) {
    return this.json(recordSchemas.FlowSummaryPage, 'GET', this.orgPath('/flows'), {
      cursor: q.cursor, limit: q.limit, include_archived: q.includeArchived ? 'true' : undefined, sort: q.sort, missing_attestation_type: q.missingAttestationType,
    });
  }

  tagFlow(name: string, change: recordSchemas.FlowTagChange) {
    return this.json(Flow, 'POST', this.orgPath(`/flows/${encodeURIComponent(name)}/tags`), undefined, change);
  }

  getFlow(name: string) {
    return this.json(Flow, 'GET', this.orgPath(`/flows/${encodeURIComponent(name)}`));
  }

  archiveFlow(name: string) {
    return this.json(Flow, 'POST', this.orgPath(`/flows/${encodeURIComponent(name)}/archive`), undefined, {});
  }

  beginTrail(flow: string, input: TrailCreate) {
    return this.json(Trail, 'POST', this.orgPath(`/flows/${encodeURIComponent(flow)}/trails`), undefined, input);
  }

  listTrails(flow: string, q: { cursor?: string; limit?: number } = {}) {
    return this.json(TrailPage, 'GET', this.orgPath(`/flows/${encodeURIComponent(flow)}/trails`), { cursor: q.cursor, limit: q.limit });
  }

  getTrail(flow: string, trail: string) {
    return this.json(TrailDetail, 'GET', this.orgPath(`/flows/${encodeURIComponent(flow)}/trails/${encodeURIComponent(trail)}`));
  }

  reportArtifact(flow: string, trail: string, input: ArtifactCreate) {
    return this.json(Artifact, 'POST', this.orgPath(`/flows/${encodeURIComponent(flow)}/trails/${encodeURIComponent(trail)}/artifacts`), undefined, input);
  }

  attestGeneric(flow: string, trail: string, input: GenericAttestationCreate) {
    return this.json(Attestation, 'POST', this.orgPath(`/flows/${encodeURIComponent(flow)}/trails/${encodeURIComponent(trail)}/attestations/generic`), undefined, input);
  }

  attestApproval(flow: string, trail: string, input: ApprovalCreate) {
    return this.json(Attestation, 'POST', this.orgPath(`/flows/${encodeURIComponent(flow)}/trails/${encodeURIComponent(trail)}/attestations/approval`), undefined, input);
  }

  attestPullRequest(flow: string, trail: string, input: PullRequestCreate) {
    return this.json(Attestation, 'POST', this.orgPath(`/flows/${encodeURIComponent(flow)}/trails/${encodeURIComponent(trail)}/attestations/pull_request`), undefined, input);
  }

  createAttestationType(input: AttestationTypeCreate) {
    return this.json(AttestationType, 'POST', this.orgPath('/attestation-types'), undefined, input);
  }

  getAttestationType(ref: string) {
    return this.json(AttestationType, 'GET', this.orgPath(`/attestation-types/${encodeURIComponent(ref)}`));
  }

  listAttestationTypes() {
    return this.json(AttestationTypeList, 'GET', this.orgPath('/attestation-types'));
  }

  attestCustom(flow: string, trail: string, input: CustomAttestationCreate) {
    return this.json(Attestation, 'POST', this.orgPath(`/flows/${encodeURIComponent(flow)}/trails/${encodeURIComponent(trail)}/attestations/custom`), undefined, input);
  }

  attestJUnit(flow: string, trail: string, input: JUnitCreate) {
    return this.json(Attestation, 'POST', this.orgPath(`/flows/${encodeURIComponent(flow)}/trails/${encodeURIComponent(trail)}/attestations/junit`), undefined, input);
  }

  /** One attestation per artifact the provenance is bound to. */
  attestProvenance(flow: string, trail: string, input: ProvenanceCreate) {
    return this.json(ProvenanceAttestations, 'POST', this.orgPath(`/flows/${encodeURIComponent(flow)}/trails/${encodeURIComponent(trail)}/attestations/provenance`), undefined, input);
  }

  attestSarif(type: 'sarif' | 'snyk', flow: string, trail: string, input: SarifCreate) {
    return this.json(Attestation, 'POST', this.orgPath(`/flows/${encodeURIComponent(flow)}/trails/${encodeURIComponent(trail)}/attestations/${type}`), undefined, input);
  }

  createEnvironment(input: envs.EnvironmentCreate) {
    return this.json(envs.Environment, 'POST', this.orgPath('/environments'), undefined, input);
  }

  getEnvironment(name: string) {
    return this.json(envs.Environment, 'GET', this.orgPath(`/environments/${encodeURIComponent(name)}`));
  }

  archiveEnvironment(name: string) {
    return this.json(envs.Environment, 'POST', this.orgPath(`/environments/${encodeURIComponent(name)}/archive`));
  }

  environmentDrift(name: string) {
    return this.json(envs.Drift, 'GET', this.orgPath(`/environments/${encodeURIComponent(name)}/drift`));
  }

  listEnvironments(q: { includeArchived?: boolean } = {}) {
    return this.json(envs.EnvironmentList, 'GET', this.orgPath('/environments'), { include_archived: q.includeArchived ? 'true' : undefined });
  }

  reportSnapshot(env: string, input: envs.SnapshotReport) {
    return this.json(envs.SnapshotReported, 'PUT', this.orgPath(`/environments/${encodeURIComponent(env)}/snapshot`), undefined, input);
  }

  getSnapshot(expr: string) {
    return this.json(envs.Snapshot, 'GET', this.orgPath(`/snapshots/${encodeURIComponent(expr)}`));
  }

  listSnapshots(env: string, q: { cursor?: string; limit?: number } = {}) {
    return this.json(envs.SnapshotPage, 'GET', this.orgPath(`/environments/${encodeURIComponent(env)}/snapshots`), { cursor: q.cursor, limit: q.limit });
  }

  expectDeployment(env: string, input: envs.ExpectationCreate) {
    return this.json(envs.Expectation, 'POST', this.orgPath(`/environments/${encodeURIComponent(env)}/expectations`), undefined, input);
  }

  createPolicy(input: pols.PolicyCreate) {
    return this.json(pols.Policy, 'POST', this.orgPath('/policies'), undefined, input);
  }

  /** NAME (latest version) or NAME@VERSION. */
  getPolicy(ref: string) {
    return this.json(pols.Policy, 'GET', this.orgPath(`/policies/${encodeURIComponent(ref)}`));
  }

  listPolicies() {
    return this.json(pols.PolicyList, 'GET', this.orgPath('/policies'));
  }

  attachPolicy(env: string, policy: string) {
    return this.json(pols.AttachResult, 'POST', this.orgPath(`/environments/${encodeURIComponent(env)}/policies`), undefined, { policy });
  }

  detachPolicy(env: string, policy: string) {
    return this.json(pols.AttachResult, 'DELETE', this.orgPath(`/environments/${encodeURIComponent(env)}/policies/${encodeURIComponent(policy)}`));
  }

  allowArtifact(env: string, input: { fingerprint: string; reason: string }) {
    return this.json(pols.Allowance, 'POST', this.orgPath(`/environments/${encodeURIComponent(env)}/allowances`), undefined, input);
  }

  listAllowances(env: string) {
    return this.json(pols.AllowanceList, 'GET', this.orgPath(`/environments/${encodeURIComponent(env)}/allowances`));
  }

  assertArtifact(input: pols.AssertArtifact) {
    return this.json(pols.AssertResult, 'POST', this.orgPath('/assert/artifact'), undefined, input);
  }

  assertSnapshot(input: pols.AssertSnapshot) {
    return this.json(pols.AssertResult, 'POST', this.orgPath('/assert/snapshot'), undefined, input);
  }

  /** Kosli's diff JSON: snappish1, snappish2, changed, not-changed (each with artifacts). */
  diffSnapshots(a: string, b: string, options: { showUnchanged?: boolean } = {}) {
    return this.json(envs.SnapshotDiff, 'GET', this.orgPath('/diff/snapshots'), { a, b, show_unchanged: options.showUnchanged ? 'true' : undefined });
  }

  environmentEvents(env: string) {
    return this.json(envs.EnvironmentEvents, 'GET', this.orgPath(`/environments/${encodeURIComponent(env)}/events`));
  }

  /** Seed 001's release plan between the latest snapshots of two environments. */
  releasePlan(from: string, to: string, options: { allowInProgress?: boolean } = {}) {
    return this.json(ReleasePlan, 'GET', this.orgPath('/release-plan'), { from, to, allow_in_progress: options.allowInProgress ? 'true' : undefined });
  }

  /** DORA metrics of one environment (docs/metrics.md). */
  doraMetrics(q: DoraQuery) {
    return this.json(DoraReport, 'GET', this.orgPath('/metrics/dora'), { ...q });
  }

  search(q: string) {
    return this.json(SearchResult, 'GET', this.orgPath('/search'), { q });
  }

  listArtifacts(q: { flow?: string; cursor?: string; limit?: number } = {}) {
    return this.json(ArtifactPage, 'GET', this.orgPath('/artifacts'), { flow: q.flow, cursor: q.cursor, limit: q.limit });
  }

  getArtifacts(ref: string) {
    return this.json(ArtifactDetails, 'GET', this.orgPath(`/artifacts/${encodeURIComponent(ref)}`));
  }

  logKey() {
    return this.json(LogKey, 'GET', this.orgPath('/log/key'));
  }

  /** The signed note, verbatim. */
  async checkpoint(): Promise<string> {
    const res = await this.request('GET', this.orgPath('/log/checkpoint'));
    return res.text();
  }

  logEntries(start: number, end?: number) {
    return this.json(LogEntryPage, 'GET', this.orgPath('/log/entries'), { start, end });
  }

  inclusionProof(q: { index?: number; leafHash?: string; treeSize?: number }) {
    return this.json(InclusionProof, 'GET', this.orgPath('/log/proof/inclusion'), { index: q.index, leaf_hash: q.leafHash, tree_size: q.treeSize });
  }

  consistencyProof(from: number, to?: number) {
    return this.json(ConsistencyProof, 'GET', this.orgPath('/log/proof/consistency'), { from, to });
  }

  /**
   * Uploads files to the evidence vault in one multipart request, each streamed from disk. A directory is
   * sent file by file, each named by its path relative to the directory, under the directory's name (or
   * the given name): `reports/junit/a.xml`. The server records all of them or, on any failure, none.
   */
  async uploadEvidence(files: EvidenceFile[]): Promise<EvidenceItem[]> {
    const form = new FormData();
    for (const f of await expandEvidenceFiles(files)) form.append('file', await fs.openAsBlob(f.path), f.name);
    const path = this.orgPath('/evidence');
    const res = await this.transfer('POST', path, form);
    let value: unknown;
    try {
      value = await res.json();
    } catch (err) {
      throw new EvidentError('VERIFICATION_FAILED', `${path}: the server sent a body that is not JSON`, { cause: err });
    }
    if (!Check(EvidenceUploaded, value)) throw new EvidentError('VERIFICATION_FAILED', `${path}: the server's answer does not have the expected shape`);
    return value.items;
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
    if (createHash('sha256').update(bytes).digest('hex') !== digest) throw new EvidentError('VERIFICATION_FAILED', `the server sent other bytes than evidence sha256:${digest}`);
    return bytes;
  }

  /** A request with a streamed body or answer: evidence files can be large, so it may take up to an hour. */
  private async transfer(method: string, path: string, body?: FormData): Promise<Response> {
    const url = new URL(this.base + path);
    const headers: Record<string, string> = { accept: 'application/json, application/octet-stream' };
    if (this.options.apiToken) headers.authorization = `Bearer ${this.options.apiToken}`;
    this.options.debug?.(`${method} ${url.toString()}`);
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(Math.max(this.options.timeoutMs ?? 0, 60 * 60_000)) });
    } catch (err) {
      throw new EvidentError('UNAVAILABLE', `cannot reach ${this.base}: ${(err as Error).cause ?? (err as Error).message}`, { cause: err });
    }
    this.options.debug?.(`-> ${res.status}`);
    if (!res.ok) throw await errorFrom(res);
    return res;
  }
}

export async function errorFrom(res: Response): Promise<EvidentError> {
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  if (Check(ErrorBody, body)) {
    const { code, message, details } = (body as ErrorBody).error;
    const known = (CODES as readonly string[]).includes(code) ? (code as ErrorCode) : 'INTERNAL';
    return new EvidentError(known, message, { details: details as Record<string, unknown> | undefined });
  }
  const code: ErrorCode = res.status === 401 ? 'UNAUTHENTICATED' : res.status === 403 ? 'FORBIDDEN' : res.status === 404 ? 'NOT_FOUND' : 'UNAVAILABLE';
  return new EvidentError(code, `the server answered ${res.status} ${res.statusText}`);
}
