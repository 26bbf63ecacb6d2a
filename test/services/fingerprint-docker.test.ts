import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvidentError } from '../../src/core/index.js';
import { fingerprint, fingerprintDocker, pickRepoDigest } from '../../src/services/index.js';
import { tempDir } from '../helpers/engines.js';

// A fake Docker Engine on a unix socket, answering GET /images/{name}/json with the shapes the real engine
// returns (Docker Engine API, ImageInspect; a 404 carries {"message": "No such image: ..."}).

const ALPINE = 'e15947432b813e8ffa90165da919953e2ce850bef511a0ad1287d7cb86de84b5';
const RUNNER_GHCR = 'a'.repeat(64);
const RUNNER_HUB = 'b'.repeat(64);
const ALPINE_ID = 'sha256:05455a08881ea9cf0e752bc48e61bbd71a34c029bb13df01e40e3e70e0d007bd';

function inspect(id: string, repoTags: string[], repoDigests: string[]) {
  // Trimmed from `curl --unix-socket /var/run/docker.sock http://docker/images/alpine:3.19/json`.
  return {
    Id: id,
    RepoTags: repoTags,
    RepoDigests: repoDigests,
    Parent: '',
    Comment: '',
    Created: '2024-01-27T00:30:48.743965523Z',
    DockerVersion: '20.10.23',
    Author: '',
    Config: { Hostname: '', Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/sh'], Image: '', Labels: null },
    Architecture: 'amd64',
    Os: 'linux',
    Size: 7377902,
    GraphDriver: { Data: { MergedDir: '/var/lib/docker/overlay2/x/merged' }, Name: 'overlay2' },
    RootFS: { Type: 'layers', Layers: ['sha256:d4fc045c9e3a848011de66f34b81f052d4f2c15a17bb196d637e526349601820'] },
    Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
  };
}

const IMAGES: Record<string, object> = {
  'alpine:3.19': inspect(ALPINE_ID, ['alpine:3.19'], [`alpine@sha256:${ALPINE}`]),
  [ALPINE_ID]: inspect(ALPINE_ID, ['alpine:3.19'], [`alpine@sha256:${ALPINE}`]),
  'acme/runner:1.4.2': inspect('sha256:' + 'c'.repeat(64), ['acme/runner:1.4.2', 'ghcr.io/acme/runner:1.4.2'], [`ghcr.io/acme/runner@sha256:${RUNNER_GHCR}`, `acme/runner@sha256:${RUNNER_HUB}`]),
  'ghcr.io/acme/runner:1.4.2': inspect('sha256:' + 'c'.repeat(64), ['acme/runner:1.4.2', 'ghcr.io/acme/runner:1.4.2'], [`ghcr.io/acme/runner@sha256:${RUNNER_GHCR}`, `acme/runner@sha256:${RUNNER_HUB}`]),
  'myapp:dev': inspect('sha256:' + 'd'.repeat(64), ['myapp:dev'], []),
};

const dir = tempDir('evident-docker-');
const socketPath = path.join(dir, 'docker.sock');
const requests: string[] = [];
let server: http.Server;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const m = /^\/images\/(.+)\/json$/.exec(req.url ?? '');
    const body = m ? IMAGES[decodeURIComponent(m[1]!)] : undefined;
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('Api-Version', '1.43');
    if (!m) return res.writeHead(404).end(JSON.stringify({ message: 'page not found' }));
    if (!body) return res.writeHead(404).end(JSON.stringify({ message: `No such image: ${m[1]}` }));
    res.writeHead(200).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  fs.rmSync(dir, { recursive: true, force: true });
});

async function refused(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(EvidentError);
  expect((err as EvidentError).code).toBe(code);
  expect((err as EvidentError).message).toMatch(message);
}

describe('docker fingerprints from the Engine API', () => {
  it("is the image's repo digest, asked for at GET /images/{name}/json", async () => {
    expect(await fingerprintDocker('alpine:3.19', { socketPath })).toBe(ALPINE);
    expect(requests).toContain('GET /images/alpine:3.19/json');
    expect(await fingerprint('alpine:3.19', { type: 'docker', socketPath })).toBe(ALPINE);
  });

  it('picks the repo digest of the repository asked for, when the image was pushed to several', async () => {
    expect(await fingerprintDocker('acme/runner:1.4.2', { socketPath })).toBe(RUNNER_HUB);
    expect(await fingerprintDocker('ghcr.io/acme/runner:1.4.2', { socketPath })).toBe(RUNNER_GHCR);
  });

  it('accepts an image ID', async () => {
    expect(await fingerprintDocker(ALPINE_ID, { socketPath })).toBe(ALPINE);
  });

  it('uses DOCKER_HOST=unix://... when no socket is given', async () => {
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = `unix://${socketPath}`;
    try {
      expect(await fingerprintDocker('alpine:3.19')).toBe(ALPINE);
      process.env.DOCKER_HOST = 'ssh://somewhere';
      await refused(fingerprintDocker('alpine:3.19'), 'INVALID_ARGUMENT', /DOCKER_HOST=ssh:\/\/somewhere is not supported/);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });

  it('an image that was never pushed or pulled has no repo digest: a clear NOT_FOUND', async () => {
    await refused(fingerprintDocker('myapp:dev', { socketPath }), 'NOT_FOUND', /myapp:dev: it has no repo digest, so it was never pushed to or pulled from a registry/);
  });

  it('an image the engine does not have is NOT_FOUND, with the engine\'s message', async () => {
    await refused(fingerprintDocker('nosuch:latest', { socketPath }), 'NOT_FOUND', /no image nosuch:latest \(No such image: nosuch:latest\)/);
  });

  it('no engine is UNAVAILABLE', async () => {
    await refused(fingerprintDocker('alpine:3.19', { socketPath: path.join(dir, 'absent.sock') }), 'UNAVAILABLE', /cannot reach the Docker Engine at unix:\/\/.*absent\.sock: ENOENT/);
  });

  it('a name that cannot be an image is refused before asking', async () => {
    const before = requests.length;
    await refused(fingerprintDocker('Not An Image', { socketPath }), 'INVALID_ARGUMENT', /invalid image reference/);
    await refused(fingerprintDocker('alpine/../../containers/json', { socketPath }), 'INVALID_ARGUMENT', /invalid image reference/);
    expect(requests.length).toBe(before);
  });
});

describe('pickRepoDigest (Kosli extractImageDigestFromRepoDigest, with full-name matching)', () => {
  const d = (c: string) => `sha256:${c.repeat(64)}`;
  it('chooses as Kosli does, matching normalised names', () => {
    expect(pickRepoDigest('anything', [])).toBeUndefined();
    expect(pickRepoDigest('whatever:tag', [`x/y@${d('1')}`])).toBe(d('1'));
    expect(pickRepoDigest('0123456789ab', [`x/y@${d('1')}`, `z@${d('2')}`])).toBe(d('1'));
    const list = [`localhost:5000/app@${d('1')}`, `docker.io/library/app@${d('2')}`];
    expect(pickRepoDigest('app:1', list)).toBe(d('2'));
    expect(pickRepoDigest('library/app', list)).toBe(d('2'));
    expect(pickRepoDigest('localhost:5000/app:1', list)).toBe(d('1'));
    expect(pickRepoDigest('other:1', list)).toBeUndefined();
  });
});
