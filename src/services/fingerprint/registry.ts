import { createHash } from 'node:crypto';
import { EvidentError } from '../../core/index.js';
import { dockerCredentials, type RegistryCredentials } from './docker-config.js';
import { digestToFingerprint, formatReference, parseImageReference, type ImageReference } from './reference.js';

// The fingerprint of an image in a registry is its manifest digest (OCI distribution spec, "Pulling
// manifests": HEAD /v2/<name>/manifests/<reference>, digest in the `Docker-Content-Digest` header), the
// same value `kosli fingerprint -t oci` returns and Kubernetes reports as the running image's digest. The
// Accept header lists every manifest type the spec defines so the registry answers with what it stores
// (a multi-platform image's digest is its index's), as Kosli's RemoteDockerImageSha256 does. A 401 is
// answered per the Docker registry token auth spec: follow `WWW-Authenticate: Bearer realm,service,scope`
// to get a token (anonymously, or with `docker login` credentials) and retry.

export const MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
];

export interface OciOptions {
  /** Talk plain HTTP to the registry (a local or test registry); never for a real one. */
  insecureHttp?: boolean;
  /** Credentials to use instead of those in ~/.docker/config.json. */
  credentials?: RegistryCredentials;
  timeoutMs?: number;
}

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses `Bearer realm="...",service="...",scope="..."` (RFC 7235 auth-params, quoted or not). */
export function parseChallenge(header: string | null): Challenge | undefined {
  const m = header ? /^\s*(\w+)\s*(.*)$/s.exec(header) : null;
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2]!.matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!;
  }
  return { scheme: m[1]!.toLowerCase(), params };
}

const basic = (c: RegistryCredentials) => `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;

async function send(url: string, init: RequestInit, what: string, timeoutMs: number): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    const hint = /SSL|TLS|EPROTO|wrong version/i.test(String(cause?.message ?? why)) ? ' (a plain-HTTP registry needs --registry-insecure)' : '';
    throw new EvidentError('UNAVAILABLE', `cannot reach ${what} (${url}): ${why}${hint}`, { cause: err });
  }
}

async function bearerToken(challenge: Challenge, ref: ImageReference, options: OciOptions, ms: number): Promise<string> {
  const realm = challenge.params.realm;
  let url: URL;
  try {
    url = new URL(realm ?? '');
  } catch {
    throw new EvidentError('UNAVAILABLE', `the registry ${ref.domain} sent a Bearer challenge without a usable realm (${JSON.stringify(realm)})`);
  }
  if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
  url.searchParams.set('scope', challenge.params.scope ?? `repository:${ref.repository}:pull`);
  const creds = options.credentials ?? (await dockerCredentials(ref.domain));
  // Credentials go only to an HTTPS token service, unless plain HTTP was asked for explicitly.
  const headers: Record<string, string> = {};
  if (creds && (url.protocol === 'https:' || options.insecureHttp)) headers.Authorization = basic(creds);
  const res = await send(url.href, { headers }, `the token service of ${ref.domain}`, ms);
  if (res.status === 401 || res.status === 403) {
    throw new EvidentError('UNAUTHENTICATED', `the token service of ${ref.domain} refused ${headers.Authorization ? `the credentials of ${creds!.username || 'the stored login'}` : 'anonymous access'} (${res.status}): run docker login ${ref.domain}, or check the registry permissions`);
  }
  if (!res.ok) throw new EvidentError('UNAVAILABLE', `the token service of ${ref.domain} answered ${res.status}`);
  const body = (await res.json().catch(() => ({}))) as { token?: unknown; access_token?: unknown };
  const token = typeof body.token === 'string' ? body.token : body.access_token;
  if (typeof token !== 'string' || token === '') throw new EvidentError('UNAVAILABLE', `the token service of ${ref.domain} returned no token`);
  return token;
}

/** The manifest digest of an image in its registry, as 64 hex characters. */
export async function fingerprintOci(reference: string, options: OciOptions = {}): Promise<string> {
  const ref = parseImageReference(reference);
  const ms = options.timeoutMs ?? 30_000;
  const name = formatReference(ref);
  const url = `${options.insecureHttp ? 'http' : 'https'}://${ref.apiHost}/v2/${ref.repository}/manifests/${ref.digest ?? ref.tag}`;
  const headers: Record<string, string> = { Accept: MANIFEST_TYPES.join(', ') };
  const what = `the registry ${ref.domain}`;
  let res = await send(url, { method: 'HEAD', headers }, what, ms);
  if (res.status === 401) {
    const challenge = parseChallenge(res.headers.get('www-authenticate'));
    if (challenge?.scheme === 'bearer') headers.Authorization = `Bearer ${await bearerToken(challenge, ref, options, ms)}`;
    else if (challenge?.scheme === 'basic') {
      const creds = options.credentials ?? (await dockerCredentials(ref.domain));
      if (creds) headers.Authorization = basic(creds);
    }
    if (headers.Authorization) res = await send(url, { method: 'HEAD', headers }, what, ms);
  }
  if (res.status === 404) {
    throw new EvidentError('NOT_FOUND', `${what} has no manifest for ${name} (unknown repository, tag or digest)`, {
      details: [{ path: 'IMAGE', message: 'manifest unknown' }],
    });
  }
  if (res.status === 401) throw new EvidentError('UNAUTHENTICATED', `${what} refused access to ${name}: run docker login ${ref.domain}, or pass --registry-username and --registry-password`);
  if (res.status === 403) throw new EvidentError('FORBIDDEN', `${what} forbids access to ${name}`);
  if (res.status === 429) throw new EvidentError('RATE_LIMITED', `${what} is rate limiting requests (429); log in to raise the limit, or retry later`);
  if (!res.ok) throw new EvidentError('UNAVAILABLE', `${what} answered ${res.status} for ${name}`);

  let digest = res.headers.get('docker-content-digest');
  if (!digest) {
    // The header is a SHOULD; without it the digest is that of the manifest bytes as served (OCI spec).
    const body = await send(url, { method: 'GET', headers }, what, ms);
    if (!body.ok) throw new EvidentError('UNAVAILABLE', `${what} answered ${body.status} to GET ${name}`);
    digest = `sha256:${createHash('sha256').update(Buffer.from(await body.arrayBuffer())).digest('hex')}`;
  }
  const fingerprint = digestToFingerprint(digest, what);
  if (ref.digest !== undefined && `sha256:${fingerprint}` !== ref.digest) {
    throw new EvidentError('VERIFICATION_FAILED', `${what} answered ${digest} for ${name}, which pins ${ref.digest}`);
  }
  return fingerprint;
}
