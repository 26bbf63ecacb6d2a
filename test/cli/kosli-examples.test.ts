import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, startServerProcess, type ServerProcess } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';
import { fakeAwsEnv, startFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { startFakeDockerEngine, startFakeKubeApi, type FakeDockerEngine, type FakeKubeApi } from '../helpers/fake-container-platforms.js';
import { EXAMPLES, type KosliExample } from './kosli-examples/examples.js';

// Issue 15: a Kosli pipeline runs unchanged with `kosli` replaced by `evident`. Each of Kosli's documented
// examples (kosli-examples/examples.ts) is run as written by bash, `kosli` on PATH being the built Evident CLI,
// in order against one server; GitHub, GitLab, Bitbucket, Azure DevOps, Kubernetes, Docker and AWS answer on loopback
// with recorded responses. One test per example: an example Evident still does differently (`differs`) must be
// refused with a clear message, never half-done; docs/kosli.md counts and explains them.

const SHA = '16d9990ad23a40eecaf087abac2a58a2d2a4b3f4';
const fixture = (f: string) => fs.readFileSync(path.resolve('test/fixtures', f), 'utf8');

/**
 * GitHub (REST, as GITHUB_API_URL) and GitLab (CI_API_V4_URL) answering with the recorded responses; and an HTTP
 * proxy (--http-proxy): a request in absolute form is forwarded to its target and counted.
 */
function fakeProviders(): Promise<{ url: string; proxied: string[]; close(): void }> {
  const proxied: string[] = [];
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('http://')) {
      proxied.push(`${req.method} ${req.url}`);
      const forward = http.request(req.url, { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      forward.on('error', () => res.writeHead(502).end());
      return void req.pipe(forward);
    }
    const json = (status: number, body: string) => res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    if (req.url === `/gh/repos/cyber-dojo/runner/commits/${SHA}/pulls`) return req.headers.authorization === 'Bearer ghp_test' ? json(200, fixture('pr/github-commit-pulls.json')) : json(401, '{}');
    if (req.url === `/gl/projects/cyber-dojo%2Frunner/repository/commits/${SHA}/merge_requests`) return json(200, fixture('pr/gitlab-commit-mrs.json'));
    if (req.url?.startsWith(`/bb/2.0/repositories/cyber-dojo/runner/commit/${SHA}/pullrequests?`)) return req.headers.authorization === 'Bearer bbtoken' ? json(200, fixture('pr/bitbucket-commit-pullrequests.json')) : json(401, '{}');
    if (req.method === 'POST' && req.url?.startsWith('/az/cyber-dojo-org/cyber-dojo/_apis/git/repositories/runner/pullrequestquery?api-version=')) {
      return req.headers.authorization === `Basic ${Buffer.from(':aztoken').toString('base64')}` ? json(200, fixture('pr/azure-pullrequestquery.json')) : json(401, '{}');
    }
    json(404, '{"message":"Not Found"}');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, proxied, close: () => server.close() })));
}

function bash(command: string, cwd: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    // An example that hangs fails alone, with what it printed so far.
    const timer = setTimeout(() => {
      stderr += `\nerror: timed out after 120 s`;
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ }
    }, 120_000);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

describe("Kosli's documented examples, run as written against Evident", () => {
  let server: ServerProcess;
  let engine: FakeDockerEngine;
  let kube: FakeKubeApi;
  let providers: Awaited<ReturnType<typeof fakeProviders>>;
  let aws: FakeAws;
  const results = new Map<string, { code: number; stdout: string; stderr: string }>();
  const work = tempDir('evident-kosli-examples-');
  let vars: Record<string, string>;

  beforeAll(async () => {
    const awsFixture = (f: string) => JSON.parse(fixture(`aws/${f}`)) as Record<string, Record<string, unknown>[]>;
    [server, engine, kube, providers, aws] = await Promise.all([
      startServerProcess(['--data-dir', tempDir()]), startFakeDockerEngine(), startFakeKubeApi('k8s/pods-all-namespaces.json'), fakeProviders(),
      startFakeAws({ ecs: { prod: awsFixture('ecs/describe-tasks.json').tasks! }, lambda: awsFixture('lambda/list-functions.json').Functions!, s3: { web: { 'site/index.html': '<h1>hi</h1>', 'site/css/a.css': 'body{}', 'config.json': '{}' } } }),
    ]);
    // `kosli` is Evident: the only translation. Started under the name kosli (a symlink to the CLI), as a user
    // installs it: Kosli's exit statuses (1 on every error).
    const bin = tempDir('evident-kosli-bin-');
    fs.mkdirSync(path.join(bin, 'cli'));
    fs.symlinkSync(CLI, path.join(bin, 'cli', 'kosli'));
    fs.writeFileSync(path.join(bin, 'kosli'), `#!/bin/sh\nexec "${process.execPath}" "${path.join(bin, 'cli', 'kosli')}" "$@"\n`, { mode: 0o755 });
    const file = (name: string, text: string) => fs.writeFileSync(path.join(work, name), text);
    file('template.yml', 'version: 1\ntrail:\n  attestations:\n  - name: jira-ticket\n    type: generic\n  artifacts:\n  - name: backend\n    attestations:\n    - name: unit-tests\n      type: junit\n');
    file('user-data.json', '{"pr": 12}');
    file('evidence.txt', 'evidence');
    file('app.tgz', 'the artifact');
    for (const ci of ['gh', 'gl', 'bb']) file(`ci-${ci}.txt`, `built by ${ci}`);
    fs.mkdirSync(path.join(work, 'mydir/logs'), { recursive: true });
    file('mydir/a.txt', 'a');
    file('mydir/logs/x.log', 'log');
    fs.mkdirSync(path.join(work, 'ignoring/build'), { recursive: true });
    file('ignoring/a.txt', 'a');
    file('ignoring/build/out.o', 'object');
    file('ignoring/.kosli_ignore', 'build\n');
    fs.mkdirSync(path.join(work, 'junit'));
    fs.copyFileSync(path.resolve('test/fixtures/junit/pytest.xml'), path.join(work, 'junit/pytest.xml'));
    fs.copyFileSync(path.resolve('test/fixtures/sarif/snyk-open-source.sarif'), path.join(work, 'snyk.sarif'));
    fs.copyFileSync(path.resolve('test/fixtures/policies/kosli-prod-policy.yaml'), path.join(work, 'prod-policy.yml'));
    file('schema.json', '{"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}, "required": ["name", "age"]}');
    file('person.json', '{"name": "Ada", "age": 36}');
    file('scan-schema.json', '{"type": "object", "required": ["critical_count"], "properties": {"critical_count": {"type": "integer"}, "scanner": {"type": "object"}}}');
    file('scan.json', '{"critical_count": 3, "scanner": {"name": "snyk"}}');
    file('paths.yml', 'version: 1\nartifacts:\n  backend:\n    path: app.tgz\n  docs:\n    path: mydir\n    exclude: ["logs"]\n');
    file('kosli.yml', `ORG: default\nAPI_TOKEN: ${server.token}\nHOST: ${server.url}\n`);
    const fp = (await bash('kosli fingerprint --artifact-type file app.tgz', work, { PATH: `${bin}:${process.env.PATH}` })).stdout.trim();
    vars = {
      PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: tempDir('evident-kosli-home-'), FLOW: 'kosli-examples', TRAIL: 'trail-1', ENV: 'k8s-env',
      FP: fp, SHA, PROD_TOKEN: server.token!, KUBECONFIG_FILE: kube.kubeconfig(), DOCKER_HOST: `unix://${engine.socketPath}`,
      GITHUB_API_URL: `${providers.url}/gh`, CI_API_V4_URL: `${providers.url}/gl`, BITBUCKET_API_URL: `${providers.url}/bb/2.0`,
      AZURE_ORG_URL: `${providers.url}/az/cyber-dojo-org`, PROXY_URL: providers.url, KOSLI_V2_REQUESTS: path.resolve('test/cli/kosli-examples/kosli-binary-requests.mjs'), AWS_ENDPOINT_URL: aws.url, ...fakeAwsEnv(),
    };
  }, 60_000);

  afterAll(async () => {
    providers?.close();
    await Promise.all([server?.stop(), engine?.close(), kube?.close(), aws?.close()]);
  });

  const envFor = (example: KosliExample): Record<string, string> => {
    const extra = Object.fromEntries(Object.entries(example.env ?? {}).map(([k, v]) => [k, v.replace(/\$\{(\w+)\}/g, (_m, name: string) => vars[name] ?? '')]));
    const kosli = extra.NO_EVIDENT_VARS ? {} : { KOSLI_HOST: server.url, ...(extra.USE_KOSLI_VARS ? { KOSLI_ORG: 'default', KOSLI_API_TOKEN: server.token! } : {}) };
    return { ...vars, ...kosli, ...extra };
  };

  // The examples build on each other (a flow, then a trail, then artifacts...), as a pipeline does, so they all
  // run first: the writes in their documented order in three independent chains at once (records; environments,
  // snapshots and policies; the global conventions); the reads (get, list, log, diff, search, fingerprint) then
  // four at a time over what the writes recorded. Each example's test then judges its own result.
  beforeAll(async () => {
    const trace = process.env.KOSLI_REPLAY_TRACE;
    const run = async ([name, example]: [string, KosliExample]) => {
      const started = Date.now();
      const res = await bash(example.command, work, envFor(example));
      results.set(name, res);
      // A trace of what ran, for a person reading a slow or failing replay (KOSLI_REPLAY_TRACE=FILE).
      if (trace) fs.appendFileSync(trace, `${Date.now() - started}ms\t${res.code}\t${name}\t${res.stderr.trim().split('\n').at(-1) ?? ''}\n`);
    };
    const isRead = ([, e]: [string, KosliExample]) => /^(ID=\$\()?kosli (get|list|log|diff|search|fingerprint) /.test(e.command);
    const chainOf = ([name, e]: [string, KosliExample]) =>
      /^kosli (create environment|create policy|attach-policy|detach-policy|snapshot|allow|expect|archive environment|assert snapshot|tag env)/.test(e.command) ? 1
        : /dry|DRY_RUN|config|max-api-retries|^-D$/.test(name) ? 2 : 0;
    const all = Object.entries(EXAMPLES);
    const writes = all.filter((e) => !isRead(e));
    await Promise.all([0, 1, 2].map(async (chain) => {
      for (const example of writes.filter((e) => chainOf(e) === chain)) await run(example);
    }));
    const reads = all.filter(isRead);
    await Promise.all(Array.from({ length: 4 }, async () => {
      for (let next = reads.shift(); next; next = reads.shift()) await run(next);
    }));
  }, 900_000);

  for (const [name, example] of Object.entries(EXAMPLES)) {
    const title = `${example.convention ? 'convention' : 'example'}: ${name}${example.differs ? ` (differs: ${example.differs})` : ''}`;
    it(title, () => {
      const res = results.get(name)!;
      const why = `${example.command}\nexit ${res.code}\nstderr: ${res.stderr.slice(0, 600)}\nstdout: ${res.stdout.slice(0, 300)}`;
      if (example.differs) {
        // Refused, and said so: never a silent success or a half-done write.
        expect(res.code, why).not.toBe(0);
        expect(res.stderr, why).toMatch(/error/i);
        return;
      }
      expect(res.code, why).toBe(example.code ?? 0);
      if (example.stdout) expect(res.stdout, why).toMatch(example.stdout);
    });
  }

  it('--http-proxy: the requests went through the proxy', () => {
    expect(providers.proxied.some((r) => r.startsWith(`GET ${server.url}/api/v1/orgs/default/flows`))).toBe(true);
  });

  it('asserts every convention of the report (section 2: 25 rows)', () => {
    expect(Object.values(EXAMPLES).filter((e) => e.convention).length).toBeGreaterThanOrEqual(25);
  });
});
