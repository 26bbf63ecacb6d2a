import { afterEach, describe, expect, it, vi } from 'vitest';
import { startServer } from '../../src/server/index.js';
import { tempDir } from '../helpers/engines.js';

// A server loads the subject maps of large logs in the background after it starts listening (issue #21): at 5M
// entries that takes tens of seconds of a core, so it says when the load is over (bench:verify waits for it).
describe('the subject maps loaded at start', () => {
  afterEach(() => vi.restoreAllMocks());

  it('are announced at info, with how long the load took', async () => {
    const dataDir = tempDir();
    // A first start makes the default org and its log; the second loads every log of at least one entry.
    const first = await startServer({ port: 0, bind: '127.0.0.1', dataDir, logLevel: 'silent' });
    await first.app.inject({ method: 'POST', url: '/api/v1/orgs/default/flows', headers: { authorization: `Bearer ${first.bootstrap!.token}` }, payload: { name: 'f' } });
    await first.close();
    const lines: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string | Uint8Array, ...rest: never[]) => {
      lines.push(String(chunk));
      return write(chunk, ...rest);
    }) as typeof process.stderr.write);
    const second = await startServer({ port: 0, bind: '127.0.0.1', dataDir, logLevel: 'info', preloadMapsFrom: 1 });
    try {
      await second.mapsPreloaded;
      // Only the server's JSON log lines: anything else written to stderr meanwhile is not the server's.
      const records = lines.flatMap((l) => l.split('\n')).filter((l) => l.startsWith('{')).flatMap((l) => {
        try {
          return [JSON.parse(l) as { msg?: string; ms?: number }];
        } catch {
          return [];
        }
      });
      const loaded = records.find((l) => l.msg === 'subject maps loaded');
      expect(loaded?.ms).toBeGreaterThanOrEqual(0);
    } finally {
      await second.close();
    }
  });
});
