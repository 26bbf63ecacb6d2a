import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { evident, startServerProcess, type ServerProcess } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';

// docs/deploy.md "Backups": `evident admin backup` of a SQLite data directory while a server writes to it,
// restored by starting a server on the copy, whose log then verifies in full.

/** The tree size of the org's latest checkpoint (its second line, C2SP tlog-checkpoint). */
async function treeSize(server: ServerProcess, token: string): Promise<number> {
  const res = await fetch(`${server.url}/api/v1/orgs/default/log/checkpoint`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return Number((await res.text()).split('\n')[1]);
}

/** Creates flows, `lanes` at a time, until stopped; counts the acknowledged ones. */
function writeUntilStopped(server: ServerProcess, token: string, lanes: number) {
  let stop = false;
  let acknowledged = 0;
  const lane = async (n: number) => {
    for (let i = 0; !stop; i++) {
      const res = await fetch(`${server.url}/api/v1/orgs/default/flows`, {
        method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `lane${n}-${i}`, description: 'x'.repeat(200) }),
      });
      expect(res.status).toBe(201);
      acknowledged++;
    }
  };
  const done = Promise.all(Array.from({ length: lanes }, (_, n) => lane(n)));
  return { acknowledged: () => acknowledged, stop: () => ((stop = true), done) };
}

const until = async (check: () => boolean) => {
  while (!check()) await new Promise((r) => setTimeout(r, 20));
};

describe('evident admin backup: a SQLite backup taken while writes continue', () => {
  it('restores to a log that verifies in full, holding every write acknowledged before the backup began', async () => {
    const dataDir = tempDir();
    const server = await startServerProcess(['--data-dir', dataDir]);
    const token = server.token!;
    const backupDir = path.join(tempDir(), 'backup');
    let restored: ServerProcess | undefined;
    try {
      const writers = writeUntilStopped(server, token, 4);
      await until(() => writers.acknowledged() >= 20);
      const before = await treeSize(server, token);
      const backup = await evident(['admin', 'backup', '--data-dir', dataDir, '--to', backupDir, '--output', 'json']);
      const during = writers.acknowledged();
      // The writes went on after the backup: the copy is of one moment, not of the end.
      await until(() => writers.acknowledged() >= during + 10);
      await writers.stop();
      expect(backup.code, backup.stderr).toBe(0);
      expect(JSON.parse(backup.stdout)).toMatchObject({ to: backupDir, log_key: true });
      const after = await treeSize(server, token);
      await server.stop();

      restored = await startServerProcess(['--data-dir', backupDir]);
      const size = await treeSize(restored, token);
      expect(size).toBeGreaterThanOrEqual(before);
      expect(size).toBeLessThan(after);
      const env = { HOME: tempDir('evident-home-'), EVIDENT_HOST: restored.url, EVIDENT_ORG: 'default', EVIDENT_API_TOKEN: token };
      const verified = await evident(['verify', 'log', '--full'], env);
      expect(verified.code, verified.stderr + verified.stdout).toBe(0);
      expect(verified.stdout).toContain(`All ${size} entries re-derived`);
      // The restored server signs with the same log key and its log goes on from the copy.
      expect(restored.verifierKey).toBe(server.verifierKey);
      expect((await evident(['create', 'flow', 'after-restore'], env)).code).toBe(0);
      expect((await evident(['verify', 'log'], env)).code).toBe(0);
    } finally {
      await restored?.stop();
    }
  }, 180_000);

  it('refuses a directory that is not empty, or a data directory without a database, losing nothing', async () => {
    const target = tempDir();
    fs.writeFileSync(path.join(target, 'keep.txt'), 'mine');
    const empty = tempDir();
    const noDb = await evident(['admin', 'backup', '--data-dir', empty, '--to', path.join(tempDir(), 'b')]);
    expect(noDb.code).not.toBe(0);
    expect(noDb.stderr).toContain('no SQLite database');
    fs.writeFileSync(path.join(empty, 'evident.db'), '');
    const notEmpty = await evident(['admin', 'backup', '--data-dir', empty, '--to', target]);
    expect(notEmpty.code).not.toBe(0);
    expect(notEmpty.stderr).toContain('is not empty');
    expect(fs.readdirSync(target)).toEqual(['keep.txt']);
  });
});
