import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, seriousAxeViolations, signIn, startWebServer, SCREENSHOTS, type WebServer } from '../helpers/web.js';

// Issue 18's "done when": each seed question is answered in the browser in at most three clicks from the
// front page (typing a query and pressing Enter is not a click). The seed questions:
//   1. which flows last deployed, and where;
//   2. which lack a security scan;
//   3. what should run in production, and what does;
//   4. is commit 16d9990 in production, since when, and was it compliant then;
//   5. show the review, scan, approval and test report of a deployment, and prove none was edited.
// Then every page at desktop and phone width: a screenshot (docs/web/ with EVIDENT_DOCS_SCREENSHOTS=1,
// else test-output/) and axe-core with no serious or critical finding.

const COMMIT = '16d9990';

describe('the seed questions, clicked through on the demo organisation', () => {
  let server: WebServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let clicks = 0;
  const click = async (target: ReturnType<Page['locator']>) => {
    clicks++;
    await target.click();
  };
  const settled = async () => expect.poll(() => page.locator('main .loading').count()).toBe(0);
  const front = async () => {
    await page.goto(`${server.url}/`);
    await page.getByRole('heading', { name: 'Flows', level: 1 }).waitFor();
    await settled();
    clicks = 0;
  };

  beforeAll(async () => {
    [server, browser] = await Promise.all([startWebServer({ seed: false, demo: true }), launchBrowser()]);
    context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
    await signIn(page, server);
  }, 90_000);
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.close();
  }, 30_000);

  it('1. which flows last deployed, and where: the front page, no click', async () => {
    await front();
    const runner = page.locator('tbody tr').filter({ has: page.getByRole('link', { name: 'runner', exact: true }) });
    expect(await runner.textContent()).toMatch(/aws-(beta|prod)#\d+/);
    expect(clicks).toBe(0);
  });

  it('2. which lack a security scan: the missing-type filter on the front page, no click', async () => {
    await front();
    await page.getByLabel('Missing attestation type').fill('snyk');
    await page.getByLabel('Missing attestation type').press('Enter');
    await expect.poll(() => page.locator('tbody tr').count()).toBe(2);
    expect(await page.locator('tbody').textContent()).toMatch(/production-promotion.*version-reporter|version-reporter.*production-promotion/s);
    expect(clicks).toBe(0);
  });

  it('3. what should run in production and what does: two clicks', async () => {
    await front();
    await click(page.getByRole('link', { name: 'Environments' }));
    await click(page.getByRole('link', { name: 'aws-prod', exact: true }).first());
    const drift = page.getByRole('region', { name: 'Expected against running' });
    await expect.poll(() => drift.locator('tbody tr').filter({ hasText: 'not running' }).count()).toBe(2);
    // Its own fetch: it may still be loading when the drift table is in.
    await expect.poll(() => page.getByRole('region', { name: 'Running now' }).textContent()).toMatch(/runner/);
    expect(clicks).toBeLessThanOrEqual(3);
  });

  it('4. is commit 16d9990 in production, since when, was it compliant then: search, then two clicks', async () => {
    await front();
    const search = page.getByRole('searchbox', { name: /commit or fingerprint/i });
    await search.fill(`runner:${COMMIT}`);
    await search.press('Enter');
    const card = page.locator('.results li').first();
    await expect.poll(() => card.textContent()).toMatch(/Ran before in.*aws-prod/);
    await click(card.getByRole('link', { name: /runner/ }).first());
    await page.getByRole('heading', { name: /Timeline/ }).waitFor();
    // Since when: the timeline says the snapshot it started in; that snapshot says whether it was compliant then.
    // (The journey names aws-prod#10 too: the timeline's link is the one this question follows.)
    await click(page.getByRole('list', { name: 'Events, newest first' }).getByRole('link', { name: 'aws-prod#10' }));
    await settled();
    expect(await page.locator('main dl.facts').textContent()).toMatch(/against cyber-dojo-prod@/);
    const row = page.locator('tbody tr').filter({ hasText: `runner:${COMMIT}` });
    expect(await row.textContent()).toMatch(/compliant/);
    expect(await row.textContent()).not.toMatch(/non-compliant/);
    expect(clicks).toBeLessThanOrEqual(3);
  });

  it('5. the review, scan, approval and test report of a deployment, each proved unedited: search, then a click and the checks', async () => {
    await front();
    const search = page.getByRole('searchbox', { name: /commit or fingerprint/i });
    await search.fill(COMMIT);
    await search.press('Enter');
    await click(page.locator('.results li').first().getByRole('link', { name: /runner/ }).first());
    await page.getByRole('heading', { name: /Timeline/ }).waitFor();
    await settled();
    const cards = page.locator('li.attestation');
    await expect.poll(() => cards.filter({ hasText: 'pull-request' }).count()).toBe(1);
    const review = cards.filter({ hasText: 'pull-request' });
    expect(await review.textContent()).toContain('#177 Fix replica count for aws-prod');
    const tests = cards.filter({ hasText: 'unit-tests' });
    expect(await tests.textContent()).toContain('18 tests');
    const scan = cards.filter({ hasText: 'snyk-scan' });
    expect(await scan.textContent()).toMatch(/critical 0/);
    const approval = cards.filter({ hasText: 'release-approval' });
    expect(await approval.textContent()).toContain('approved by sami-alajrami');
    // One click runs the in-browser proof for all four (the button of each is one click: 4 in all, each optional).
    for (const c of [review, tests, scan, approval]) {
      await c.getByRole('button', { name: /Check entry \d+ is in the signed log/ }).click();
      await expect.poll(() => c.locator('.entry-link [role=status]').first().textContent()).toMatch(/✓ in the signed log/);
    }
    expect(clicks).toBeLessThanOrEqual(3);
  });

  it('the environment log, what runs where, trails by compliance and a DORA period (issue 18)', async () => {
    await front();
    // What runs where: one click from the front page; differ and saver run other versions in beta than in prod.
    await click(page.getByRole('link', { name: 'Environments' }));
    const grid = page.getByRole('table', { name: /Flows by environment/ });
    await expect.poll(() => grid.locator('tbody tr').count()).toBeGreaterThan(5);
    expect(await grid.locator('thead').textContent()).toMatch(/aws-beta.*aws-prod/s);
    for (const flow of ['differ', 'saver']) {
      const row = grid.locator('tbody tr').filter({ has: page.getByRole('link', { name: flow, exact: true }) });
      expect(await row.getAttribute('class'), flow).toContain('mismatch');
    }
    // Sorting the environments by name, descending: aws-prod first.
    const envTable = page.getByRole('table', { name: 'Environments', exact: true });
    await envTable.getByRole('button', { name: /Environment/ }).click();
    await envTable.getByRole('button', { name: /Environment/ }).click();
    expect(await envTable.locator('thead th').first().getAttribute('aria-sort')).toBe('descending');
    expect(await envTable.locator('tbody th').first().textContent()).toContain('aws-prod');
    // The Log tab: aws-prod's changes, newest first, with + and − lines.
    await click(page.getByRole('link', { name: 'aws-prod', exact: true }).first());
    // The environment's own Log tab: `.last()` of every Log link picked the site's Log page whenever the tabs
    // were not drawn yet (a CI run on a loaded machine).
    await click(page.getByRole('navigation', { name: 'Environment views' }).getByRole('link', { name: 'Log', exact: true }));
    const log = page.getByRole('list', { name: 'Changes and deployments, newest first' });
    await expect.poll(() => log.locator(':scope > li').count()).toBe(25);
    expect(await log.textContent()).toMatch(/Started .*runner/);
    expect(await log.textContent()).toMatch(/Deployment expected/);
    expect(await page.getByRole('navigation', { name: 'Pages' }).count()).toBe(1);
    // The flow page's trails with a compliance column, sorted worst first: the failed run comes to the top.
    await page.goto(`${server.url}/#/flows/languages-start-points`);
    const trails = page.getByRole('table', { name: /Trails of/ });
    await expect.poll(() => trails.locator('tbody tr').count()).toBeGreaterThan(1);
    await trails.getByRole('button', { name: /Compliance/ }).click();
    expect(await trails.locator('tbody tr').first().textContent()).toMatch(/non-compliant|incomplete/);
    // DORA: the last 7 days as a period link; the window shows in the URL and the CLI line.
    await page.goto(`${server.url}/#/dora?environment=aws-prod`);
    await page.getByRole('link', { name: '7 days' }).click();
    await expect.poll(() => page.url()).toMatch(/since=\d{4}-\d{2}-\d{2}/);
    await expect.poll(() => page.locator('.cli code').first().textContent()).toMatch(/--since \d{4}-\d{2}-\d{2}/);
    await expect.poll(() => page.locator('main .loading').count()).toBe(0);
  });

  it('every page at desktop and phone width: a screenshot, no sideways scroll on the phone, no serious axe finding', async () => {
    const dir = process.env.EVIDENT_DOCS_SCREENSHOTS === '1' ? path.resolve('docs/web') : path.join(SCREENSHOTS, 'web2');
    fs.mkdirSync(dir, { recursive: true });
    const pages: [string, string][] = [
      ['flows', '#/flows'],
      ['flow', '#/flows/runner'],
      ['trail', '#/flows/runner/trails/16d9990ad23a40eecaf087abac2a58a2d2a4b3f4'],
      ['trail-release', '#/flows/production-promotion/trails/release-9'],
      ['trail-noncompliant', '#/flows/dashboard/trails/dc87d57fd793d93bc471f38bc9663cd574846bf8'],
      ['artifact', '#/artifacts/runner@9af401c4350b21e3f1df17d6ad808da43d9646e75b6da902cc7c492bcfb9c625'],
      ['search', `#/search?q=runner:${COMMIT}`],
      ['environments', '#/environments'],
      ['env-prod', '#/environments/aws-prod'],
      ['env-beta', '#/environments/aws-beta'],
      ['env-prod-log', '#/environments/aws-prod?tab=log'],
      ['snapshot', '#/snapshots/aws-prod%2310'],
      ['diff', '#/diff?a=aws-beta&b=aws-prod'],
      ['release-plan', '#/release-plan?from=aws-beta&to=aws-prod'],
      ['policies', '#/policies'],
      ['policy', '#/policies/cyber-dojo-prod@2'],
      ['log', '#/log?index=331'],
      ['dora', '#/dora'],
    ];
    for (const [width, height, suffix] of [[1440, 900, 'desktop'], [390, 844, 'phone']] as const) {
      const ctx = await browser.newContext({ viewport: { width, height }, isMobile: suffix === 'phone', hasTouch: suffix === 'phone' });
      const p = await ctx.newPage();
      await signIn(p, server);
      for (const [name, hash] of pages) {
        await p.goto(`${server.url}/${hash}`);
        await expect.poll(() => p.locator('main h1').count(), { message: name }).toBe(1);
        await expect.poll(() => p.locator('main .loading').count(), { message: `${name} loads` }).toBe(0);
        if (name === 'log') await expect.poll(() => p.locator('#inclusion-result').textContent()).toContain('Verified');
        await p.screenshot({ path: path.join(dir, `${name}-${suffix}.png`) });
        if (suffix === 'phone') expect(await p.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth), `${name} fits the phone`).toBeLessThanOrEqual(390);
        expect(await seriousAxeViolations(p), `${name} at ${suffix} width`).toEqual([]);
      }
      await ctx.close();
    }
  }, 240_000);
});
