import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ParsePool } from '../../src/services/parse-pool.js';
import { runParse } from '../../src/services/parse-jobs.js';

// The built worker (npm run build): vitest runs TypeScript, which a worker thread cannot load.
const script = pathToFileURL(path.resolve('dist/src/services/parse-worker.js'));

export function bigJUnit(cases: number, failures = 0): Buffer {
  const parts = [`<?xml version="1.0"?><testsuite name="big" tests="${cases}" failures="${failures}">`];
  for (let k = 0; k < cases; k++) parts.push(k < failures ? `<testcase classname="c.C${k % 97}" name="t${k}"><failure message="boom"/></testcase>` : `<testcase classname="c.C${k % 97}" name="t${k}" time="0.001"/>`);
  parts.push('</testsuite>');
  return Buffer.from(parts.join(''));
}

// Reliability report F4: reports were parsed on the event loop.
describe('report parsing in worker threads', () => {
  let pool: ParsePool | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });

  it('parses in a worker with the same answer, and the same typed errors, as in this thread', async () => {
    pool = new ParsePool({ script, workers: 1 });
    expect(pool.workers).toBe(1);
    const xml = bigJUnit(50, 2);
    expect(await pool.parse('junit', xml, 'r.xml')).toEqual(runParse('junit', xml, 'r.xml'));
    const bad = Buffer.from('<testsuite><testcase></testsuite>');
    const inThread = (() => { try { runParse('junit', bad, 'bad.xml'); } catch (err) { return err; } })() as Error & { code: string };
    await expect(pool.parse('junit', bad, 'bad.xml')).rejects.toMatchObject({ code: inThread.code, message: inThread.message });
  });

  it('stops a parse past the time limit with a 422 naming it, and goes on parsing', async () => {
    pool = new ParsePool({ script, workers: 1, timeoutMs: 1 });
    await expect(pool.parse('junit', bigJUnit(200_000), 'slow.xml')).rejects.toMatchObject({ code: 'VERIFICATION_FAILED', message: expect.stringMatching(/slow\.xml took longer than 1 ms/) });
    const patient = new ParsePool({ script, workers: 1 });
    try {
      expect((await patient.parse('junit', bigJUnit(3), 'ok.xml')).totals).toMatchObject({ tests: 3 });
    } finally {
      await patient.close();
    }
  });

  it('refuses parses beyond its queue with 503, and answers the rest', async () => {
    pool = new ParsePool({ script, workers: 1, maxQueue: 1 });
    const jobs = [0, 1, 2].map((k) => pool!.parse('junit', bigJUnit(20_000), `r${k}.xml`));
    const settled = await Promise.allSettled(jobs);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect((settled[2] as PromiseRejectedResult).reason).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/busy/) });
  });

  it('stops a parse past the heap limit with a 422 naming it', async () => {
    pool = new ParsePool({ script, workers: 1, heapMb: 16 });
    await expect(pool.parse('junit', bigJUnit(400_000), 'huge.xml')).rejects.toMatchObject({ code: 'VERIFICATION_FAILED', message: expect.stringMatching(/huge\.xml needs more than 16 MiB/) });
  }, 60_000);

  it('parses bytes that share Buffer\'s pool (untransferable on Node 21+), leaving them intact', async () => {
    pool = new ParsePool({ script, workers: 1 });
    const small = Buffer.from('<testsuite name="s" tests="1"><testcase name="a"/></testsuite>');
    const text = small.toString('utf8');
    expect((await pool.parse('junit', small, 'pooled.xml')).totals).toMatchObject({ tests: 1 });
    expect(small.toString('utf8')).toBe(text);
    const view = Buffer.concat([Buffer.alloc(16), bigJUnit(3)]).subarray(16);
    expect((await pool.parse('junit', view, 'view.xml')).totals).toMatchObject({ tests: 3 });
  });

  it('parses in this thread when it has no workers', async () => {
    pool = new ParsePool({ workers: 0 });
    expect((await pool.parse('junit', bigJUnit(2), 'x.xml')).totals).toMatchObject({ tests: 2 });
  });
});
