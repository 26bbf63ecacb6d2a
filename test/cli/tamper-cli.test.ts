import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evident, startServerProcess, type ServerProcess } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';

// Reliability report F1, exactly: a policy requiring generic security-scan, the artifact attested
// --compliant=false; `UPDATE attestations SET compliant=1` in the SQLite file behind the server (triggers
// dropped), server restarted: `assert` must not pass, and no VSA saying PASSED may be signed.

const FP = 'e'.repeat(64);
const POLICY = '_schema: https://docs.kosli.com/schemas/policy/v1\nartifacts:\n  attestations:\n    - name: security-scan\n      type: generic\n';

describe('F1: a records-only edit behind the server through the CLI', () => {
  const dataDir = tempDir();
  const dir = tempDir('evident-f1-');
  let server: ServerProcess;
  let env: Record<string, string>;

  beforeAll(async () => {
    server = await startServerProcess(['--data-dir', dataDir]);
    env = { HOME: tempDir('evident-home-'), EVIDENT_HOST: server.url, EVIDENT_ORG: 'default', EVIDENT_API_TOKEN: server.token! };
    fs.writeFileSync(path.join(dir, 'prod.yml'), POLICY);
    for (const args of [
      ['create', 'flow', 'app'], ['begin', 'trail', 't1', '--flow', 'app'],
      ['attest', 'artifact', '--fingerprint', FP, '--name', 'app', '--flow', 'app', '--trail', 't1'],
      ['attest', 'generic', '--name', 'app.security-scan', '--compliant=false', '--fingerprint', FP, '--flow', 'app', '--trail', 't1'],
      ['create', 'environment', 'production', '--type', 'k8s'],
      ['create', 'policy', 'prod-policy', path.join(dir, 'prod.yml')], ['attach-policy', 'prod-policy', '--environment', 'production'],
    ]) {
      const res = await evident(args, env);
      expect(res.code, `${args.join(' ')}: ${res.stderr}`).toBe(0);
    }
  }, 60_000);
  afterAll(async () => server?.stop());

  it('assert exits 1 before and after the edit, and after the edit names the attestations row and its entry', async () => {
    const vsa = path.join(dir, 'app.vsa.json');
    const honest = await evident(['assert', 'artifact', '--fingerprint', FP, '--environment', 'production', '--vsa', vsa], env);
    expect(honest.code).toBe(1);
    expect(JSON.parse(Buffer.from(JSON.parse(fs.readFileSync(vsa, 'utf8')).payload, 'base64').toString('utf8')).predicate.verificationResult).toBe('FAILED');
    fs.rmSync(vsa);

    const db = new SQLite(path.join(dataDir, 'evident.db'));
    for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'attestations'").all() as { name: string }[]) db.exec(`DROP TRIGGER ${name}`);
    expect(db.prepare("UPDATE attestations SET compliant = 1 WHERE name = 'security-scan'").run().changes).toBe(1);
    db.close();
    await server.stop();
    server = await startServerProcess(['--data-dir', dataDir]);
    env.EVIDENT_HOST = server.url;

    const after = await evident(['assert', 'artifact', '--fingerprint', FP, '--environment', 'production', '--vsa', vsa], env);
    expect(after.code, after.stdout + after.stderr).toBe(1);
    expect(after.stderr).toMatch(/the attestations row of log entry \d+ was edited: its compliant is true, the entry says false/);
    expect(fs.existsSync(vsa)).toBe(false);
    // The log itself is intact: verify log --full still passes (the edit is in a projection, caught where it is used).
    expect((await evident(['verify', 'log', '--full'], env)).code).toBe(0);
  }, 60_000);
});
