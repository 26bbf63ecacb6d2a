import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { testApp, type TestApp } from './app.js';
import { buildFixtureOrg, SteppingClock } from './fixture-org.js';

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

/** A real server (listening on a free port) with org `acme`, seeded with the 32-flow fixture unless told not to. */
export async function startWebServer(options: { seed?: boolean } = {}): Promise<WebServer> {
  const t = await testApp({ clock: new SteppingClock() });
  if (options.seed ?? true) await buildFixtureOrg(t.services, await t.auth.org('acme'));
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const address = t.app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    t, url: `http://127.0.0.1:${port}`, token: t.adminToken,
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

export const SCREENSHOTS = path.resolve('test-output/screenshots');

export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
