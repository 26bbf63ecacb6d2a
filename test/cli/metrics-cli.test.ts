import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duration, sinceFlag } from '../../src/cli/commands/metrics.js';
import { createServices, loadLogKey } from '../../src/services/index.js';
import { openStore } from '../../src/store/index.js';
import { evident, startServerProcess, type ServerProcess } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';
import { SteppingClock, buildFixtureOrg } from '../helpers/fixture-org.js';

// `evident metrics dora` on the 32-flow fixture org with its later history in aws-prod (see fixture-org.ts):
// 15 deployments (8 on the first day, then svc-04/08 on t2, svc-09…12, svc-05 again), 5 of them judged by the
// snyk policy and 3 of those non-compliant (svc-09, svc-10, svc-05). The figures are checked in the service tests.
describe('evident metrics dora', () => {
  let server: ServerProcess;
  let env: Record<string, string>;

  beforeAll(async () => {
    const dataDir = tempDir();
    const key = loadLogKey({ dataDir });
    const store = await openStore({ dataDir });
    const clock = new SteppingClock();
    const services = createServices(store, key.signer, { clock });
    const { org } = await services.auth.ensureOrg('default');
    const { secret } = await services.auth.issue(org, { name: 'reader', role: 'reader' });
    await buildFixtureOrg(services, org, { history: clock });
    await store.close();
    server = await startServerProcess(['--data-dir', dataDir]);
    env = { HOME: tempDir('evident-home-'), EVIDENT_HOST: server.url, EVIDENT_ORG: 'default', EVIDENT_API_TOKEN: secret, TZ: 'UTC' };
  }, 120_000);
  afterAll(async () => server?.stop());

  const run = (args: string[]) => evident(['metrics', 'dora', '--environment', 'aws-prod', ...args], env);
  const WINDOW = ['--since', '2024-03-01', '--until', '2024-03-08'];

  it('prints a table per flow with an overall line, and the API body as JSON', async () => {
    const [table, json, oneFlow, relative] = await Promise.all([
      run(WINDOW), run([...WINDOW, '--output', 'json']), run([...WINDOW, '--flow', 'svc-05', '--output', 'json']), run(['--since', '12w', '--output', 'json']),
    ]);
    expect(json.code, json.stderr).toBe(0);
    const body = JSON.parse(json.stdout);
    expect(body.overall).toMatchObject({ deployments: 15, deployments_per_day: 15 / 7, change_failure_rate: { non_compliant: 3, judged: 5, rate: 0.6 } });
    // svc-07 has no commit time: 14 lead times.
    expect(body.overall.lead_time_seconds.count).toBe(14);
    expect(body.flows.map((f: { flow: string }) => f.flow)).toEqual(Array.from({ length: 12 }, (_, i) => `svc-${String(i + 1).padStart(2, '0')}`));
    const byFlow = Object.fromEntries(body.flows.map((f: { flow: string; deployments: number }) => [f.flow, f.deployments]));
    expect(byFlow).toMatchObject({ 'svc-02': 1, 'svc-04': 2, 'svc-05': 2, 'svc-09': 1 });
    expect(body.series).toHaveLength(7);
    expect(body.series.map((b: { deployments: number }) => b.deployments)).toEqual([8, 2, 0, 4, 0, 1, 0]);

    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toBe('DORA metrics of aws-prod from 2024-03-01T00:00:00.000Z to 2024-03-08T00:00:00.000Z');
    expect(lines[1]).toMatch(/^FLOW\s+DEPLOYMENTS\s+PER DAY\s+LEAD TIME MEDIAN\s+LEAD TIME P90\s+CHANGE FAILURE RATE\s+TIME TO RESTORE$/);
    expect(lines.find((l) => l.startsWith('svc-05'))).toMatch(/^svc-05\s+2\s+0\.29\s+(\d+[dhm] ?)+\s+(\d+[dhm] ?)+\s+100% \(1\/1\)\s+- \(1 unrestored\)$/);
    expect(lines.find((l) => l.startsWith('svc-07'))).toMatch(/^svc-07\s+1\s+0\.14\s+-\s+-\s+not judged\s*$/);
    expect(lines.at(-1)).toMatch(/^OVERALL\s+15\s+2\.14\s+\S.*60% \(3\/5\)\s+\S.*$/);
    // Each of the 3 change failures is restored or not.
    expect(body.overall.time_to_restore_seconds.count + body.overall.time_to_restore_seconds.unrestored).toBe(3);
    expect(table.stderr).toContain('1 deployment(s) without a commit time: left out of lead time');

    expect(JSON.parse(oneFlow.stdout)).toMatchObject({ overall: { deployments: 2 }, flows: [{ flow: 'svc-05' }] });
    // The list is paged newest first (default 100: all 15 here); --limit and --cursor walk it, the figures stay whole.
    expect(body.deployments).toHaveLength(15);
    expect(body.next_cursor).toBeNull();
    const first = JSON.parse((await run([...WINDOW, '--output', 'json', '--limit', '10'])).stdout);
    expect([first.deployments.length, first.overall]).toEqual([10, body.overall]);
    const rest = JSON.parse((await run([...WINDOW, '--output', 'json', '--limit', '10', '--cursor', first.next_cursor])).stdout);
    expect([...first.deployments, ...rest.deployments]).toEqual(body.deployments);
    expect(rest.next_cursor).toBeNull();
    // 12 weeks back from now: a window of 84 days (by week), with none of the fixture's 2024 deployments.
    const recent = JSON.parse(relative.stdout);
    expect(Date.parse(recent.until) - Date.parse(recent.since)).toBeCloseTo(84 * 86_400_000, -5);
    expect([recent.bucket, recent.overall.deployments]).toEqual(['week', 0]);
  }, 60_000);

  it('refuses bad input: usage errors exit 2, an unknown environment exits 1', async () => {
    const [reversed, badBucket, badDate, unknown] = await Promise.all([
      run(['--since', '2024-03-08', '--until', '2024-03-01']),
      run(['--bucket', 'month']),
      run(['--since', 'last-week']),
      evident(['metrics', 'dora', '--environment', 'aws-dev'], env),
    ]);
    expect([reversed.code, reversed.stdout]).toEqual([2, '']);
    expect(reversed.stderr).toContain('since: must be before until');
    expect(badBucket.code).toBe(2);
    expect(badBucket.stderr).toContain('--bucket must be day or week, not "month"');
    expect(badDate.code).toBe(2);
    expect(badDate.stderr).toContain('since: must be an RFC 3339 date-time');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('environment "aws-dev" does not exist');
  }, 60_000);

  it('formats durations and relative dates', () => {
    expect([duration(null), duration(45), duration(7500), duration(90_000), duration(86_400), duration(-120)]).toEqual(['-', '45s', '2h 5m', '1d 1h', '1d', '-2m']);
    expect(sinceFlag('30d', Date.parse('2026-12-01T00:00:00Z'))).toBe('2026-11-01T00:00:00.000Z');
    expect(sinceFlag('2w', Date.parse('2026-12-01T00:00:00Z'))).toBe('2026-11-17T00:00:00.000Z');
    expect(sinceFlag('2026-11-01')).toBe('2026-11-01');
  });
});
