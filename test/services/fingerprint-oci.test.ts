import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EvidentError } from '../../src/core/index.js';
import { MANIFEST_TYPES, dockerCredentials, fingerprintOci, parseChallenge, parseImageReference } from '../../src/services/index.js';
import { tempDir } from '../helpers/engines.js';

// A fake registry on 127.0.0.1 (plain HTTP) that behaves as the OCI distribution spec and the Docker token
// auth spec say: manifests need a bearer token; a 401 carries `WWW-Authenticate: Bearer realm,service,scope`;
// the token service (its own /token) gives anonymous tokens for public repositories and wants Basic auth
// for private ones.

const USER = 'ci-bot';
const PASSWORD = 's3cret';
const INDEX = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] });
const MANIFEST = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json', layers: [] });
const digestOf = (body: string) => 'sha256:' + createHash('sha256').update(body).digest('hex');
const REPOS: Record<string, { private: boolean; tags: Record<string, string>; noDigestHeader?: boolean }> = {
  'library/alpine': { private: false, tags: { latest: INDEX, '3.19': MANIFEST } },
  'team/private': { private: true, tags: { '1.0': MANIFEST } },
  'team/plain': { private: false, tags: { v1: INDEX }, noDigestHeader: true },
};

let server: http.Server;
let host: string;
const seen: { method: string; url: string; accept?: string; authorization?: string }[] = [];

function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  seen.push({ method: req.method!, url: req.url!, accept: req.headers.accept, authorization: req.headers.authorization });
  if (url.pathname === '/token') {
    const repo = /^repository:(.+):pull$/.exec(url.searchParams.get('scope') ?? '')?.[1] ?? '';
    const auth = req.headers.authorization;
    const basicOk = auth === `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
    if (url.searchParams.get('service') !== 'fake.registry' || (auth !== undefined && !basicOk) || (REPOS[repo]?.private && !basicOk)) {
      return void res.writeHead(401, { 'Content-Type': 'application/json' }).end(JSON.stringify({ details: 'incorrect username or password' }));
    }
    return void res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token: `tok:${repo}`, access_token: `tok:${repo}`, expires_in: 300 }));
  }
  const m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
  if (!m) return void res.writeHead(404).end();
  const [, repo, ref] = m as unknown as [string, string, string];
  if (req.headers.authorization !== `Bearer tok:${repo}`) {
    res.setHeader('WWW-Authenticate', `Bearer realm="http://${host}/token",service="fake.registry",scope="repository:${repo}:pull"`);
    return void res.writeHead(401, { 'Content-Type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
  }
  const entry = REPOS[repo];
  const body = entry && (entry.tags[ref] ?? Object.values(entry.tags).find((b) => digestOf(b) === ref));
  if (!body) {
    return void res.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
  }
  const headers: Record<string, string> = { 'Content-Type': JSON.parse(body).mediaType, 'Content-Length': String(Buffer.byteLength(body)) };
  if (!entry.noDigestHeader) headers['Docker-Content-Digest'] = digestOf(body);
  res.writeHead(200, headers).end(req.method === 'HEAD' ? undefined : body);
}

const configDir = tempDir('evident-docker-config-');
const savedConfig = process.env.DOCKER_CONFIG;
const writeConfig = (config: object) => fs.writeFileSync(path.join(configDir, 'config.json'), JSON.stringify(config));
const auth = (user: string, password: string) => ({ auth: Buffer.from(`${user}:${password}`).toString('base64') });

beforeAll(async () => {
  server = http.createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env.DOCKER_CONFIG = configDir;
});
beforeEach(() => writeConfig({ auths: { [host]: auth(USER, PASSWORD) } }));
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  if (savedConfig === undefined) delete process.env.DOCKER_CONFIG;
  else process.env.DOCKER_CONFIG = savedConfig;
  fs.rmSync(configDir, { recursive: true, force: true });
});

async function refused(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(EvidentError);
  expect((err as EvidentError).code).toBe(code);
  expect((err as EvidentError).message).toMatch(message);
}
const hex = (body: string) => digestOf(body).slice('sha256:'.length);
const insecureHttp = true;

describe('oci fingerprints: the registry manifest digest', () => {
  it('HEADs the manifest with every Docker and OCI manifest type, after a bearer-token challenge', async () => {
    seen.length = 0;
    expect(await fingerprintOci(`${host}/library/alpine:3.19`, { insecureHttp })).toBe(hex(MANIFEST));
    expect(seen.map((s) => `${s.method} ${s.url.split('?')[0]}`)).toEqual([
      'HEAD /v2/library/alpine/manifests/3.19', 'GET /token', 'HEAD /v2/library/alpine/manifests/3.19',
    ]);
    for (const type of MANIFEST_TYPES) expect(seen[0]!.accept).toContain(type);
    expect(seen[1]!.url).toContain('scope=repository%3Alibrary%2Falpine%3Apull');
  });

  it('anonymous tokens work for public repositories (a tag defaults to latest)', async () => {
    writeConfig({});
    expect(await fingerprintOci(`${host}/library/alpine`, { insecureHttp })).toBe(hex(INDEX));
    expect(seen.findLast((s) => s.url.startsWith('/token'))!.authorization).toBeUndefined();
  });

  it('private repositories use the docker login credentials from $DOCKER_CONFIG/config.json', async () => {
    seen.length = 0;
    expect(await fingerprintOci(`${host}/team/private:1.0`, { insecureHttp })).toBe(hex(MANIFEST));
    expect(seen.find((s) => s.url.startsWith('/token'))!.authorization).toBe(`Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`);
    for (const key of [`http://${host}`, `https://${host}/v2/`]) {
      writeConfig({ auths: { [key]: auth(USER, PASSWORD) } });
      expect(await fingerprintOci(`${host}/team/private:1.0`, { insecureHttp })).toBe(hex(MANIFEST));
    }
  });

  it('explicit credentials win over the config file', async () => {
    writeConfig({ auths: { [host]: auth(USER, 'wrong') } });
    expect(await fingerprintOci(`${host}/team/private:1.0`, { insecureHttp, credentials: { username: USER, password: PASSWORD } })).toBe(hex(MANIFEST));
  });

  it('a credential helper (credsStore) is asked, with the registry on stdin', async () => {
    const bin = tempDir('evident-cred-helper-');
    fs.writeFileSync(
      path.join(bin, 'docker-credential-evtest'),
      `#!/bin/sh\nread server\n[ "$1" = get ] && [ "$server" = "${host}" ] && echo '{"ServerURL":"${host}","Username":"${USER}","Secret":"${PASSWORD}"}' && exit 0\necho "credentials not found in native keychain"; exit 1\n`,
      { mode: 0o755 },
    );
    const savedPath = process.env.PATH;
    process.env.PATH = `${bin}:${savedPath}`;
    try {
      writeConfig({ credsStore: 'evtest' });
      expect(await dockerCredentials(host)).toEqual({ username: USER, password: PASSWORD });
      expect(await fingerprintOci(`${host}/team/private:1.0`, { insecureHttp })).toBe(hex(MANIFEST));
      expect(await dockerCredentials('ghcr.io')).toBeUndefined();
    } finally {
      process.env.PATH = savedPath;
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });

  it('a digest reference returns that digest once the registry confirms it exists', async () => {
    const digest = digestOf(INDEX);
    expect(await fingerprintOci(`${host}/library/alpine@${digest}`, { insecureHttp })).toBe(hex(INDEX));
    await refused(fingerprintOci(`${host}/library/alpine@sha256:${'0'.repeat(64)}`, { insecureHttp }), 'NOT_FOUND', /no manifest/);
  });

  it('without a Docker-Content-Digest header, the digest is that of the manifest bytes (GET)', async () => {
    seen.length = 0;
    expect(await fingerprintOci(`${host}/team/plain:v1`, { insecureHttp })).toBe(hex(INDEX));
    expect(seen.at(-1)!.method).toBe('GET');
  });

  it('an unknown tag or repository is NOT_FOUND', async () => {
    await refused(fingerprintOci(`${host}/library/alpine:9.99`, { insecureHttp }), 'NOT_FOUND', new RegExp(`no manifest for ${host}/library/alpine:9.99`));
    await refused(fingerprintOci(`${host}/nobody/nothing:1`, { insecureHttp }), 'NOT_FOUND', /no manifest/);
  });

  it('refused or missing credentials are UNAUTHENTICATED', async () => {
    writeConfig({ auths: { [host]: auth(USER, 'wrong') } });
    await refused(fingerprintOci(`${host}/team/private:1.0`, { insecureHttp }), 'UNAUTHENTICATED', /refused the credentials of ci-bot/);
    writeConfig({});
    await refused(fingerprintOci(`${host}/team/private:1.0`, { insecureHttp }), 'UNAUTHENTICATED', /refused anonymous access/);
    writeConfig({ auths: { [host]: { auth: Buffer.from('no-colon').toString('base64') } } });
    await refused(fingerprintOci(`${host}/team/private:1.0`, { insecureHttp }), 'INVALID_ARGUMENT', /not base64 of user:password/);
  });

  it('a registry that is not there is UNAVAILABLE; a plain-HTTP one spoken to over HTTPS hints at --registry-insecure', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await refused(fingerprintOci(`127.0.0.1:${port}/library/alpine:3`, { insecureHttp, timeoutMs: 5000 }), 'UNAVAILABLE', new RegExp(`cannot reach the registry 127\\.0\\.0\\.1:${port}.*ECONNREFUSED`));
    await refused(fingerprintOci(`${host}/library/alpine:3.19`, { timeoutMs: 5000 }), 'UNAVAILABLE', /--registry-insecure/);
  });
});

describe('image references (distribution/reference, Docker Hub normalisation)', () => {
  it.each([
    ['alpine', 'docker.io', 'registry-1.docker.io', 'library/alpine', 'latest', undefined],
    ['library/alpine:3.19', 'docker.io', 'registry-1.docker.io', 'library/alpine', '3.19', undefined],
    ['docker.io/alpine', 'docker.io', 'registry-1.docker.io', 'library/alpine', 'latest', undefined],
    ['index.docker.io/library/alpine:3', 'docker.io', 'registry-1.docker.io', 'library/alpine', '3', undefined],
    ['acme/runner:1.4.2', 'docker.io', 'registry-1.docker.io', 'acme/runner', '1.4.2', undefined],
    ['ghcr.io/acme/runner:1.4.2', 'ghcr.io', 'ghcr.io', 'acme/runner', '1.4.2', undefined],
    ['localhost:5000/app', 'localhost:5000', 'localhost:5000', 'app', 'latest', undefined],
    ['localhost/app', 'localhost', 'localhost', 'app', 'latest', undefined],
    [`alpine@sha256:${'ab'.repeat(32)}`, 'docker.io', 'registry-1.docker.io', 'library/alpine', undefined, `sha256:${'ab'.repeat(32)}`],
  ])('%s', (reference, domain, apiHost, repository, tag, digest) => {
    expect(parseImageReference(reference)).toEqual({ domain, apiHost, repository, tag, digest });
  });

  it.each(['', ' alpine', 'Alpine', 'alpine:', 'alpine@sha256:abc', 'alpine@md5:00', 'a//b', 'bad host!/x'])('refuses %j', (reference) => {
    expect(() => parseImageReference(reference)).toThrow(/invalid image reference/);
  });

  it('parses WWW-Authenticate challenges', () => {
    expect(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull' },
    });
    expect(parseChallenge('Basic realm=registry')).toEqual({ scheme: 'basic', params: { realm: 'registry' } });
    expect(parseChallenge(null)).toBeUndefined();
  });
});
