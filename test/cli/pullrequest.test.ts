import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evident, startServerProcess, type ServerProcess } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';

const SHA = '16d9990ad23a40eecaf087abac2a58a2d2a4b3f4';
const EMPTY = 'ffffffffffffffffffffffffffffffffffffffff';
const fixture = (f: string) => fs.readFileSync(path.resolve('test/fixtures/pr', f), 'utf8');

/** GitHub and GitLab on loopback, answering with recorded real responses and checking the token. */
function fakeProviders(): Promise<{ url: string; seen: string[]; close(): void }> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? req.headers['private-token'] ?? '-'}`);
    const json = (status: number, body: string) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(body); };
    if (req.url === `/gh/repos/cyber-dojo/runner/commits/${SHA}/pulls`) return req.headers.authorization === 'Bearer ghp_test' ? json(200, fixture('github-commit-pulls.json')) : json(401, '{"message":"Bad credentials"}');
    if (req.url === `/gh/repos/cyber-dojo/runner/commits/${EMPTY}/pulls`) return json(200, '[]');
    if (req.url === `/gl/projects/cyber-dojo%2Frunner/repository/commits/${SHA}/merge_requests`) return req.headers['private-token'] === 'glpat-test' ? json(200, fixture('gitlab-commit-mrs.json')) : json(401, '{"message":"401 Unauthorized"}');
    json(404, '{"message":"Not Found"}');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close: () => server.close() })));
}

describe('evident attest pullrequest github|gitlab', () => {
  let server: ServerProcess;
  let providers: Awaited<ReturnType<typeof fakeProviders>>;
  let env: Record<string, string>;
  beforeAll(async () => {
    providers = await fakeProviders();
    server = await startServerProcess(['--data-dir', tempDir()]);
    env = { HOME: tempDir('evident-home-'), EVIDENT_HOST: server.url, EVIDENT_ORG: 'default', EVIDENT_API_TOKEN: server.token! };
    await evident(['create', 'flow', 'runner'], env);
    await evident(['begin', 'trail', SHA, '--flow', 'runner'], env);
  }, 60_000);
  afterAll(async () => {
    providers?.close();
    await server?.stop();
  });

  const common = ['--name', 'pr', '--flow', 'runner', '--trail', SHA];

  it('finds GitHub pull requests with the token and records them, compliant', async () => {
    const res = await evident(['attest', 'pullrequest', 'github', ...common, '--commit', SHA, '--repository', 'cyber-dojo/runner', '--base-url', `${providers.url}/gh`, '--output', 'json'], { ...env, GITHUB_TOKEN: 'ghp_test' });
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({
      type: 'pull_request', compliant: true,
      summary: { provider: 'github', repository: 'cyber-dojo/runner', pull_requests: [{ url: 'https://github.com/cyber-dojo/runner/pull/163', number: 163, state: 'merged', author: 'JonJagger' }] },
    });
    expect(providers.seen).toContain(`GET /gh/repos/cyber-dojo/runner/commits/${SHA}/pulls Bearer ghp_test`);
  });

  it('finds GitLab merge requests', async () => {
    const res = await evident(['attest', 'pullrequest', 'gitlab', ...common, '--commit', SHA, '--repository', 'cyber-dojo/runner', '--base-url', `${providers.url}/gl`, '--token', 'glpat-test', '--output', 'json'], env);
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout).summary.pull_requests[0]).toMatchObject({ number: 42, state: 'merged', author: 'jon', url: 'https://gitlab.com/cyber-dojo/runner/-/merge_requests/42' });
  });

  it('records none as non-compliant, and --assert exits 1', async () => {
    const args = ['attest', 'pullrequest', 'github', ...common, '--commit', EMPTY, '--repository', 'cyber-dojo/runner', '--base-url', `${providers.url}/gh`];
    const none = await evident([...args, '--output', 'json'], env);
    expect(none.code).toBe(0);
    expect(JSON.parse(none.stdout).compliant).toBe(false);
    const asserted = await evident([...args, '--assert'], env);
    expect(asserted.code).toBe(1);
    expect(asserted.stderr).toMatch(/no pull request contains commit/);
  });

  it('reads a saved answer with --from-file, and reports provider errors clearly', async () => {
    const file = path.resolve('test/fixtures/pr/github-commit-pulls.json');
    const saved = await evident(['attest', 'pullrequest', 'github', ...common, '--commit', SHA, '--repository', 'cyber-dojo/runner', '--from-file', file], env);
    expect(saved.code, saved.stderr).toBe(0);
    const badToken = await evident(['attest', 'pullrequest', 'github', ...common, '--commit', SHA, '--repository', 'cyber-dojo/runner', '--base-url', `${providers.url}/gh`, '--token', 'wrong'], env);
    expect(badToken.code).toBe(4);
    expect(badToken.stderr).toMatch(/GitHub refused the token/);
    const missing = await evident(['attest', 'pullrequest', 'github', ...common, '--commit', SHA, '--repository', 'nobody/nothing', '--base-url', `${providers.url}/gh`], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/not found/);
    expect((await evident(['attest', 'pullrequest', 'github', ...common, '--commit', SHA, '--repository', 'bad repo'], env)).code).toBe(2);
  });
});
