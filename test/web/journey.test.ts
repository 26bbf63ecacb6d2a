import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { EvidentClient } from '../../src/client/index.js';
import { parseCheckpoint, parseVerifierKey, splitNote } from '../../src/ledger/index.js';
import { buildChainPackage } from '../../src/cli/verify/build-chain-package.js';
import { parsePackage, verifyPackage } from '../../src/cli/verify/evidence-package.js';
import { launchBrowser, seriousAxeViolations, signIn, startWebServer, SCREENSHOTS, type WebServer } from '../helpers/web.js';

// Issue 18: an artifact's journey (commit → build → attestations → approvals → each environment it ran in,
// since when, compliant then) and the evidence package download with its offline check, on the demo org.

const RUNNER = 'runner@9af401c4350b21e3f1df17d6ad808da43d9646e75b6da902cc7c492bcfb9c625';
const FP = RUNNER.split('@')[1]!;
const COMMIT = '16d9990ad23a40eecaf087abac2a58a2d2a4b3f4';

describe('the artifact journey and the evidence package download', () => {
  let server: WebServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let client: EvidentClient;
  const shots = process.env.EVIDENT_DOCS_SCREENSHOTS === '1' ? path.resolve('docs/web') : path.join(SCREENSHOTS, 'web4');
  const settled = async (p: Page = page) => expect.poll(() => p.locator('main .loading').count(), { timeout: 10_000 }).toBe(0);

  /** Clicks the download button and returns the file's text and the status line. */
  const download = async (): Promise<{ text: string; name: string; status: string }> => {
    const [d] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.getByRole('button', { name: 'Download evidence package' }).click()]);
    const file = await d.path();
    const status = page.getByRole('region', { name: 'Evidence package' }).locator('p [role=status]');
    await expect.poll(() => status.textContent(), { timeout: 10_000 }).toMatch(/^Downloaded/);
    return { text: fs.readFileSync(file, 'utf8'), name: d.suggestedFilename(), status: (await status.textContent()) ?? '' };
  };

  beforeAll(async () => {
    [server, browser] = await Promise.all([startWebServer({ seed: false, demo: true }), launchBrowser()]);
    context = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
    await signIn(page, server);
    client = new EvidentClient({ host: server.url, org: 'cyber-dojo', apiToken: server.token });
    fs.mkdirSync(shots, { recursive: true });
  }, 90_000);
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.close();
  }, 30_000);

  it('answers "is commit 16d9990 in production, since when, was it compliant" in the journey', async () => {
    await page.goto(`${server.url}/#/artifacts/${RUNNER}`);
    const journey = page.getByRole('list', { name: 'Journey from commit to environments' });
    await journey.waitFor();
    await settled();
    const steps = journey.locator(':scope > li');
    expect(await steps.locator('h4').allTextContents()).toEqual(['Commit', 'Build', 'Attestations', 'Approvals', 'Environments']);
    expect(await steps.nth(0).textContent()).toContain(COMMIT.slice(0, 7));
    expect(await steps.nth(2).textContent()).toMatch(/unit-tests.*snyk-scan.*pull-request/s);
    expect(await steps.nth(3).textContent()).toMatch(/release-9.*approved by sami-alajrami/s);
    const runs = page.getByRole('list', { name: 'Runs in environments' }).locator(':scope > li');
    const prod = runs.filter({ has: page.getByRole('link', { name: 'aws-prod', exact: true }) });
    // Since aws-prod#10 until aws-prod#21, judged compliant in #10 under the policy attached then.
    await expect.poll(() => prod.textContent()).toMatch(/since .*aws-prod#10.*until .*aws-prod#21/s);
    await expect.poll(() => prod.locator('.verdict').textContent()).toMatch(/^compliant then, under cyber-dojo-prod@2$/);
    expect(await prod.getByRole('link', { name: 'cyber-dojo-prod@2' }).getAttribute('href')).toMatch(/^#\/policies\/cyber-dojo-prod(@|%40)2$/);
    // aws-beta has no policy: said so, not "compliant".
    const beta = runs.filter({ has: page.getByRole('link', { name: 'aws-beta', exact: true }) });
    await expect.poll(() => beta.locator('.verdict').textContent()).toMatch(/no policy/);
    expect(await beta.locator('.verdict').textContent()).not.toMatch(/compliant/);
    // The step's marker follows the facts: it runs nowhere now, so the environments step is not green.
    expect(await steps.nth(4).getAttribute('class')).not.toContain('ok');
    await journey.screenshot({ path: path.join(shots, 'artifact-journey-desktop.png') });
  });

  it('seed question 4 in one click from the front page: search runner:16d9990, open the artifact, read the journey', async () => {
    await page.goto(`${server.url}/`);
    await page.getByRole('heading', { name: 'Flows', level: 1 }).waitFor();
    const search = page.getByRole('searchbox', { name: /commit or fingerprint/i });
    await search.fill('runner:16d9990');
    await search.press('Enter');
    await page.locator('.results li').first().getByRole('link', { name: /runner/ }).first().click();
    const prod = page.getByRole('list', { name: 'Runs in environments' }).locator(':scope > li').filter({ has: page.getByRole('link', { name: 'aws-prod', exact: true }) });
    // In production? It ran there (not now); since when: aws-prod#10; compliant then: yes, under cyber-dojo-prod@2.
    await expect.poll(() => prod.textContent()).toMatch(/aws-prod\s*ran\s*since .*\(aws-prod#10\) until .*\(aws-prod#21\).*compliant then, under cyber-dojo-prod@2/s);
  });

  it('the journey fits the phone and has no serious axe finding there', async () => {
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const p = await ctx.newPage();
    await signIn(p, server);
    await p.goto(`${server.url}/#/artifacts/${RUNNER}`);
    const journey = p.getByRole('list', { name: 'Journey from commit to environments' });
    await journey.waitFor();
    await settled(p);
    await expect.poll(() => p.locator('.verdict').count()).toBe(2);
    await journey.screenshot({ path: path.join(shots, 'artifact-journey-phone.png') });
    expect(await p.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(await seriousAxeViolations(p)).toEqual([]);
    await ctx.close();
  }, 60_000);

  it('downloads a trail\'s package that is byte for byte the one `evident export trail` writes, and it verifies offline', async () => {
    await page.goto(`${server.url}/#/flows/runner/trails/${COMMIT}`);
    await settled();
    const region = page.getByRole('region', { name: 'Evidence package' });
    expect(await region.locator('.cli-verify code').textContent()).toContain(`evident verify package runner-16d9990ad23a.evidence.json --key "$(cat log.vkey)"`);
    const { text, name, status } = await download();
    expect(name).toBe('runner-16d9990ad23a.evidence.json');
    expect(status).toMatch(/5 entries and 3 evidence files/);
    // Compared with the checkpoint this browser saw before (the journey's page checks left one, or this is the first).
    expect(status).toMatch(/First visit of this browser to this log|Same tree as this browser saw|The log only grew since this browser saw it/);
    const pkg = parsePackage(text, name);
    // The CLI's package at the same checkpoint, built through the typed client.
    const key = (await client.logKey()).verifier_key;
    const verifier = parseVerifierKey(key);
    const cp = parseCheckpoint(splitNote(pkg.checkpoint).text);
    const cli = await buildChainPackage(client, 'cyber-dojo', { type: 'trail', flow: 'runner', trail: COMMIT }, key, pkg.checkpoint, cp, pkg.map_proof);
    expect(text).toBe(JSON.stringify(cli, null, 2) + '\n');
    const checks = verifyPackage(pkg, verifier);
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(checks.map((c) => c.message).join('\n')).toMatch(/Complete as of checkpoint size \d+/);
    await region.screenshot({ path: path.join(shots, 'package-desktop.png') });
  }, 90_000);

  it('downloads an environment\'s package and an artifact\'s, each complete and verified offline', async () => {
    const verifier = parseVerifierKey((await client.logKey()).verifier_key);
    await page.goto(`${server.url}/#/environments/aws-prod`);
    await settled();
    const env = await download();
    expect(env.name).toBe('aws-prod.evidence.json');
    const envPkg = parsePackage(env.text, env.name);
    expect(envPkg.subject).toEqual({ type: 'environment', environment: 'aws-prod' });
    expect(verifyPackage(envPkg, verifier).filter((c) => !c.ok)).toEqual([]);

    await page.goto(`${server.url}/#/artifacts/${RUNNER}`);
    const art = await download();
    const pkg = parsePackage(art.text, art.name);
    expect(pkg.subject).toEqual({ type: 'artifact', fingerprint: FP });
    const checks = verifyPackage(pkg, verifier);
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    // Beside the artifact's chain: the release's approval and the snapshots where its runs started.
    const types = pkg.entries.map((e) => (JSON.parse(e.entry) as { type: string }).type);
    expect(types).toContain('artifact.reported');
    expect(types).toContain('snapshot.created');
    const names = pkg.entries.map((e) => (JSON.parse(e.entry) as { attestation?: string }).attestation);
    expect(names).toContain('release-approval');
    // Its trail's own pull request, even when the button is pressed before the page has loaded the trail.
    expect(names).toContain('pull-request');
    expect(types).toContain('trail.begun');
    expect(pkg.entries.map((e) => e.index)).toEqual([...pkg.entries.map((e) => e.index)].sort((a, b) => a - b));
  }, 120_000);

  it('refuses to build a package from a tampered inclusion proof or a map proof for another subject', async () => {
    await page.goto(`${server.url}/#/flows/runner/trails/${COMMIT}`);
    await settled();
    const status = page.getByRole('region', { name: 'Evidence package' }).locator('p [role=status]');
    // A server that lies about one inclusion proof: the browser's check catches it; nothing is downloaded.
    await page.route('**/log/proof/inclusion?*', async (route) => {
      const res = await route.fetch();
      const body = (await res.json()) as { hashes: string[] };
      body.hashes[0] = body.hashes[0]!.replace(/^./, (c) => (c === '0' ? '1' : '0'));
      await route.fulfill({ response: res, json: body });
    });
    let downloads = 0;
    page.on('download', () => downloads++);
    await page.getByRole('button', { name: 'Download evidence package' }).click();
    await expect.poll(() => status.textContent(), { timeout: 20_000 }).toMatch(/Could not build the package: log entry \d+ is not included in the signed checkpoint/);
    await page.unroute('**/log/proof/inclusion?*');
    // A map proof for another trail's key (a server hiding this trail's newest entries): refused too.
    await page.route('**/log/proof/map?*', async (route) => {
      const other = encodeURIComponent(JSON.stringify(['trail', 'runner', 'not-this-one']));
      const res = await route.fetch({ url: route.request().url().replace(/subject=[^&]+/, `subject=${other}`) });
      await route.fulfill({ response: res });
    });
    await page.getByRole('button', { name: 'Download evidence package' }).click();
    await expect.poll(() => status.textContent(), { timeout: 20_000 }).toMatch(/Could not build the package: map proof: it is for another key/);
    await page.unroute('**/log/proof/map?*');
    // The checkpoint this browser remembered (a download remembers it, as the log page does), edited in
    // storage: the memory no longer verifies, and the download stops, as `evident export` would.
    const KEY = 'evident.seen-checkpoints.v1';
    await expect.poll(() => page.evaluate((k) => (globalThis as unknown as { localStorage: { getItem(k: string): string | null; setItem(k: string, v: string): void; removeItem(k: string): void } }).localStorage.getItem(k), KEY)).not.toBeNull();
    await page.evaluate((k) => {
      const all = JSON.parse((globalThis as unknown as { localStorage: { getItem(k: string): string | null; setItem(k: string, v: string): void; removeItem(k: string): void } }).localStorage.getItem(k)!) as Record<string, { note: string }>;
      for (const seen of Object.values(all)) seen.note = seen.note.replace(/\n(\d+)\n/, (_, n: string) => `\n${Number(n) + 1}\n`);
      (globalThis as unknown as { localStorage: { getItem(k: string): string | null; setItem(k: string, v: string): void; removeItem(k: string): void } }).localStorage.setItem(k, JSON.stringify(all));
    }, KEY);
    await page.getByRole('button', { name: 'Download evidence package' }).click();
    await expect.poll(() => status.textContent(), { timeout: 20_000 }).toMatch(/Could not build the package: the checkpoint remembered here does not verify/);
    await page.evaluate((k) => (globalThis as unknown as { localStorage: { getItem(k: string): string | null; setItem(k: string, v: string): void; removeItem(k: string): void } }).localStorage.removeItem(k), KEY);
    expect(downloads).toBe(0);
  }, 90_000);

  it('diffs side by side: one row per flow, A and B aligned, at desktop and phone width', async () => {
    await page.goto(`${server.url}/#/diff?a=aws-beta&b=aws-prod`);
    const table = page.getByRole('table', { name: /side by side, one row per flow/ });
    await table.waitFor();
    const rows = table.locator('tbody tr');
    // differ and saver run other versions in beta than in prod: each one row, beta's on the left, prod's on the right.
    expect(await rows.locator('th').allTextContents()).toEqual(['differ', 'saver']);
    for (const r of await rows.all()) {
      const [a, b] = await r.locator('td.side').allTextContents();
      expect(a).toMatch(/(^|\/)(differ|saver):\w+ [0-9a-f]{12} ×\d+$/);
      expect(b).toMatch(/(^|\/)(differ|saver):\w+ [0-9a-f]{12} ×\d+$/);
      expect(a).not.toBe(b);
      expect(await r.locator('td').last().textContent()).toBe('other version');
    }
    await table.screenshot({ path: path.join(shots, 'diff-side-by-side-desktop.png') });
    // With unchanged rows: the same artifact on both sides, sorted by flow with the changes.
    await page.goto(`${server.url}/#/diff?a=aws-beta&b=aws-prod&unchanged=true`);
    await expect.poll(() => rows.filter({ hasText: 'unchanged' }).count()).toBeGreaterThan(3);
    const same = rows.filter({ hasText: 'unchanged' }).first();
    const [a, b] = await same.locator('td.side').allTextContents();
    expect(a).toBe(b);
    const flows = await rows.locator('th').allTextContents();
    expect(flows).toEqual([...flows].sort((x, y) => x.localeCompare(y)));

    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const p = await ctx.newPage();
    await signIn(p, server);
    await p.goto(`${server.url}/#/diff?a=aws-beta&b=aws-prod`);
    const phone = p.getByRole('table', { name: /side by side/ });
    await phone.waitFor();
    // Still side by side on the phone: the A and B cells of a row share one line.
    const [boxA, boxB] = await Promise.all([phone.locator('tbody tr td.side').nth(0).boundingBox(), phone.locator('tbody tr td.side').nth(1).boundingBox()]);
    expect(Math.abs(boxA!.y - boxB!.y)).toBeLessThan(2);
    expect(boxA!.x).toBeLessThan(boxB!.x);
    await phone.screenshot({ path: path.join(shots, 'diff-side-by-side-phone.png') });
    expect(await p.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(await seriousAxeViolations(p)).toEqual([]);
    await ctx.close();
  }, 90_000);

  it('sorts the snapshot, policy and DORA tables by their headers, and at phone width by the sort control', async () => {
    const numbers = async (cells: ReturnType<Page['locator']>) => (await cells.allTextContents()).map((t) => Number(t.trim()));
    const nonIncreasing = (xs: number[]) => xs.every((x, i) => i === 0 || xs[i - 1]! >= x);
    // The snapshot's running artifacts by instances, most first.
    await page.goto(`${server.url}/#/snapshots/aws-prod%2310`);
    const running = page.getByRole('table', { name: 'Running artifacts' });
    await running.waitFor();
    await running.getByRole('button', { name: 'Instances' }).click();
    await running.getByRole('button', { name: 'Instances' }).click();
    expect(await running.locator('thead th').nth(3).getAttribute('aria-sort')).toBe('descending');
    const instances = await numbers(running.locator('tbody td.num'));
    expect(instances.length).toBeGreaterThan(5);
    expect(nonIncreasing(instances)).toBe(true);
    expect(new Set(instances).size).toBeGreaterThan(1);
    // Policies by name, descending.
    await page.goto(`${server.url}/#/policies`);
    const policies = page.getByRole('table', { name: 'Policies' });
    await policies.waitFor();
    const names = async () => policies.locator('tbody th').allTextContents();
    const before = await names();
    await policies.getByRole('button', { name: 'Policy' }).click();
    await policies.getByRole('button', { name: 'Policy' }).click();
    expect(await names()).toEqual([...before].sort((a, b) => b.localeCompare(a)));
    // DORA's per-flow table by deployments, most first; its deployments by lead time.
    await page.goto(`${server.url}/#/dora?environment=aws-prod`);
    const flows = page.getByRole('table', { name: 'DORA figures per flow' });
    await flows.waitFor();
    await flows.getByRole('button', { name: 'Deployments' }).click();
    await flows.getByRole('button', { name: 'Deployments' }).click();
    const counts = await numbers(flows.locator('tbody tr td:nth-of-type(1)'));
    expect(counts.length).toBeGreaterThan(1);
    expect(nonIncreasing(counts)).toBe(true);
    const deployments = page.getByRole('table', { name: 'Deployments in the period' });
    await deployments.getByRole('button', { name: 'Deployed' }).click();
    const times = await deployments.locator('tbody tr td:first-child').allTextContents();
    expect(times.length).toBeGreaterThan(1);
    expect(await deployments.locator('thead th').first().getAttribute('aria-sort')).toBe('ascending');

    // At phone width the header row is hidden; the sort control does the same.
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const p = await ctx.newPage();
    await signIn(p, server);
    await p.goto(`${server.url}/#/snapshots/aws-prod%2310`);
    await p.getByRole('table', { name: 'Running artifacts' }).waitFor();
    expect(await p.getByRole('button', { name: 'Instances' }).isVisible()).toBe(false);
    await p.getByLabel('Sort artifacts by').selectOption({ label: 'Instances' });
    await p.getByRole('button', { name: 'ascending' }).click();
    const phoneInstances = await numbers(p.getByRole('table', { name: 'Running artifacts' }).locator('tbody td.num'));
    expect(phoneInstances).toEqual(instances);
    await p.screenshot({ path: path.join(shots, 'sort-phone.png') });
    expect(await seriousAxeViolations(p)).toEqual([]);
    await p.goto(`${server.url}/#/dora?environment=aws-prod`);
    await p.getByRole('table', { name: 'DORA figures per flow' }).waitFor();
    await p.getByLabel('Sort flows by').selectOption({ label: 'Deployments' });
    await p.getByRole('button', { name: 'ascending' }).first().click();
    expect(nonIncreasing(await numbers(p.getByRole('table', { name: 'DORA figures per flow' }).locator('tbody tr td:nth-of-type(1)')))).toBe(true);
    expect(await p.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(await seriousAxeViolations(p)).toEqual([]);
    await ctx.close();
  }, 120_000);

  it('draws each environment\'s deployments as swimlanes: one lane per image, a bar per version, those running now open-ended', async () => {
    const res = await fetch(`${server.url}/api/v1/orgs/cyber-dojo/snapshots/aws-prod`, { headers: { authorization: `Bearer ${server.token}` } });
    const latest = (await res.json()) as { artifacts: { fingerprint: string }[] };
    await page.goto(`${server.url}/#/environments/aws-prod?tab=log`);
    const figure = page.locator('figure.swimlanes');
    await figure.waitFor();
    expect(await figure.locator('.lane-label').allTextContents()).toContain('runner');
    await figure.getByText('The runs as a list').click();
    const runs = page.getByRole('list', { name: 'Runs in aws-prod' }).locator(':scope > li');
    // runner 16d9990 ran from aws-prod#10 to #21 (the journey's span); everything in the latest snapshot is still running.
    const runner = runs.filter({ hasText: 'runner 16d9990' });
    expect(await runner.count()).toBe(1);
    expect(await runner.textContent()).toMatch(/from .* to /);
    expect(await runs.filter({ hasText: 'still running' }).count()).toBe(latest.artifacts.length);
    expect(await figure.locator('rect.bar.running').count()).toBe(latest.artifacts.length);
    await figure.screenshot({ path: path.join(shots, 'env-prod-swimlanes-desktop.png') });
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const p = await ctx.newPage();
    await signIn(p, server);
    await p.goto(`${server.url}/#/environments/aws-prod?tab=log`);
    await p.locator('figure.swimlanes').waitFor();
    // Scrolled to the newest end; the page itself does not scroll sideways.
    await expect.poll(() => p.locator('.swim-scroll').evaluate((el) => el.scrollLeft)).toBeGreaterThan(0);
    expect(await p.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await p.locator('figure.swimlanes').screenshot({ path: path.join(shots, 'env-prod-swimlanes-phone.png') });
    expect(await seriousAxeViolations(p)).toEqual([]);
    await ctx.close();
  }, 90_000);
});
