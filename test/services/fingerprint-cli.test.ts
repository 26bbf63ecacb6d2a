import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evident } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';

// `evident fingerprint` as users run it: the built binary (npm run build first), spawned.

const scratch = tempDir('evident-fp-cli-');
const home = tempDir('evident-fp-home-');
const env = { HOME: home };
const sha = (data: string) => createHash('sha256').update(data).digest('hex');

function write(rel: string, content: string): string {
  const file = path.join(scratch, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  return file;
}

const tree = path.join(scratch, 'tree');
write('tree/sample.yaml', 'some content. And some more.');
write('tree/nested-dir/file1', 'content1');
write('tree/nested-dir/file2', 'content2');
write('tree/logs/file1', 'content1');
const file = write('hello.txt', 'hello world!');

// A fake registry (token auth with Basic credentials) and a fake Docker Engine on a unix socket.
const MANIFEST = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] });
const DIGEST = sha(MANIFEST);
let registry: http.Server;
let registryHost: string;
let engine: http.Server;
const socket = path.join(scratch, 'docker.sock');

beforeAll(async () => {
  registry = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/token') {
      const ok = req.headers.authorization === `Basic ${Buffer.from('bot:pw').toString('base64')}`;
      return void res.writeHead(ok ? 200 : 401, { 'Content-Type': 'application/json' }).end(ok ? JSON.stringify({ token: 't0k' }) : '{}');
    }
    if (req.headers.authorization !== 'Bearer t0k') {
      return void res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="http://${registryHost}/token",service="fake",scope="repository:team/app:pull"` }).end();
    }
    if (url.pathname !== '/v2/team/app/manifests/1.0') return void res.writeHead(404).end();
    res.writeHead(200, { 'Docker-Content-Digest': `sha256:${DIGEST}`, 'Content-Type': 'application/vnd.oci.image.index.v1+json' }).end();
  });
  await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
  registryHost = `127.0.0.1:${(registry.address() as AddressInfo).port}`;
  fs.mkdirSync(path.join(scratch, 'docker-config'));
  fs.writeFileSync(path.join(scratch, 'docker-config', 'config.json'), JSON.stringify({ auths: { [registryHost]: { auth: Buffer.from('bot:pw').toString('base64') } } }));

  engine = http.createServer((req, res) => {
    if (req.url === '/images/alpine:3.19/json') return void res.writeHead(200).end(JSON.stringify({ Id: 'sha256:' + '0'.repeat(64), RepoDigests: [`alpine@sha256:${'e'.repeat(64)}`] }));
    if (req.url === '/images/local:dev/json') return void res.writeHead(200).end(JSON.stringify({ Id: 'sha256:' + '1'.repeat(64), RepoDigests: [] }));
    res.writeHead(404).end(JSON.stringify({ message: 'No such image: x' }));
  });
  await new Promise<void>((resolve) => engine.listen(socket, resolve));
});
afterAll(async () => {
  await Promise.all([new Promise((r) => registry.close(r)), new Promise((r) => engine.close(r))]);
  fs.rmSync(scratch, { recursive: true, force: true });
  fs.rmSync(home, { recursive: true, force: true });
});

describe('evident fingerprint', () => {
  it('prints only the fingerprint of a file', async () => {
    const r = await evident(['fingerprint', file, '-t', 'file'], env);
    expect(r).toEqual({ code: 0, stdout: '7509e5bda0c762d2bac7f90d758b5b2263fa01ccbc542ab5e3df163be08e6ca9\n', stderr: '' });
  });

  it('fingerprints a directory with repeated or comma-separated excludes (Kosli vector)', async () => {
    const expected = '2acbc9efc1f86f89086a9539244946839599b3639da7f4959744c20234cb4f40\n';
    expect((await evident(['fingerprint', tree, '--artifact-type', 'dir', '-x', 'logs', '--exclude', 'nested-dir/file1'], env)).stdout).toBe(expected);
    expect((await evident(['fingerprint', tree, '-t', 'dir', '-x', 'logs,nested-dir/file1'], env)).stdout).toBe(expected);
  });

  it('--output json gives fingerprint, type and path', async () => {
    const r = await evident(['--output', 'json', 'fingerprint', tree, '-t', 'dir', '-x', 'logs'], env);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ fingerprint: '5d3c17dae9e208bbb92ee04ff8342abf77cb0959764def4af3ccfe9a2109d4a7', type: 'dir', path: tree });
  });

  it('reads the registry digest with docker login credentials (oci, plain HTTP)', async () => {
    const r = await evident(['fingerprint', `${registryHost}/team/app:1.0`, '-t', 'oci', '--registry-insecure'], { ...env, DOCKER_CONFIG: path.join(scratch, 'docker-config') });
    expect(r).toMatchObject({ code: 0, stdout: `${DIGEST}\n` });
    const flags = await evident(['fingerprint', `${registryHost}/team/app:1.0`, '-t', 'oci', '--registry-insecure', '--registry-username', 'bot', '--registry-password', 'pw'], env);
    expect(flags).toMatchObject({ code: 0, stdout: `${DIGEST}\n` });
    const wrong = await evident(['fingerprint', `${registryHost}/team/app:1.0`, '-t', 'oci', '--registry-insecure', '--registry-username', 'bot', '--registry-password', 'no'], env);
    expect(wrong.code).toBe(4);
    const missing = await evident(['fingerprint', `${registryHost}/team/app:2.0`, '-t', 'oci', '--registry-insecure'], { ...env, DOCKER_CONFIG: path.join(scratch, 'docker-config') });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no manifest for/);
  });

  it('reads the repo digest from the Docker Engine named by DOCKER_HOST (docker)', async () => {
    const dockerEnv = { ...env, DOCKER_HOST: `unix://${socket}` };
    expect(await evident(['fingerprint', 'alpine:3.19', '-t', 'docker'], dockerEnv)).toMatchObject({ code: 0, stdout: `${'e'.repeat(64)}\n` });
    const local = await evident(['fingerprint', 'local:dev', '-t', 'docker'], dockerEnv);
    expect(local.code).toBe(1);
    expect(local.stderr).toMatch(/never pushed to or pulled from a registry/);
    const down = await evident(['fingerprint', 'alpine:3.19', '-t', 'docker'], { ...env, DOCKER_HOST: `unix://${scratch}/none.sock` });
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/cannot reach the Docker Engine/);
  });

  it('has help with the artifact types, exclude rules and examples', async () => {
    const r = await evident(['fingerprint', '--help'], env);
    expect(r.code).toBe(0);
    for (const text of ['-t, --artifact-type', '-x, --exclude', '.kosli_ignore', 'Examples:', 'evident fingerprint dist -t dir']) expect(r.stdout).toContain(text);
  });
});

describe('evident fingerprint: errors and exit codes', () => {
  it.each([
    ['no --artifact-type', ['fingerprint', 'x'], /required option '-t, --artifact-type <type>'/],
    ['an unknown type', ['fingerprint', 'x', '-t', 'tarball'], /argument 'tarball' is invalid/],
    ['no PATH', ['fingerprint', '-t', 'file'], /missing required argument 'PATH'/],
    ['a bad glob', ['fingerprint', '.', '-t', 'dir', '-x', 'a['], /exclude pattern "a\[" is not a valid glob/],
    ['--exclude with a file', ['fingerprint', '.', '-t', 'file', '-x', 'a'], /--exclude applies only to --artifact-type dir/],
    ['a directory as a file', ['fingerprint', '.', '-t', 'file'], /is a directory: fingerprint it with --artifact-type dir/],
    ['half the registry credentials', ['fingerprint', 'x', '-t', 'oci', '--registry-username', 'u'], /give both --registry-username and --registry-password/],
    ['a bad image name', ['fingerprint', 'Not An Image', '-t', 'oci'], /invalid image reference/],
  ])('%s: usage error, exit 2', async (_name, args, message) => {
    const r = await evident(args as string[], env);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message as RegExp);
  });

  it('a missing path exits 1 (not found), naming it', async () => {
    const r = await evident(['fingerprint', path.join(scratch, 'nope'), '-t', 'dir'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`no such file or directory: ${path.join(scratch, 'nope')}`);
  });

  it('a broken link in the tree is a usage error naming it', async () => {
    const dir = path.join(scratch, 'broken');
    fs.mkdirSync(dir);
    fs.symlinkSync('missing-target', path.join(dir, 'dangling'));
    const r = await evident(['fingerprint', dir, '-t', 'dir'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${path.join(dir, 'dangling')}: it is a broken symbolic link`);
    expect((await evident(['fingerprint', dir, '-t', 'dir', '-x', 'dangling'], env)).stdout).toBe(`${sha('')}\n`);
  });
});
