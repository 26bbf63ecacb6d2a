import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evident, startServerProcess, type ServerProcess } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';

const OLD = '65827d7aa09d9d40eca4210dfeef4d162cf32c1f';
const NEW = '6e191a0a86cf3d264955c4910bc3b9df518c4bcd';
const NEWEST = 'fa32058e3b2c7f1d0a9e8b7c6d5e4f3a2b1c0d9e';
const SAVER_OLD = 'cd8e30cf2027bce856d2b65c827afcbc0370f6e1a56c80514d4af2719df5c12f';
const SAVER_NEW = 'b3237b0e615e7041c23433faeee0bacd6ec893e89ae8899536433e4d27a5b6ef';
const SAVER_NEWEST = '0fd1eae4a2ab75d4d08106f86af3945a9e95b60693a4b9e4e44b59cc5887fdd1';
const NGINX = 'a'.repeat(64);
const UNKNOWN = 'b'.repeat(64);
const REPO = 'https://github.com/cyber-dojo/saver';

describe('evident release plan (seed 001)', () => {
  let server: ServerProcess;
  let env: Record<string, string>;
  // Set-up goes straight to the HTTP API: spawning the CLI for each record would be slow, and it is not under test here.
  const api = async (method: 'POST' | 'PUT', url: string, body: object) => {
    const res = await fetch(`${server.url}/api/v1/orgs/default${url}`, {
      method, headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    expect(res.status, `${method} ${url}: ${await res.clone().text()}`).toBeLessThan(300);
  };
  const report = (environment: string, artifacts: [string, string][]) =>
    api('PUT', `/environments/${environment}/snapshot`, { artifacts: artifacts.map(([name, fingerprint]) => ({ name, fingerprint, instances: 1 })) });
  beforeAll(async () => {
    server = await startServerProcess(['--data-dir', tempDir()]);
    env = { HOME: tempDir('evident-home-'), EVIDENT_HOST: server.url, EVIDENT_ORG: 'default', EVIDENT_API_TOKEN: server.token! };
    const attest = async (flow: string, fingerprint: string, sha: string, repo = REPO) => {
      const trail = `${sha.slice(0, 7)}-${fingerprint.slice(0, 4)}`;
      await api('POST', `/flows/${flow}/trails`, { name: trail });
      await api('POST', `/flows/${flow}/trails/${trail}/artifacts`, { name: flow, fingerprint, git_commit: sha, commit_url: `${repo}/commit/${sha}` });
    };
    for (const name of ['saver-ci', 'nginx']) await api('POST', '/flows', { name });
    await attest('saver-ci', SAVER_OLD, OLD);
    await attest('saver-ci', SAVER_NEW, NEW);
    await attest('saver-ci', SAVER_NEWEST, NEWEST);
    await attest('nginx', NGINX, NEW, 'https://github.com/cyber-dojo/nginx');
    for (const name of ['aws-beta', 'aws-prod', 'empty']) await api('POST', '/environments', { name, type: 'ecs' });
    await report('aws-beta', [['saver:6e191a0', SAVER_NEW], ['nginx:6e191a0', NGINX], ['mystery', UNKNOWN]]);
    await report('aws-prod', [['saver:65827d7', SAVER_OLD]]);
  }, 60_000);
  afterAll(async () => server?.stop());

  it('prints only the matrix for strategy.matrix.include, on one line, with the unmatched artifact on stderr', async () => {
    const res = await evident(['release', 'plan', 'aws-beta', 'aws-prod', '--output', 'json'], env);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.trimEnd().split('\n')).toHaveLength(1);
    const matrix = JSON.parse(res.stdout);
    expect(matrix).toEqual([
      expect.objectContaining({ incoming_flow: 'nginx', incoming_fingerprint: NGINX, incoming_repo_name: 'nginx', outgoing_fingerprint: null, deployment_diff_url: null }),
      {
        incoming_name: 'saver:6e191a0', incoming_fingerprint: SAVER_NEW, incoming_flow: 'saver-ci', incoming_commit_url: `${REPO}/commit/${NEW}`,
        incoming_repo_name: 'saver', incoming_commit_sha: NEW,
        outgoing_name: 'saver:65827d7', outgoing_fingerprint: SAVER_OLD, outgoing_flow: 'saver-ci', outgoing_commit_url: `${REPO}/commit/${OLD}`,
        outgoing_repo_name: 'saver', outgoing_commit_sha: OLD,
        deployment_diff_url: `${REPO}/compare/${OLD}...${NEW}`,
      },
    ]);
    expect(res.stderr).toMatch(new RegExp(`mystery \\(${UNKNOWN}\\) in aws-beta has no flow`));
  });

  it('shows flow, outgoing -> incoming and the diff URL as a table', async () => {
    const res = await evident(['release', 'plan', 'aws-beta', 'aws-prod'], env);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^FLOW +OUTGOING \(aws-prod\) +INCOMING \(aws-beta\) +DIFF$/m);
    expect(res.stdout).toMatch(new RegExp(`^saver-ci +cd8e30cf2027 65827d7 +-> +b3237b0e615e 6e191a0 +${REPO}/compare/${OLD}\\.\\.\\.${NEW}$`, 'm'));
    expect(res.stdout).toMatch(/^nginx +\(first deployment\) +-> +aaaaaaaaaaaa 6e191a0 +-$/m);
    expect(res.stdout).toMatch(/^Unchanged: 0 flow\(s\)$/m);
    expect(res.stdout).toMatch(/^ {2}mystery bbbbbbbbbbbb in aws-beta$/m);
  });

  it('refuses with exit 1, naming the flow, environment and fingerprints, while a deployment is in progress', async () => {
    await report('aws-beta', [['saver:6e191a0', SAVER_NEW], ['saver:fa32058', SAVER_NEWEST], ['nginx:6e191a0', NGINX]]);
    const res = await evident(['release', 'plan', 'aws-beta', 'aws-prod', '--output', 'json'], env);
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain('deployment in progress');
    expect(res.stderr).toContain(`saver-ci in aws-beta: ${SAVER_NEWEST}, ${SAVER_NEW}`);
  });

  it('with --allow-in-progress, promotes the version FROM started last', async () => {
    const res = await evident(['release', 'plan', 'aws-beta', 'aws-prod', '--allow-in-progress', '--output', 'json'], env);
    expect(res.code, res.stderr).toBe(0);
    const saver = JSON.parse(res.stdout).find((i: { incoming_flow: string }) => i.incoming_flow === 'saver-ci');
    expect(saver).toMatchObject({ incoming_fingerprint: SAVER_NEWEST, incoming_commit_sha: NEWEST, outgoing_fingerprint: SAVER_OLD });
    expect(res.stderr).toMatch(/warning: planned despite a deployment in progress/);
  });

  it('prints [] when there is nothing to release, and fails on an unknown environment or a missing one', async () => {
    // An environment never reported to runs nothing: nothing to promote from it.
    const same = await evident(['release', 'plan', 'empty', 'aws-prod', '--output', 'json'], env);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toBe('[]\n');
    const unknown = await evident(['release', 'plan', 'aws-beta', 'nowhere'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/nowhere/);
    expect((await evident(['release', 'plan', 'aws-beta'], env)).code).toBe(2);
  });

  it('explains itself in --help, with the GitHub Actions use', async () => {
    const res = await evident(['release', 'plan', '--help']);
    expect(res.code).toBe(0);
    // Written to a file first: `echo "matrix=$(…)"` would hide a refusal (exit 1) from the job.
    expect(res.stdout).toContain('evident release plan aws-beta aws-prod --output json > plan.json');
    expect(res.stdout).toContain('echo "matrix=$(cat plan.json)" >> "$GITHUB_OUTPUT"');
    expect(res.stdout).toContain('--allow-in-progress');
  });
});
