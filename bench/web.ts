// `npm run bench:web`: time to a rendered page in Chromium (issue #7 item 5) for an artifact with 1,000
// history events and an environment with 5,000 running artifacts. The server is a real one on a temp data
// dir, seeded through its HTTP API; the browser is Debian's chromium, headless. Each figure is from
// navigation to the page's data on screen (fetch, JSON, render), median of 5 after a warm-up.
//
//   node dist/bench/web.js [--runs 5]
//
// Target: each under 1 s. Prints one `BENCH_JSON {...}` line last.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer } from '../src/server/index.js';
import { percentile, round } from './stats.js';
import { benchArgs } from './bench-args.js';

const { values } = benchArgs(import.meta.url, { options: { runs: { type: 'string', default: '5' } } });
const runs = Number(values.runs);
const hex64 = (n: number, salt: string) => `${salt}${n.toString(16)}`.padStart(64, '0');

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'evident-bench-web-'));
const server = await startServer({ port: 0, bind: '127.0.0.1', dataDir, defaultOrg: 'bench', logLevel: 'warn' });
const token = server.bootstrap!.token;
const api = async (method: 'POST' | 'PUT', url: string, payload: unknown) => {
  const res = await server.app.inject({ method, url: `/api/v1/orgs/bench${url}`, payload: payload as object, headers: { authorization: `Bearer ${token}` } });
  if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
};

const started = Date.now();
const fp = hex64(1, 'a');
await api('POST', '/flows', { name: 'runner', description: 'the artifact with a long history' });
await api('POST', '/flows/runner/trails', { name: 't1', git_commit: 'c'.repeat(40) });
await api('POST', '/flows/runner/trails/t1/artifacts', { name: 'runner', fingerprint: fp, git_commit: 'c'.repeat(40) });
await api('POST', '/environments', { name: 'flip', type: 'k8s' });
// 500 starts and 500 exits: 1,000 history events (plus "created").
const other = { name: 'other', fingerprint: hex64(2, 'b'), instances: 1 };
for (let i = 0; i < 500; i++) {
  await api('PUT', '/environments/flip/snapshot', { artifacts: [{ name: 'runner', fingerprint: fp, instances: 1 }, other] });
  await api('PUT', '/environments/flip/snapshot', { artifacts: [other] });
}
await api('POST', '/environments', { name: 'big', type: 'k8s' });
await api('PUT', '/environments/big/snapshot', {
  artifacts: Array.from({ length: 5000 }, (_, i) => ({ name: `svc-${i}`, fingerprint: hex64(i, 'd'), instances: 1 + (i % 3) })),
});
console.log(`seeded in ${((Date.now() - started) / 1000).toFixed(1)} s`);

const browser = await chromium.launch({ executablePath: process.env.EVIDENT_CHROMIUM ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
const context = await browser.newContext();
// Signed in as the page does it: the token exchanged once for the session cookie (context.request shares the context's cookies).
const signedIn = await context.request.post(`${server.url}/api/v1/session`, { headers: { authorization: `Bearer ${token}` } });
if (signedIn.status() !== 201) throw new Error(`sign-in failed: ${signedIn.status()} ${await signedIn.text()}`);
const page = await context.newPage();

async function timeTo(hash: string, ready: string): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i <= runs; i++) {
    await page.goto('about:blank');
    const t0 = performance.now();
    await page.goto(`${server.url}/${hash}`);
    await page.waitForSelector(ready, { state: 'visible' });
    if (i > 0) samples.push(performance.now() - t0); // the first run warms the caches
  }
  return percentile(samples, 50);
}

const artifactMs = await timeTo(`#/artifacts/runner@${fp}`, 'ol.timeline li');
const events = await page.locator('h3:has-text("Timeline")').textContent();
const envMs = await timeTo('#/environments/big', 'section[aria-labelledby="running-h"] tbody tr');
const rows = await page.locator('section[aria-labelledby="running-h"] .filters [role="status"]').textContent();
await browser.close();
await server.close();
fs.rmSync(dataDir, { recursive: true, force: true });

const line = (label: string, ms: number) => console.log(`${label.padEnd(58)} ${round(ms, 0).toString().padStart(6)} ms   target < 1000 ms   ${ms < 1000 ? 'ok' : 'OVER'}`);
console.log(`\n${events?.trim()}; ${rows?.trim()}`);
line('artifact page, 1,000 history events (to first event)', artifactMs);
line('environment page, 5,000 running artifacts (to first row)', envMs);
console.log(`BENCH_JSON ${JSON.stringify({ artifact_1000_events_ms: round(artifactMs, 0), environment_5000_artifacts_ms: round(envMs, 0) })}`);
