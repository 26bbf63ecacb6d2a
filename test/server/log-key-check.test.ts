import { describe, expect, it } from 'vitest';
import { generateSignerKey, parseSignerKey } from '../../src/ledger/index.js';
import { startServer } from '../../src/server/index.js';
import { recordLogKey } from '../../src/store/index.js';
import { engines, tempDir } from '../helpers/engines.js';
import { openServices } from '../helpers/services.js';

const keyId = (signerKey: string) => parseSignerKey(signerKey).verifierKey.split('+').slice(0, 2).join('+');

// Reliability report F9: a second server with another log key started on a shared database.
describe('the log key of a shared database', () => {
  it('refuses to start a server whose log key is not the one the database is signed with, naming both', async () => {
    const dataDir = tempDir();
    const a = generateSignerKey('evident.test').signerKey;
    const b = generateSignerKey('evident.test').signerKey;
    const first = await startServer({ port: 0, bind: '127.0.0.1', dataDir, logKey: a, logLevel: 'silent' });
    try {
      const refused = startServer({ port: 0, bind: '127.0.0.1', dataDir, logKey: b, logLevel: 'silent' });
      await expect(refused).rejects.toMatchObject({ code: 'CONFLICT' });
      await expect(refused).rejects.toThrow(keyId(a));
      await expect(refused).rejects.toThrow(keyId(b));
      // The same key shares the database.
      const second = await startServer({ port: 0, bind: '127.0.0.1', dataDir, logKey: a, logLevel: 'silent' });
      await second.close();
    } finally {
      await first.close();
    }
    // A deliberate change: the new key becomes the database's, and the old one is refused from then on.
    const replaced = await startServer({ port: 0, bind: '127.0.0.1', dataDir, logKey: b, logLevel: 'silent', replaceLogKey: true });
    await replaced.close();
    await expect(startServer({ port: 0, bind: '127.0.0.1', dataDir, logKey: a, logLevel: 'silent' })).rejects.toMatchObject({ code: 'CONFLICT' });
  });
});

describe.each(engines())('recording the log key on $name', (engine) => {
  it('says when it records a key for a database that already holds entries (nothing stored shows the old key)', async () => {
    const { services, org, cleanup } = await openServices(engine);
    try {
      const a = parseSignerKey(generateSignerKey('evident.test').signerKey).verifierKey;
      const b = parseSignerKey(generateSignerKey('evident.test').signerKey).verifierKey;
      const at = new Date().toISOString();
      expect(await recordLogKey(services.store as never, a, at)).toEqual({ key: a, unchecked: false });
      await services.flows.create(org, { name: 'web' });
      expect(await recordLogKey(services.store as never, b, at)).toEqual({ key: a, unchecked: false });
      // As a database made before 0016 would be on its first start after the upgrade.
      expect(await recordLogKey(services.store as never, b, at, true)).toEqual({ key: b, unchecked: true });
      expect(await recordLogKey(services.store as never, b, at)).toEqual({ key: b, unchecked: false });
    } finally {
      await cleanup();
    }
  });
});
