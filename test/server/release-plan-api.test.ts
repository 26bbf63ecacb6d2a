import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, testApp, type TestApp } from '../helpers/app.js';

const fp = (c: string) => c.repeat(64);
const OLD = '65827d7aa09d9d40eca4210dfeef4d162cf32c1f';
const NEW = '6e191a0a86cf3d264955c4910bc3b9df518c4bcd';
const SAVER_OLD = fp('1');
const SAVER_NEW = fp('2');
const DIFFER_OLD = fp('3');
const DIFFER_NEW = fp('4');
const WEB = fp('5');
const NGINX = fp('6');
const UNKNOWN = fp('7');
const SAVER_OLDER = fp('8');

describe('GET /api/v1/orgs/:org/release-plan', () => {
  let t: TestApp;
  let reader: string;
  beforeAll(async () => {
    t = await testApp();
    reader = (await t.auth.issue(await t.auth.org('acme'), { name: 'r', role: 'reader' })).secret;
    const send = async (method: 'POST' | 'PUT', url: string, payload: object) => {
      const res = await t.app.inject({ method, url: `/api/v1/orgs/acme${url}`, headers: bearer(t.adminToken), payload });
      expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(300);
    };
    const artifact = async (flow: string, repo: string, sha: string, fingerprint: string) => {
      await send('POST', `/flows/${flow}/trails`, { name: `${sha.slice(0, 7)}-${fingerprint.slice(0, 4)}` });
      await send('POST', `/flows/${flow}/trails/${sha.slice(0, 7)}-${fingerprint.slice(0, 4)}/artifacts`, {
        name: flow, display_name: `${flow}:${sha.slice(0, 7)}`, fingerprint, git_commit: sha, commit_url: `${repo}/commit/${sha}`,
      });
    };
    for (const flow of ['saver-ci', 'differ-ci', 'web', 'nginx']) await send('POST', '/flows', { name: flow });
    await artifact('saver-ci', 'https://github.com/cyber-dojo/saver', OLD, SAVER_OLD);
    await artifact('saver-ci', 'https://github.com/cyber-dojo/saver', NEW, SAVER_NEW);
    await artifact('saver-ci', 'https://github.com/cyber-dojo/saver', OLD, SAVER_OLDER);
    await artifact('differ-ci', 'https://gitlab.com/cyber-dojo/differ/-', OLD, DIFFER_OLD);
    await artifact('differ-ci', 'https://gitlab.com/cyber-dojo/differ/-', NEW, DIFFER_NEW);
    await artifact('web', 'https://github.com/cyber-dojo/web', OLD, WEB);
    await artifact('nginx', 'https://github.com/cyber-dojo/nginx', NEW, NGINX);
    for (const name of ['aws-beta', 'aws-prod', 'beta-eu', 'green']) await send('POST', '/environments', { name, type: 'ecs' });
    await send('POST', '/environments', { name: 'beta-all', type: 'logical', included_environments: ['aws-beta', 'beta-eu'] });
    const report = (env: string, ...fps: string[]) => send('PUT', `/environments/${env}/snapshot`, { artifacts: fps.map((f, i) => ({ name: `image-${i}`, fingerprint: f, instances: 1 })) });
    await report('aws-beta', SAVER_NEW, DIFFER_NEW, WEB, NGINX, UNKNOWN);
    await report('beta-eu', SAVER_NEW, WEB);
    await report('aws-prod', SAVER_OLD, DIFFER_OLD, WEB);
    await report('green', SAVER_OLD, SAVER_OLDER, WEB);
  });
  afterAll(async () => t.close());

  const plan = (query: string, token = reader) => t.app.inject({ method: 'GET', url: `/api/v1/orgs/acme/release-plan?${query}`, headers: bearer(token) });

  it('plans incoming and outgoing by flow, with unchanged, unmatched and the snapshots it read', async () => {
    const res = await plan('from=aws-beta&to=aws-prod');
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.from).toMatchObject({ environment: 'aws-beta', snapshot: 1 });
    expect(body.to).toMatchObject({ environment: 'aws-prod', snapshot: 1 });
    expect(body.items.map((i: { incoming_flow: string }) => i.incoming_flow)).toEqual(['differ-ci', 'nginx', 'saver-ci']);
    const [differ, nginx, saver] = body.items;
    expect(saver).toEqual({
      incoming_name: 'image-0', incoming_fingerprint: SAVER_NEW, incoming_flow: 'saver-ci', incoming_commit_url: `https://github.com/cyber-dojo/saver/commit/${NEW}`,
      incoming_repo_name: 'saver', incoming_commit_sha: NEW,
      outgoing_name: 'image-0', outgoing_fingerprint: SAVER_OLD, outgoing_flow: 'saver-ci', outgoing_commit_url: `https://github.com/cyber-dojo/saver/commit/${OLD}`,
      outgoing_repo_name: 'saver', outgoing_commit_sha: OLD,
      deployment_diff_url: `https://github.com/cyber-dojo/saver/compare/${OLD}...${NEW}`,
    });
    expect(differ.deployment_diff_url).toBe(`https://gitlab.com/cyber-dojo/differ/-/compare/${OLD}...${NEW}`);
    expect(nginx).toMatchObject({ incoming_fingerprint: NGINX, outgoing_fingerprint: null, deployment_diff_url: null });
    expect(body.unchanged).toEqual([{ flow: 'web', name: 'image-2', fingerprint: WEB, git_commit: OLD }]);
    expect(body.unmatched).toEqual([{ environment: 'aws-beta', name: 'image-4', fingerprint: UNKNOWN }]);
    expect(body.in_progress).toEqual([]);
  });

  it('plans from a logical environment: the union of what its environments run', async () => {
    const body = (await plan('from=beta-all&to=aws-prod')).json();
    expect(body.from).toEqual({ environment: 'beta-all', snapshot: null, timestamp: null });
    expect(body.items.map((i: { incoming_fingerprint: string }) => i.incoming_fingerprint)).toEqual([DIFFER_NEW, NGINX, SAVER_NEW]);
  });

  it('names the flows with a deployment in progress, and plans them only when allowed', async () => {
    const held = (await plan('from=aws-beta&to=green')).json();
    expect(held.in_progress).toEqual([{ flow: 'saver-ci', environment: 'green', fingerprints: [SAVER_OLD, SAVER_OLDER] }]);
    expect(held.items.map((i: { incoming_flow: string }) => i.incoming_flow)).toEqual(['differ-ci', 'nginx']);
    const allowed = (await plan('from=aws-beta&to=green&allow_in_progress=true')).json();
    expect(allowed.in_progress).toHaveLength(1);
    expect(allowed.items.map((i: { incoming_flow: string }) => i.incoming_flow)).toEqual(['differ-ci', 'nginx', 'saver-ci']);
    // Both of green's saver-ci fingerprints started in its snapshot 1: the tie goes to the lower fingerprint.
    expect(allowed.items[2]).toMatchObject({ incoming_fingerprint: SAVER_NEW, outgoing_fingerprint: SAVER_OLD });
  });

  it('answers 404 for an unknown environment and 400 for missing, malformed or identical environments', async () => {
    const unknown = await plan('from=aws-beta&to=nowhere');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.message).toMatch(/nowhere/);
    const missing = await plan('from=aws-beta');
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.details).toEqual([expect.objectContaining({ path: 'querystring/to' })]);
    expect((await plan('to=aws-prod')).statusCode).toBe(400);
    expect((await plan(`from=${encodeURIComponent('aws-beta#1')}&to=aws-prod`)).statusCode).toBe(400);
    expect((await plan('from=aws-prod&to=aws-prod')).statusCode).toBe(400);
  });

  it('needs a token of the organisation', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/orgs/acme/release-plan?from=aws-beta&to=aws-prod' })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/orgs/other/release-plan?from=aws-beta&to=aws-prod', headers: bearer(reader) })).statusCode).toBe(403);
  });

  it('is documented in the OpenAPI document', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    const op = doc.paths['/api/v1/orgs/{org}/release-plan']?.get;
    expect(op?.tags).toContain('releases');
    expect(op?.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['from', 'to', 'allow_in_progress']));
  });
});
