import crypto from 'node:crypto';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { metricsSchemas } from '../../src/client/index.js';
import { launchBrowser, screenshot, seriousAxeViolations, signIn, startWebServer, type WebServer } from '../helpers/web.js';

// The web UI on the demo organisation (docs/demo.md): real pipelines, releases, a policy, DORA history.
// Its screenshots are the ones in test-output/screenshots/ that people look at.

describe('the web UI on the demo organisation', () => {
  let server: WebServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${server.url}/api/v1/orgs/cyber-dojo${path}`, { headers: { authorization: `Bearer ${server.token}` } });
    expect(res.status, path).toBe(200);
    return (await res.json()) as T;
  };
  const loaded = async (name: string, text: RegExp) => {
    await expect.poll(() => page.locator('main').textContent(), { message: name }).toMatch(text);
    await expect.poll(() => page.locator('main .loading').count(), { message: `${name} loads` }).toBe(0);
  };
  const visit = async (name: string, hash: string, text: RegExp) => {
    await page.goto(`${server.url}/${hash}`);
    await loaded(name, text);
  };
  const shotAndAxe = async (name: string) => {
    await screenshot(page, name);
    expect(await seriousAxeViolations(page), name).toEqual([]);
  };

  beforeAll(async () => {
    [server, browser] = await Promise.all([startWebServer({ seed: false, demo: true }), launchBrowser()]);
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
  }, 90_000);
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.close();
  }, 30_000);

  it('signs in with the demo token and lists its 13 flows', async () => {
    await page.goto(`${server.url}/`);
    await screenshot(page, 'sign-in');
    await signIn(page, server);
    expect(await page.locator('header').textContent()).toContain('cyber-dojo');
    await page.getByRole('link', { name: 'runner', exact: true }).waitFor();
    await loaded('flows', /runner/);
    expect(await page.locator('tbody tr').count()).toBe(13);
    await shotAndAxe('flows');
  });

  it('shows a flow, and a trail whose evidence downloads with the digest shown', async () => {
    await visit('flow', '#/flows/runner', /Trails/);
    await shotAndAxe('flow');
    const trails = await api<{ items: { name: string }[] }>('/flows/runner/trails?limit=1');
    await visit('trail', `#/flows/runner/trails/${trails.items[0]!.name}`, /Checklist/);
    const first = page.locator('ul.evidence li').first();
    const digest = (await first.locator('.digest').getAttribute('title'))!.replace(/^sha256:/, '');
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    const [download] = await Promise.all([page.waitForEvent('download'), first.getByRole('button').click()]);
    const bytes = fs.readFileSync((await download.path())!);
    expect(crypto.createHash('sha256').update(bytes).digest('hex')).toBe(digest);
    await expect.poll(() => first.locator('xpath=ancestor::div[contains(@class,"attestation-evidence")]').getByRole('status').textContent()).toMatch(/^Downloaded /);
    await shotAndAxe('trail');
  });

  it('follows runner:16d9990 from search to its timeline', async () => {
    const search = page.getByRole('searchbox', { name: /commit or fingerprint/i });
    await search.fill('16d9990');
    await search.press('Enter');
    await page.getByRole('link', { name: /runner/ }).first().click();
    await page.getByRole('heading', { name: /Timeline/ }).waitFor();
    await loaded('artifact', /Started running in aws-prod#10/);
    await shotAndAxe('artifact');
  });

  it('shows aws-prod: its one non-compliant artifact with the reason, the exemption, and drift', async () => {
    await visit('environments', '#/environments', /aws-prod/);
    await shotAndAxe('environments');
    await visit('aws-prod', '#/environments/aws-prod', /Running now/);
    const policies = page.getByRole('region', { name: 'Policies and compliance' });
    expect(await policies.textContent()).toMatch(/cyber-dojo-prod@2/);
    const failing = policies.locator('ul.failing > li');
    const nonCompliant = failing.filter({ has: page.locator('.badge.bad') });
    expect(await nonCompliant.count()).toBe(1);
    expect(await nonCompliant.textContent()).toMatch(/dashboard.*non-compliant.*snyk-scan/);
    expect(await failing.filter({ hasText: 'saver' }).textContent()).toMatch(/allowed/);
    const drift = page.getByRole('region', { name: 'Expected against running' });
    expect(await drift.locator('.cli code').textContent()).toBe('$ evident get environment aws-prod --expected');
    // Release 19 is planned and expected, its deployments not finished: saver and differ are not running.
    expect(await drift.locator('tbody tr').filter({ hasText: 'not running' }).count()).toBe(2);
    await shotAndAxe('aws-prod');
    await visit('snapshot', '#/snapshots/aws-prod%2310', /runner/);
    await shotAndAxe('snapshot');
  });

  it('diffs aws-beta with aws-prod and plans the release between them', async () => {
    await visit('diff', '#/diff?a=aws-beta&b=aws-prod', /Only in A/);
    await shotAndAxe('diff');
    await visit('release plan', '#/release-plan?from=aws-beta&to=aws-prod', /To promote/);
    expect(await page.getByRole('table', { name: 'Artifacts a release would promote' }).locator('tbody tr').count()).toBe(2);
    await shotAndAxe('release-plan');
  });

  it('shows the policies and the log, and verifies the checkpoint in the page', async () => {
    await visit('policies', '#/policies', /cyber-dojo-prod/);
    await shotAndAxe('policies');
    await visit('log', '#/log', /Current checkpoint/);
    await expect.poll(() => page.locator('#signature-status').textContent()).toContain('Signature verified');
    await page.getByLabel('Entry index').fill('100');
    await page.getByRole('button', { name: 'Verify inclusion' }).click();
    await expect.poll(() => page.locator('#inclusion-result').textContent()).toContain('Verified: entry 100 is in the log');
    await shotAndAxe('log');
  });

  it('shows DORA for aws-prod at once, by flow, with a table and flow filters', async () => {
    const report = await api<metricsSchemas.DoraReport>('/metrics/dora?environment=aws-prod&limit=500');
    expect(report.overall.deployments).toBeGreaterThan(0);
    await visit('dora', '#/dora', /Deployment frequency/);
    expect(await page.getByLabel('Environment').inputValue()).toBe('aws-prod');
    expect(await page.locator('.cli code').textContent()).toBe('$ evident metrics dora --environment aws-prod');
    // The fourth DORA figure: time to restore, with the server's counts.
    const restore = report.overall.time_to_restore_seconds;
    const card = page.locator('.figure', { hasText: 'Time to restore' });
    await expect.poll(() => card.textContent()).toContain(`${restore.count} restored`);
    if (restore.unrestored > 0) expect(await card.textContent()).toContain(`${restore.unrestored} not yet`);
    // Bars: one segment per flow and day with deployments; every deployment is in one.
    const segments = page.locator('svg.chart rect.seg');
    expect(await segments.count()).toBeGreaterThanOrEqual(report.series.filter((s) => s.deployments > 0).length);
    const segTotal = (await segments.locator('title').allTextContents()).reduce((n, t) => n + Number(/: (\d+)$/.exec(t)![1]), 0);
    expect(segTotal).toBe(report.overall.deployments);
    // One dot per listed deployment with a lead time: the page lists the newest 500, as `report` above does.
    expect(await page.locator('svg.chart circle.dot').count()).toBe(report.deployments.filter((d) => d.lead_time_seconds !== null).length);
    // The per-flow table: one row per flow deployed, with its count.
    const byFlow = page.getByRole('table', { name: 'DORA figures per flow' }).locator('tbody tr');
    expect(await byFlow.locator('th').allTextContents()).toEqual(report.flows.map((f) => f.flow));
    expect(await byFlow.first().locator('td').first().textContent()).toBe(String(report.flows[0]!.deployments));
    // The chart's numbers as a table.
    await page.getByText(/as a table/).click();
    const table = page.getByRole('table', { name: /per day and flow/ });
    const totals = await table.locator('tbody tr').evaluateAll((rows) => rows.map((r) => Number(r.children[r.children.length - 2]!.textContent)));
    expect(totals.reduce((a, b) => a + b, 0)).toBe(report.overall.deployments);
    await shotAndAxe('dora');
    // A legend entry filters by its flow; "all flows" goes back.
    const flow = [...report.flows].sort((a, b) => b.deployments - a.deployments)[0]!.flow;
    await page.getByRole('list', { name: /Flows in the charts/ }).getByRole('link', { name: flow, exact: true }).click();
    await loaded('dora by flow', new RegExp(`only flow ${flow}`));
    expect(await page.locator('.cli code').textContent()).toBe(`$ evident metrics dora --environment aws-prod --flow ${flow}`);
    await expect.poll(() => byFlow.locator('th').allTextContents()).toEqual([flow]);
    await page.getByRole('link', { name: 'all flows' }).click();
    await expect.poll(() => byFlow.count()).toBe(report.flows.length);
  });

  it('fits the new pages at phone width', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const [name, hash, text] of [['aws-prod-phone', '#/environments/aws-prod', /Expected against running/], ['dora-phone', '#/dora', /Lead time for changes/]] as const) {
      await visit(name, hash, text);
      expect(await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth'), name).toBeLessThanOrEqual(0);
      await screenshot(page, name);
    }
  });
});
