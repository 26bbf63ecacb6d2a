import http from 'node:http';
import { EvidentError } from '../../core/index.js';
import { digestToFingerprint, parseImageReference, type ImageReference } from './reference.js';

// The fingerprint of a local Docker image is its repo digest (the registry manifest digest recorded when
// the image was pushed or pulled), as `kosli fingerprint -t docker` reports it (Kosli CLI
// `internal/digest` DockerImageSha256). It comes from the Docker Engine API, `GET /images/{name}/json`
// (field `RepoDigests`), over the engine's unix socket. The image ID is not used: it names the local
// config blob, which no registry and no deployment environment reports.

export interface DockerOptions {
  /** The engine's unix socket; default from DOCKER_HOST=unix://..., else /var/run/docker.sock. */
  socketPath?: string;
  timeoutMs?: number;
}

export interface Endpoint {
  socketPath?: string;
  host?: string;
  port?: number;
  display: string;
}

export function endpoint(options: DockerOptions): Endpoint {
  if (options.socketPath) return { socketPath: options.socketPath, display: `unix://${options.socketPath}` };
  const env = process.env.DOCKER_HOST;
  if (!env) return { socketPath: '/var/run/docker.sock', display: 'unix:///var/run/docker.sock' };
  if (env.startsWith('unix://')) return { socketPath: env.slice('unix://'.length), display: env };
  const tcp = /^tcp:\/\/([^/:]+|\[[^\]]+\])(?::(\d+))?\/?$/.exec(env);
  if (tcp && !process.env.DOCKER_TLS_VERIFY) return { host: tcp[1]!.replace(/^\[|\]$/g, ''), port: Number(tcp[2] ?? 2375), display: env };
  throw new EvidentError('INVALID_ARGUMENT', `DOCKER_HOST=${env} is not supported: use unix:///path/to/docker.sock or tcp://host:port without TLS`, {
    details: [{ path: 'DOCKER_HOST', message: 'unsupported scheme' }],
  });
}

export function get(ep: Endpoint, path: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath: ep.socketPath, host: ep.host ?? 'localhost', port: ep.port, path, method: 'GET', headers: { Accept: 'application/json' }, timeout: timeoutMs },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end();
  });
}

export function unreachable(err: unknown, ep: Endpoint): EvidentError {
  const code = (err as NodeJS.ErrnoException).code;
  const hint =
    code === 'EACCES'
      ? 'permission denied on the socket (is this user in the docker group?)'
      : `${code ?? (err as Error).message}: is Docker running? (set DOCKER_HOST to another engine)`;
  return new EvidentError('UNAVAILABLE', `cannot reach the Docker Engine at ${ep.display}: ${hint}`, { cause: err });
}

export function engineMessage(body: string): string {
  try {
    const message = (JSON.parse(body) as { message?: unknown }).message;
    if (typeof message === 'string') return message;
  } catch {
    // not JSON: use the text
  }
  return body.trim().slice(0, 200);
}

const IMAGE_ID = /^(?:sha256:)?[a-f0-9]{12,64}$/;

/**
 * Picks the digest of `requested` from an image's RepoDigests (`repo@sha256:...`, one per repository the
 * image was pushed to or pulled from). Like Kosli: a single entry is the answer, and an image ID picks the
 * first; otherwise the entry whose repository matches the requested one (names compared in full, so
 * `alpine` matches `docker.io/library/alpine`).
 */
export function pickRepoDigest(requested: string, repoDigests: readonly string[]): string | undefined {
  if (repoDigests.length === 0) return undefined;
  const digestOf = (entry: string) => entry.slice(entry.lastIndexOf('@') + 1);
  if (repoDigests.length === 1 || IMAGE_ID.test(requested)) return digestOf(repoDigests[0]!);
  let wanted: ImageReference;
  try {
    wanted = parseImageReference(requested);
  } catch {
    return undefined;
  }
  const candidates = repoDigests.filter((entry) => {
    try {
      const ref = parseImageReference(entry);
      return ref.domain === wanted.domain && ref.repository === wanted.repository;
    } catch {
      return false;
    }
  });
  const exact = wanted.digest === undefined ? undefined : candidates.find((e) => digestOf(e) === wanted.digest);
  const chosen = exact ?? candidates[0];
  return chosen === undefined ? undefined : digestOf(chosen);
}

/** The repo digest of a local image, as 64 hex characters. */
export async function fingerprintDocker(image: string, options: DockerOptions = {}): Promise<string> {
  if (!IMAGE_ID.test(image)) parseImageReference(image); // refuses what cannot be an image name
  const ep = endpoint(options);
  // The engine routes /images/{name:.*}/json, so a repository's slashes stay as they are; a validated
  // reference has no character that needs escaping in a URL path.
  const path = `/images/${image}/json`;
  let res: { status: number; body: string };
  try {
    res = await get(ep, path, options.timeoutMs ?? 30_000);
  } catch (err) {
    throw unreachable(err, ep);
  }
  if (res.status === 404) {
    throw new EvidentError('NOT_FOUND', `the Docker Engine has no image ${image} (${engineMessage(res.body)}): pull or build it first`, {
      details: [{ path: 'IMAGE', message: 'no such image' }],
    });
  }
  if (res.status === 400) throw new EvidentError('INVALID_ARGUMENT', `the Docker Engine refused ${image}: ${engineMessage(res.body)}`);
  if (res.status !== 200) throw new EvidentError('UNAVAILABLE', `the Docker Engine answered ${res.status}: ${engineMessage(res.body)}`);
  let repoDigests: unknown;
  try {
    repoDigests = (JSON.parse(res.body) as { RepoDigests?: unknown }).RepoDigests ?? [];
  } catch (err) {
    throw new EvidentError('UNAVAILABLE', `the Docker Engine answered with invalid JSON for ${image}`, { cause: err });
  }
  const list = Array.isArray(repoDigests) ? repoDigests.filter((d): d is string => typeof d === 'string') : [];
  const digest = pickRepoDigest(image, list);
  if (digest === undefined) {
    const why = list.length === 0
      ? 'it has no repo digest, so it was never pushed to or pulled from a registry: push it (docker push) and fingerprint it again, or use --artifact-type oci'
      : `none of its repo digests is for this name (${list.join(', ')})`;
    throw new EvidentError('NOT_FOUND', `cannot fingerprint the Docker image ${image}: ${why}`, {
      details: [{ path: 'IMAGE', message: list.length === 0 ? 'no repo digest' : 'no repo digest for this name' }],
    });
  }
  return digestToFingerprint(digest, `the Docker Engine (RepoDigests of ${image})`);
}
