import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { seedDemo } from '../../src/services/index.js';
import { testApp, type TestApp } from './app.js';
import { buildFixtureOrg, SteppingClock } from './fixture-org.js';
import { testSigner } from './keys.js';

/** Debian's chromium (.ci/run installs it); the tests drive it headless. */
export const CHROMIUM = process.env.EVIDENT_CHROMIUM ?? '/usr/bin/chromium';

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}

export interface WebServer {
  t: TestApp;
  url: string;
  token: string;
  close(): Promise<void>;
}

/**
 * A real server (listening on a free port) with org `acme`, seeded with the 32-flow fixture unless told not
 * to; with `demo`, also the demo organisation (cyber-dojo, docs/demo.md), whose token it signs in with.
 */
export async function startWebServer(options: { seed?: boolean; demo?: boolean } = {}): Promise<WebServer> {
  const signer = testSigner();
  const seed = options.seed ?? true;
  // The fixture's records are dated by a stepping clock from 2024-03-01; the demo's end a few minutes ago,
  // so a demo-only server keeps real time (DORA's default window ends now).
  const t = await testApp({ clock: seed ? new SteppingClock() : undefined, signer });
  if (seed) await buildFixtureOrg(t.services, await t.auth.org('acme'));
  const demo = options.demo ? await seedDemo(t.store, signer) : null;
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const address = t.app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    t, url: `http://127.0.0.1:${port}`, token: demo?.token ?? t.adminToken,
    async close() {
      // A browser's keep-alive sockets would hold app.close() open: end them first.
      t.app.server.closeAllConnections();
      await t.close();
    },
  };
}

/** Signs in through the page, as a person would: paste the token, press the button. */
export async function signIn(page: Page, server: WebServer): Promise<void> {
  await page.goto(`${server.url}/`);
  await page.getByLabel('API token').fill(server.token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** Runs axe-core in the page; returns the serious and critical violations. */
export async function seriousAxeViolations(page: Page): Promise<AxeViolation[]> {
  const source = fs.readFileSync(path.resolve('node_modules/axe-core/axe.min.js'), 'utf8');
  // The page's CSP forbids inline scripts; evaluate() runs through the DevTools protocol, which it does not govern.
  await page.evaluate(source);
  const violations = (await page.evaluate(async () => {
    const g = globalThis as unknown as { document: unknown; axe: { run: (ctx: unknown, opts: object) => Promise<{ violations: unknown[] }> } };
    return (await g.axe.run(g.document, { resultTypes: ['violations'] })).violations;
  })) as AxeViolation[];
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** The demo's screenshots at the top (the ones people look at), the fixture's under fixture/. */
export const SCREENSHOTS = path.resolve('test-output/screenshots');

export async function screenshot(page: Page, name: string): Promise<void> {
  const file = path.join(SCREENSHOTS, `${name}.png`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await page.screenshot({ path: file, fullPage: true });
}
