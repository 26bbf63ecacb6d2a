import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuthService } from '../../src/services/index.js';
import { openStore } from '../../src/store/index.js';
import { evident } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';

describe('evident admin create-token', () => {
  it('creates the org if needed and prints only the token, which then authenticates', async () => {
    const dataDir = tempDir();
    const home = tempDir('evident-home-');
    const res = await evident(['admin', 'create-token', '--org', 'acme', '--role', 'reporter', '--data-dir', dataDir], { HOME: home });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^evd_[A-Za-z0-9_-]{43}\n$/);
    expect(res.stderr).toMatch(/created organisation acme/);
    const store = await openStore({ dataDir });
    try {
      const principal = await new AuthService(store).authenticate(res.stdout.trim());
      expect(principal).toMatchObject({ role: 'reporter', org: { name: 'acme' } });
    } finally {
      await store.close();
    }
  });

  it('writes nothing with --dry-run and refuses bad roles and names with exit 2', async () => {
    const dataDir = path.join(tempDir(), 'never-created');
    const dry = await evident(['--dry-run', 'admin', 'create-token', '--org', 'acme', '--role', 'admin', '--data-dir', dataDir], { HOME: tempDir() });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toBe('');
    expect(fs.existsSync(dataDir)).toBe(false);
    const badRole = await evident(['admin', 'create-token', '--org', 'acme', '--role', 'king', '--data-dir', dataDir], { HOME: tempDir() });
    expect(badRole.code).toBe(2);
    expect(badRole.stderr).toMatch(/invalid role "king"/);
    const badOrg = await evident(['admin', 'create-token', '--org', '../etc', '--role', 'admin', '--data-dir', dataDir], { HOME: tempDir() });
    expect(badOrg.code).toBe(2);
    expect(badOrg.stderr).toMatch(/invalid organisation name/);
  });

  it('fails with exit 3 and a clear message when PostgreSQL cannot be reached', async () => {
    const res = await evident(['admin', 'create-token', '--org', 'acme', '--role', 'admin', '--database-url', 'postgres://postgres@127.0.0.1:1/test'], { HOME: tempDir() });
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(/cannot reach the database/);
    expect(res.stdout).toBe('');
  });
});
