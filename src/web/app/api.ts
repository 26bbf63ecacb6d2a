// The UI's only way to the records: the public HTTP API (/api/v1), signed in by the session cookie the
// server set when the token was exchanged (docs/web.md "Signing in"): page script never holds the token.
// Types come from src/client's schemas (erased at build time); no Node code reaches the browser.
import type { environmentSchemas, policySchemas, recordSchemas, releaseSchemas, schemas } from '../../client/index.js';
import type { DoraReport } from './dora-types.js';

export type WhoAmI = schemas.WhoAmI;
export type LogKey = schemas.LogKey;
export type InclusionProof = schemas.InclusionProof;
export type MapProof = schemas.MapProof;
export type FlowSummary = recordSchemas.FlowSummary;
export type Flow = recordSchemas.Flow;
export type Trail = recordSchemas.Trail;
export type TrailDetail = recordSchemas.TrailDetail;
export type Attestation = recordSchemas.Attestation;
export type Compliance = recordSchemas.Compliance;
export type ArtifactDetail = recordSchemas.ArtifactDetail;
export type SearchResult = recordSchemas.SearchResult;
export type Environment = environmentSchemas.Environment;
export type Snapshot = environmentSchemas.Snapshot;
export type SnapshotPage = environmentSchemas.SnapshotPage;
export type SnapshotDiff = environmentSchemas.SnapshotDiff;
export type EnvironmentEvents = environmentSchemas.EnvironmentEvents;
export type Expectation = environmentSchemas.Expectation;
export type Drift = environmentSchemas.Drift;
export type ReleasePlan = releaseSchemas.ReleasePlan;
export type Policy = policySchemas.Policy;
export type { DoraReport };

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** An error the server explained ({error: {code, message, details}}), or a network failure. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface Session {
  org: string;
  role: string;
  tokenName: string;
  expiresAt: string;
  /** Echoed in X-Evident-CSRF on state-changing requests (the server refuses them without it). */
  csrf: string;
}

/** Fired on window when the server no longer knows the session (expired, signed out elsewhere, token revoked). */
export const SIGNED_OUT_EVENT = 'evident:signed-out';

type Query = Record<string, string | number | boolean | null | undefined>;

function url(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

async function request(path: string, query?: Query, accept = 'application/json', init: RequestInit = {}): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url(path, query), { ...init, credentials: 'same-origin', headers: { accept, ...(init.headers as Record<string, string> | undefined) } });
  } catch (err) {
    throw new ApiError(0, 'NETWORK', `the server did not answer: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (res.ok) return res;
  let body: { error?: { code?: string; message?: string; details?: unknown } } = {};
  try {
    body = (await res.json()) as typeof body;
  } catch {
    // not JSON: keep the status line
  }
  // Past the sign-in, a 401 means the session is gone: the shell goes back to the sign-in page.
  if (res.status === 401 && !path.startsWith('/api/v1/session')) window.dispatchEvent(new Event(SIGNED_OUT_EVENT));
  throw new ApiError(res.status, body.error?.code ?? `HTTP_${res.status}`, body.error?.message ?? `${res.status} ${res.statusText}`, body.error?.details);
}

const enc = encodeURIComponent;

type SessionBody = { org: string; role: string; token_name: string; expires_at: string; csrf: string };
const toSession = (b: SessionBody): Session => ({ org: b.org, role: b.role, tokenName: b.token_name, expiresAt: b.expires_at, csrf: b.csrf });

/** Exchanges an API token for the session cookie (POST /api/v1/session): the only request that carries the token. */
export async function signIn(token: string): Promise<Session> {
  const res = await request('/api/v1/session', undefined, 'application/json', { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  return toSession((await res.json()) as SessionBody);
}

/** This browser's session, if it has one (any tab): null when not signed in. */
export async function currentSession(): Promise<Session | null> {
  try {
    return toSession((await (await request('/api/v1/session')).json()) as SessionBody);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

/** Ends the session on the server (every tab of this browser is signed out). */
export async function signOut(s: Session): Promise<void> {
  await request('/api/v1/session', undefined, 'application/json', { method: 'DELETE', headers: { 'x-evident-csrf': s.csrf } });
}

/** The typed calls the pages make, bound to a session. */
export function apiFor(s: Session) {
  const o = `/api/v1/orgs/${enc(s.org)}`;
  const get = async <T>(path: string, query?: Query): Promise<T> => (await (await request(o + path, query)).json()) as T;
  return {
    flows: (q: { cursor?: string | null; limit?: number; sort?: string; include_archived?: boolean; missing_attestation_type?: string }) =>
      get<Page<FlowSummary>>('/flows', q),
    flow: (flow: string) => get<Flow>(`/flows/${enc(flow)}`),
    trails: (flow: string, cursor?: string | null, limit = 50) => get<Page<Trail>>(`/flows/${enc(flow)}/trails`, { cursor, limit }),
    /** The trail with one page of its attestations (pass next_cursor back as cursor). */
    trail: (flow: string, trail: string, cursor?: string | null, limit = 100) => get<TrailDetail>(`/flows/${enc(flow)}/trails/${enc(trail)}`, { cursor, limit }),
    /** The trail with every attestation (each page followed). */
    trailAll: async (flow: string, trail: string) => {
      const path = `/flows/${enc(flow)}/trails/${enc(trail)}`;
      const first = await get<TrailDetail>(path, { limit: 1000 });
      const attestations = [...first.attestations];
      for (let cursor = first.next_cursor; cursor;) {
        const page = await get<TrailDetail>(path, { cursor, limit: 1000 });
        attestations.push(...page.attestations);
        cursor = page.next_cursor;
      }
      return { ...first, attestations, next_cursor: null };
    },
    artifacts: (ref: string) => get<{ items: ArtifactDetail[] }>(`/artifacts/${enc(ref)}`),
    search: (q: string) => get<SearchResult>('/search', { q }),
    environments: () => get<{ items: Environment[] }>('/environments'),
    environment: (env: string) => get<Environment>(`/environments/${enc(env)}`),
    snapshots: (env: string, cursor?: string | null, limit = 50) => get<SnapshotPage>(`/environments/${enc(env)}/snapshots`, { cursor, limit }),
    drift: (env: string) => get<Drift>(`/environments/${enc(env)}/drift`),
    events: (env: string) => get<EnvironmentEvents>(`/environments/${enc(env)}/events`),
    expectations: (env: string) => get<{ items: Expectation[] }>(`/environments/${enc(env)}/expectations`),
    snapshot: (expr: string) => get<Snapshot>(`/snapshots/${enc(expr)}`),
    diff: (a: string, b: string, showUnchanged = false) => get<SnapshotDiff>('/diff/snapshots', { a, b, show_unchanged: showUnchanged }),
    releasePlan: (from: string, to: string, allowInProgress = false) => get<ReleasePlan>('/release-plan', { from, to, allow_in_progress: allowInProgress }),
    policies: () => get<{ items: Policy[] }>('/policies'),
    policy: (ref: string) => get<Policy>(`/policies/${enc(ref)}`),
    logKey: () => get<LogKey>('/log/key'),
    checkpoint: async () => (await request(`${o}/log/checkpoint`, undefined, 'text/plain')).text(),
    logEntries: (start: number, end: number) => get<Page<{ index: number; leaf_hash: string; entry: string }>>('/log/entries', { start, end }),
    inclusionProof: (index: number, treeSize: number) => get<InclusionProof>('/log/proof/inclusion', { index, tree_size: treeSize }),
    /** The subject map proof at the latest checkpoint, with that checkpoint (docs/log.md "The subject map"). */
    mapProof: (subject: string) => get<MapProof>('/log/proof/map', { subject }),
    consistencyProof: (from: number, to: number) => get<{ hashes: string[] }>('/log/proof/consistency', { from, to }),
    /** The figures over the whole window, and the newest 500 deployments (the page shows no more; servers before issue #21 send all). */
    dora: (q: { environment: string; since?: string; until?: string; flow?: string; bucket?: 'day' | 'week' }) => get<DoraReport>('/metrics/dora', { ...q, limit: 500 }),
    /** An evidence file's bytes, fetched with the session (the cookie is limited to /api/v1, which this is). */
    evidence: async (digest: string) => (await request(`${o}/evidence/${enc(digest)}`, undefined, 'application/octet-stream')).blob(),
  };
}

export type Api = ReturnType<typeof apiFor>;
