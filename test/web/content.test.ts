import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, seriousAxeViolations, signIn, startWebServer, type WebServer } from '../helpers/web.js';
import { bearer } from '../helpers/app.js';

// Attestation contents on the trail and artifact pages: every type's content is shown, as text. The
// content is whatever the reporter sent, so it is hostile here: HTML in failure messages, findings,
// comments, PR titles, user data, and `javascript:` URLs where links go. Nothing of it may become markup
// or a script; and a row edited behind the server is refused, not shown.

const FP = 'c'.repeat(64);
const XSS = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>';

describe('attestation contents in the web UI', () => {
  let server: WebServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startWebServer({ seed: false }), launchBrowser()]);
    const s = server.t.services;
    const org = await server.t.auth.org('acme');
    await s.flows.create(org, { name: 'evil', description: `flow ${XSS}`, template: null });
    await s.trails.begin(org, { flow: 'evil', name: 't1', gitCommit: 'd'.repeat(40) });
    await s.artifacts.report(org, { flow: 'evil', trail: 't1', name: 'app', displayName: 'registry.example.com/app:1', fingerprint: FP, gitCommit: 'd'.repeat(40) });
    await s.attestations.record(org, 'junit', { flow: 'evil', trail: 't1', name: 'unit-tests', fingerprint: FP }, false, {
      totals: { tests: 3, failures: 1, errors: 0, skipped: 0, duration_secs: 2 },
      suites: [{ name: `suite ${XSS}`, tests: 3, failures: 1, errors: 0, skipped: 0, duration_secs: 2 }],
      failed_cases: [{ suite: 'suite', classname: 'Cls', name: `test_${XSS}`, message: `expected 1 got 2 ${XSS}`, type: 'AssertionError' }],
      files: [],
    });
    await s.attestations.record(org, 'snyk', { flow: 'evil', trail: 't1', name: 'snyk-scan', fingerprint: FP }, false, {
      tools: ['Snyk Container'], results: 2, suppressed: 0, rules: 2, threshold: {},
      by_level: { error: 1, warning: 1, note: 0, none: 0 }, by_severity: { critical: 1, high: 0, medium: 1, low: 0 },
      top: [
        { rule_id: 'SNYK-OPENSSL-1', level: 'error', message: `vulnerable openssl ${XSS}`, location: 'Dockerfile:3:1' },
        { rule_id: 'SNYK-ZLIB-2', level: 'warning', message: 'zlib, medium', location: '' },
      ],
    });
    await s.attestations.approval(org, { flow: 'evil', trail: 't1', name: 'approval', decision: 'approved', approver: `mallory ${XSS}`, comment: `ship it ${XSS}` }, 'token');
    await s.attestations.record(org, 'pull_request', { flow: 'evil', trail: 't1', name: 'pr' }, true, {
      provider: 'github', repository: 'acme/evil',
      pull_requests: [{ number: 7, title: `Fix ${XSS}`, author: 'eve', url: 'javascript:window.__pwned=1', state: 'merged', merged_at: null }],
    });
    await s.attestations.generic(org, {
      flow: 'evil', trail: 't1', name: 'notes', compliant: true, description: `free text ${XSS}`,
      userData: { link: 'javascript:window.__pwned=1', docs: 'https://example.com/docs' }, annotations: { ticket: 'https://example.com/T-1' },
    });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    await signIn(page, server);
  }, 90_000);
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.close();
  }, 30_000);

  const noInjection = async () => {
    expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('main img, main script').count()).toBe(0);
    expect(await page.locator('a[href^="javascript"]').count()).toBe(0);
  };

  it('shows each type on the trail page as text, with its evidence beside it', async () => {
    await page.goto(`${server.url}/#/flows/evil/trails/t1`);
    const cards = page.locator('li.attestation');
    await expect.poll(() => cards.count()).toBe(5);
    const junit = await cards.filter({ hasText: 'unit-tests' }).textContent();
    expect(junit).toContain('3 tests');
    expect(junit).toContain(`expected 1 got 2 ${XSS}`);
    expect(junit).toContain(`Cls.test_${XSS}`);
    const scan = cards.filter({ hasText: 'snyk-scan' });
    expect(await scan.textContent()).toMatch(/critical 1/);
    expect(await scan.getByRole('region', { name: 'error findings' }).textContent()).toContain(`SNYK-OPENSSL-1 at Dockerfile:3:1vulnerable openssl ${XSS}`);
    expect(await scan.getByRole('region', { name: 'warning findings' }).textContent()).toContain('SNYK-ZLIB-2');
    const approval = await cards.filter({ hasText: 'approval' }).first().textContent();
    expect(approval).toContain(`approved by mallory ${XSS}`);
    expect(approval).toContain(`ship it ${XSS}`);
    const pr = cards.filter({ hasText: 'acme/evil' });
    expect(await pr.textContent()).toContain(`#7 Fix ${XSS}`);
    const notes = cards.filter({ hasText: 'free text' });
    expect(await notes.getByRole('link', { name: 'https://example.com/docs' }).count()).toBe(1);
    expect(await notes.getByRole('link', { name: 'https://example.com/T-1' }).count()).toBe(1);
    expect(await notes.textContent()).toContain('javascript:window.__pwned=1');
    // No template: nothing is "not required", and the trail says why it is judged as it is.
    expect(await page.locator('main').textContent()).not.toContain('not required');
    expect(await page.locator('main').textContent()).toContain('no template');
    await noInjection();
    expect(await seriousAxeViolations(page)).toEqual([]);
  });

  it('shows the same contents on the artifact page', async () => {
    await page.goto(`${server.url}/#/artifacts/evil@${FP}`);
    // Its own two (tests, scan), then its trail's three (approval, PR, notes) under "Of its trail".
    await expect.poll(() => page.locator('li.attestation').count()).toBe(5);
    expect(await page.getByRole('region', { name: 'Attestations of its trail' }).locator('li.attestation').count()).toBe(3);
    expect(await page.locator('main').textContent()).toContain(`vulnerable openssl ${XSS}`);
    await noInjection();
  });

  it('runs the proof check of an entry in place', async () => {
    await page.goto(`${server.url}/#/flows/evil/trails/t1`);
    const card = page.locator('li.attestation').filter({ hasText: 'snyk-scan' });
    await card.getByRole('button', { name: /Check entry \d+ is in the signed log/ }).click();
    await expect.poll(() => card.locator('.entry-link [role=status]').textContent()).toMatch(/✓ in the signed log \(\d+ entries\)/);
  });

  it('pages a trail of many attestations: the first 100, then the rest with Load more', async () => {
    const s = server.t.services;
    const org = await server.t.auth.org('acme');
    await s.flows.create(org, { name: 'many' });
    await s.trails.begin(org, { flow: 'many', name: 'big' });
    await Promise.all(Array.from({ length: 130 }, (_, i) => s.attestations.record(org, 'generic', { flow: 'many', trail: 'big', name: `check-${i}` }, i !== 120, null)));
    await page.goto(`${server.url}/#/flows/many/trails/big`);
    const cards = page.locator('li.attestation');
    await expect.poll(() => cards.count()).toBe(100);
    expect(await page.locator('main').textContent()).toContain('130 in this trail');
    // The compliance is the whole trail's: the failing 121st attestation is not on the first page.
    expect(await page.locator('dl.facts').textContent()).toMatch(/Compliancenon-compliant/);
    await page.getByRole('button', { name: 'Load more' }).click();
    await expect.poll(() => cards.count()).toBe(130);
    expect(await page.getByRole('button', { name: 'Load more' }).count()).toBe(0);
    const ids = await cards.evaluateAll((els) => els.map((e) => e.id));
    expect(new Set(ids).size).toBe(130);
  });

  it('refuses a trail whose shown attestation content was edited behind the server', async () => {
    const db = server.t.store.db;
    const triggers = await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'attestations'`.execute(db);
    for (const r of triggers.rows) await sql.raw(`DROP TRIGGER ${r.name}`).execute(db);
    await sql`UPDATE attestations SET summary = ${JSON.stringify({ approver: 'someone-else', decision: 'approved', comment: '' })} WHERE name = 'approval'`.execute(db);
    const res = await server.t.app.inject({ method: 'GET', url: '/api/v1/orgs/acme/flows/evil/trails/t1', headers: bearer(server.token) });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({ error: { code: 'TAMPERED' } });
    expect(res.json().error.message).toMatch(/attestations row of log entry \d+ was edited: its summary/);
  });
});
