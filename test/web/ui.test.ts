import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { commit, fp } from '../helpers/fixture-org.js';
import { launchBrowser, screenshot, seriousAxeViolations, signIn, startWebServer, type WebServer } from '../helpers/web.js';

// The web UI in a real browser against a real server seeded with the 32-flow fixture (issue #7 item 4).

describe('the web UI in Chromium', () => {
  let server: WebServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startWebServer(), launchBrowser()]);
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
  }, 60_000);
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.close();
  }, 30_000);

  it('serves the UI with a strict content security policy and immutable hashed assets', async () => {
    const res = await fetch(`${server.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await res.text();
    const js = /src="\.\/(assets\/app-[A-Z0-9]{8}\.js)"/.exec(html)?.[1];
    expect(js).toBeDefined();
    const asset = await fetch(`${server.url}/${js}`);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${server.url}/api/v1/nothing`)).status).toBe(404);
  });

  it('refuses a bad token with the server’s message, then signs in with a good one and lists the flows', async () => {
    await page.goto(`${server.url}/`);
    await page.getByLabel('API token').fill('evd_not-a-real-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/UNAUTHENTICATED|token/i);
    await screenshot(page, 'fixture/sign-in');
    await signIn(page, server);
    await page.getByRole('heading', { name: 'Flows', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'svc-01', exact: true }).waitFor();
    expect(await page.locator('tbody tr').count()).toBe(32);
    expect(await page.locator('.cli code').textContent()).toContain('evident list flows');
    await screenshot(page, 'fixture/flows');
  });

  it('signs a new tab in by the session cookie, which page script cannot read', async () => {
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'evident_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/api/v1' });
    expect(await page.evaluate('document.cookie')).not.toContain('evident_session');
    expect(await page.evaluate('JSON.stringify(sessionStorage) + JSON.stringify(localStorage)')).not.toContain('evd_');
    const tab = await context.newPage();
    await tab.goto(`${server.url}/#/environments/aws-prod`);
    await tab.getByRole('heading', { name: 'aws-prod', level: 1 }).waitFor();
    expect(await tab.getByLabel('API token').count()).toBe(0);
    await tab.close();
  });

  it('updates an open environment page when a new snapshot is reported, without a reload', async () => {
    // An environment of its own, so the fixture's aws-beta and aws-prod stay as the later tests expect.
    const auth = { authorization: `Bearer ${server.token}` };
    await server.t.app.inject({ method: 'POST', url: '/api/v1/orgs/acme/environments', headers: auth, payload: { name: 'live-test', type: 'k8s' } });
    await page.goto(`${server.url}/#/environments/live-test`);
    await page.getByRole('heading', { name: 'live-test', level: 1 }).waitFor();
    await page.locator('.live[data-state="open"]').waitFor();
    const marker = await page.evaluate('window.__notReloaded = true');
    expect(marker).toBe(true);
    const res = await server.t.app.inject({
      method: 'PUT', url: '/api/v1/orgs/acme/environments/live-test/snapshot', headers: auth,
      payload: { artifacts: [{ name: 'live-svc', fingerprint: 'f'.repeat(64), instances: 1 }] },
    });
    expect(res.statusCode, res.body).toBeLessThan(300);
    await expect.poll(() => page.locator('main').textContent(), { timeout: 10_000 }).toContain('live-svc');
    expect(await page.evaluate('window.__notReloaded')).toBe(true);
  });

  it('follows an artifact from search to its timeline', async () => {
    const search = page.getByRole('searchbox', { name: /commit or fingerprint/i });
    await search.fill(commit(4, 1).slice(0, 7));
    await search.press('Enter');
    await page.getByText('1 artifact found.').waitFor();
    await screenshot(page, 'fixture/search');
    await page.getByRole('link', { name: /svc-04/ }).first().click();
    await page.getByRole('heading', { name: /Timeline/ }).waitFor();
    const timeline = page.getByRole('list', { name: 'Events, newest first' });
    await expect.poll(() => timeline.textContent()).toContain('Started running in aws-beta#1');
    expect(await timeline.textContent()).toContain('No longer running in aws-beta#3');
    expect(await page.locator('.cli code').textContent()).toContain(`evident get artifact svc-04@${fp(4, 1)}`);
    await screenshot(page, 'fixture/artifact');
    expect(await seriousAxeViolations(page)).toEqual([]);
  });

  it('diffs two snapshots of different environments', async () => {
    await page.getByRole('link', { name: 'Diff', exact: true }).click();
    await page.getByLabel('Snapshot A').fill('aws-beta');
    await page.getByLabel('Snapshot B').fill('aws-prod');
    await page.getByRole('button', { name: 'Compare' }).click();
    const onlyA = page.getByRole('region', { name: /Only in A/ });
    await onlyA.waitFor();
    // aws-beta#3 runs svc-01..16 without 09 (04 and 08 at trail 2); aws-prod#3 runs svc-01..08 at trail 1.
    expect(await onlyA.locator('tbody tr').count()).toBe(9);
    expect(await page.getByRole('region', { name: /Only in B/ }).locator('tbody tr').count()).toBe(2);
    expect(await page.locator('.cli code').textContent()).toBe('$ evident diff snapshots aws-beta aws-prod');
    await screenshot(page, 'fixture/diff');
    expect(await seriousAxeViolations(page)).toEqual([]);
  });

  it('opens a release plan between two environments', async () => {
    await page.getByRole('link', { name: 'Release plan' }).click();
    // The diff page before it has From/To fields too: wait for this page before filling them.
    await page.getByRole('heading', { level: 1, name: 'Release plan' }).waitFor();
    await page.getByLabel('From', { exact: true }).fill('aws-beta');
    await page.getByLabel('To', { exact: true }).fill('aws-prod');
    await page.getByRole('button', { name: 'Plan' }).click();
    const table = page.getByRole('table', { name: 'Artifacts a release would promote' });
    await table.waitFor();
    expect(await table.textContent()).toContain('svc-12');
    expect(await page.locator('.cli code').textContent()).toBe('$ evident release plan aws-beta aws-prod');
    await screenshot(page, 'fixture/release-plan');
    expect(await seriousAxeViolations(page)).toEqual([]);
  });

  it('verifies the checkpoint signature and an inclusion proof in the page, and fails a tampered proof', async () => {
    await page.getByRole('link', { name: 'Log', exact: true }).click();
    await expect.poll(() => page.locator('#signature-status').textContent()).toContain('Signature verified');
    await page.getByLabel('Entry index').fill('5');
    await page.getByRole('button', { name: 'Verify inclusion' }).click();
    await expect.poll(() => page.locator('#inclusion-result').textContent()).toContain('Verified: entry 5 is in the log');
    await screenshot(page, 'fixture/log');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.getByLabel(/tamper with the proof/).check();
    await page.getByRole('button', { name: 'Verify inclusion' }).click();
    await expect.poll(() => page.locator('#inclusion-result').textContent()).toContain('Not verified: entry 5');
  });

  it('remembers the checkpoint this browser saw and proves the log only grew; an edited memory is flagged, and forgotten on request', async () => {
    await page.goto(`${server.url}/#/log`);
    await expect.poll(() => page.locator('#consistency-status').textContent()).toMatch(/First visit of this browser|Same tree as this browser saw|only grew since this browser/);
    await page.reload();
    await expect.poll(() => page.locator('#consistency-status').textContent()).toMatch(/Same tree as this browser saw|only grew since this browser/);
    // Whoever can edit this browser's storage cannot make it remember a checkpoint the log never signed.
    await page.evaluate(() => {
      const storage = (globalThis as unknown as { localStorage: { getItem(k: string): string | null; setItem(k: string, v: string): void } }).localStorage;
      const all = JSON.parse(storage.getItem('evident.seen-checkpoints.v1')!) as Record<string, { note: string }>;
      for (const seen of Object.values(all)) seen.note = seen.note.replace(/\n(\d+)\n/, (_m, n: string) => `\n${Number(n) + 1}\n`);
      storage.setItem('evident.seen-checkpoints.v1', JSON.stringify(all));
    });
    await page.reload();
    await expect.poll(() => page.locator('#consistency-status').textContent()).toContain('does not verify');
    await page.getByRole('button', { name: 'Forget what this browser saw' }).click();
    await expect.poll(() => page.locator('#consistency-status').textContent()).toContain('First visit of this browser');
    expect(await seriousAxeViolations(page)).toEqual([]);
  });

  it('shows environments, a snapshot, a trail, policies and DORA without serious accessibility violations', async () => {
    const pages: [string, string, RegExp][] = [
      ['environments', '#/environments', /aws-prod/],
      ['environment', '#/environments/aws-prod', /Running now/],
      ['snapshot', '#/snapshots/aws-prod%232', /svc-06/],
      ['trail', '#/flows/svc-04/trails/t2', /Checklist/],
      ['flow', '#/flows/svc-04', /Trails/],
      ['policies', '#/policies', /Policies/],
      ['dora', '#/dora?environment=aws-prod', /DORA metrics/],
    ];
    for (const [name, hash, text] of pages) {
      await page.goto(`${server.url}/${hash}`);
      await expect.poll(() => page.locator('main').textContent(), { message: name }).toMatch(text);
      await expect.poll(() => page.locator('.loading').count(), { message: `${name} loads` }).toBe(0);
      await screenshot(page, `fixture/${name}`);
      expect(await seriousAxeViolations(page), name).toEqual([]);
    }
    // This branch's server has no DORA route: the page says so instead of failing.
    expect(await page.locator('main').textContent()).toMatch(/no DORA metrics yet|Deployment frequency/);
  });

  it('works at phone width', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${server.url}/#/flows`);
    await page.getByRole('link', { name: 'svc-01', exact: true }).waitFor();
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, 'fixture/flows-phone');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API token').waitFor();
    // The session ended on the server: a reload (or another tab) is signed out too.
    await page.reload();
    await page.getByLabel('API token').waitFor();
  });
});
