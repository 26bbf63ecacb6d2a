import { Check } from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsSchemas } from '../../src/client/index.js';
import { bearer, testApp, type TestApp } from '../helpers/app.js';

const fp = (c: string) => c.repeat(64);

describe('GET /api/v1/orgs/:org/metrics/dora', () => {
  let t: TestApp;
  let reader: string;
  let now = Date.parse('2026-11-02T10:00:00Z');
  const clock = { now: () => new Date(now) };
  const get = (query: string, token = reader) => t.app.inject({ method: 'GET', url: `/api/v1/orgs/acme/metrics/dora?${query}`, headers: bearer(token) });

  beforeAll(async () => {
    t = await testApp({ clock });
    const org = await t.auth.org('acme');
    reader = (await t.auth.issue(org, { name: 'r', role: 'reader' })).secret;
    const s = t.services;
    await s.flows.create(org, { name: 'runner' });
    await s.trails.begin(org, { flow: 'runner', name: 't1' });
    await s.artifacts.report(org, { flow: 'runner', trail: 't1', name: 'runner', fingerprint: fp('1'), gitCommit: 'b'.repeat(40), commitTime: '2026-11-02T09:00:00Z' });
    await s.environments.create(org, { name: 'aws-prod', type: 'ecs' });
    await s.environments.report(org, 'aws-prod', [{ name: 'runner', fingerprint: fp('1'), instances: 2 }, { name: 'db', fingerprint: fp('2'), instances: 1 }]);
    now = Date.parse('2026-11-03T00:00:00Z');
  });
  afterAll(async () => t.close());

  it('answers a reader with the documented shape', async () => {
    const res = await get('environment=aws-prod&since=2026-11-01&until=2026-11-03T00:00:00Z');
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(Check(metricsSchemas.DoraReport, body)).toBe(true);
    expect(body).toMatchObject({
      environment: 'aws-prod', since: '2026-11-01T00:00:00.000Z', until: '2026-11-03T00:00:00.000Z', bucket: 'day',
      overall: { deployments: 2, deployments_per_day: 1, lead_time_seconds: { median: 3600, p90: 3600, count: 1, invalid: 0 }, change_failure_rate: { non_compliant: 0, judged: 0, rate: null } },
      flows: [{ flow: 'runner', deployments: 1, deployments_per_day: 0.5 }],
      series: [
        { start: '2026-11-01T00:00:00.000Z', end: '2026-11-02T00:00:00.000Z', deployments: 0, lead_time_median_seconds: null, by_flow: {} },
        { start: '2026-11-02T00:00:00.000Z', end: '2026-11-03T00:00:00.000Z', deployments: 2, lead_time_median_seconds: 3600, by_flow: { runner: 1 } },
      ],
    });
    // Newest first (snapshot, then fingerprint, descending), one page: next_cursor null.
    const runner = { flow: 'runner', artifact: 'runner', fingerprint: fp('1'), git_commit: 'b'.repeat(40), commit_time: '2026-11-02T09:00:00.000Z', deployed_at: '2026-11-02T10:00:00.000Z', snapshot: 1, lead_time_seconds: 3600, compliant: null };
    const db = { flow: null, artifact: 'db', fingerprint: fp('2'), git_commit: null, commit_time: null, deployed_at: '2026-11-02T10:00:00.000Z', snapshot: 1, lead_time_seconds: null, compliant: null };
    expect(body.deployments).toEqual([db, runner]);
    expect(body.next_cursor).toBeNull();
    // Paged: the same figures on each page, the list continued by the cursor.
    const first = (await get('environment=aws-prod&since=2026-11-01&until=2026-11-03T00:00:00Z&limit=1')).json();
    expect([first.deployments, first.overall]).toEqual([[db], body.overall]);
    const second = (await get(`environment=aws-prod&since=2026-11-01&until=2026-11-03T00:00:00Z&limit=1&cursor=${first.next_cursor}`)).json();
    expect([second.deployments, second.next_cursor, second.series]).toEqual([[runner], null, body.series]);
    // Defaults: the 30 days before now, by day; with a flow only its deployments.
    const defaults = await get('environment=aws-prod&flow=runner&bucket=week');
    expect(defaults.json()).toMatchObject({ since: '2026-10-04T00:00:00.000Z', until: '2026-11-03T00:00:00.000Z', bucket: 'week', overall: { deployments: 1 } });
  });

  it('refuses bad input with 400 and each problem, an unknown environment with 404, no token with 401', async () => {
    const reversed = await get('environment=aws-prod&since=2026-11-05&until=2026-11-01');
    expect(reversed.statusCode).toBe(400);
    expect(reversed.json().error.details).toEqual([{ path: 'since', message: 'must be before until (2026-11-01T00:00:00.000Z), not 2026-11-05T00:00:00.000Z' }]);
    const bad = await get('environment=aws-prod&since=last-tuesday&bucket=month');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.map((d: { path: string }) => d.path)).toEqual(['since', 'bucket']);
    expect((await get('environment=aws-prod&limit=1001')).statusCode).toBe(400);
    expect((await get('environment=aws-prod&cursor=abc')).json().error).toMatchObject({ code: 'INVALID_ARGUMENT', details: [{ path: 'cursor' }] });
    expect((await get('since=2026-11-01')).statusCode).toBe(400);
    const unknown = await get('environment=aws-dev');
    expect([unknown.statusCode, unknown.json().error.message]).toEqual([404, expect.stringContaining('aws-dev')]);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/orgs/acme/metrics/dora?environment=aws-prod' })).statusCode).toBe(401);
  });
});
