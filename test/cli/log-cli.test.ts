import { createPublicKey } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromHex } from '../../src/core/index.js';
import { leafHash, openCheckpoint, parseVerifierKey, storedHashIndex, verifyConsistency, verifyInclusion } from '../../src/ledger/index.js';
import { LogService, loadLogKey } from '../../src/services/index.js';
import { openStore } from '../../src/store/index.js';
import { evident, startServerProcess, type ServerProcess } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';

/** Appends entries to the org's log of a data directory, as another server process would. */
async function appendTo(dataDir: string, org: string, records: Record<string, unknown>[], logKey?: string): Promise<void> {
  const store = await openStore({ dataDir });
  try {
    const log = new LogService(store, loadLogKey({ dataDir, key: logKey }).signer);
    const o = (await store.orgs.get(org))!;
    for (const r of records) await log.append(o, 'test.record', r);
  } finally {
    await store.close();
  }
}

describe('evident log and evident verify log against a real server', () => {
  const dataDir = tempDir();
  const home = tempDir('evident-home-');
  let server: ServerProcess;
  let env: Record<string, string>;

  beforeAll(async () => {
    server = await startServerProcess(['--data-dir', dataDir]);
    env = { HOME: home, EVIDENT_HOST: server.url, EVIDENT_ORG: 'default', EVIDENT_API_TOKEN: server.token! };
    // A new user's first check sees the empty log; the log then grows from it.
    const empty = await evident(['verify', 'log'], env);
    expect(empty.code, empty.stderr).toBe(0);
    await appendTo(dataDir, 'default', Array.from({ length: 12 }, (_, i) => ({ n: i })));
  }, 60_000);
  afterAll(async () => server?.stop());

  it('created the default org, printed its first admin token once, and kept the log key private', async () => {
    expect(server.token).toMatch(/^evd_/);
    expect(fs.statSync(path.join(dataDir, 'log-key')).mode & 0o777).toBe(0o600);
    const again = await startServerProcess(['--data-dir', dataDir]);
    await again.stop();
    expect(again.token).toBeUndefined();
    expect(again.verifierKey).toBe(server.verifierKey);
  });

  it('prints the key, the checkpoint verbatim, entries and proofs for outside verifiers', async () => {
    const key = await evident(['log', 'key'], env);
    expect(key.stdout.trim()).toBe(server.verifierKey);
    expect(parseVerifierKey(server.verifierKey).name).toMatch(/\/default$/); // the key name is the origin
    const pem = await evident(['log', 'key', '--pem'], env);
    expect(pem.stdout).toMatch(/^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+-----END PUBLIC KEY-----\n$/);
    const raw = createPublicKey(pem.stdout).export({ format: 'der', type: 'spki' }).subarray(12);
    expect(raw.toString('base64')).toBe(Buffer.from(server.verifierKey.split('+').slice(2).join('+'), 'base64').subarray(1).toString('base64'));
    const note = await evident(['log', 'checkpoint'], env);
    const cp = openCheckpoint(note.stdout, [parseVerifierKey(server.verifierKey)]);
    expect(cp.size).toBe(12);

    const entries = JSON.parse((await evident(['log', 'entries', '--start', '2', '--end', '5', '--output', 'json'], env)).stdout);
    expect(entries.map((e: { index: number }) => e.index)).toEqual([2, 3, 4]);
    for (const e of entries) {
      expect(Object.keys(e).sort()).toEqual(['entry', 'index', 'leaf_hash']);
      expect(e.leaf_hash).toBe(Buffer.from(leafHash(new TextEncoder().encode(e.entry))).toString('hex'));
    }

    const inc = JSON.parse((await evident(['log', 'proof', 'inclusion', '--index', '3', '--output', 'json'], env)).stdout);
    expect(Object.keys(inc).sort()).toEqual(['hashes', 'index', 'leaf_hash', 'tree_size']);
    verifyInclusion(3, 12, fromHex(inc.leaf_hash), inc.hashes.map((h: string) => fromHex(h)), cp.root);

    const con = JSON.parse((await evident(['log', 'proof', 'consistency', '--from', '5', '--to', '12', '--output', 'json'], env)).stdout);
    expect(Object.keys(con).sort()).toEqual(['from', 'hashes', 'to']);
    expect(con.hashes.length).toBeGreaterThan(0);
    expect(() => verifyConsistency(5, 12, con.hashes.map((h: string) => fromHex(h)), new Uint8Array(32), cp.root)).toThrow();
  });

  it('maps failures to exit codes: 2 usage, 3 unreachable, 4 auth', async () => {
    expect((await evident(['log', 'entries', '--start', 'ten'], env)).code).toBe(2);
    expect((await evident(['log', 'nonsense'], env)).code).toBe(2);
    expect((await evident(['log', 'key'], { ...env, EVIDENT_API_TOKEN: 'evd_wrong' })).code).toBe(4);
    expect((await evident(['log', 'key'], { ...env, EVIDENT_ORG: 'someone-else' })).code).toBe(4);
    const down = await evident(['log', 'key'], { ...env, EVIDENT_HOST: 'http://127.0.0.1:9' });
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/cannot reach/);
    expect(down.stdout).toBe('');
  });

  it('reads host, org and token from ~/.evident.yml', async () => {
    const cfgHome = tempDir('evident-cfg-');
    fs.writeFileSync(path.join(cfgHome, '.evident.yml'), `host: ${server.url}\norg: default\napi_token: ${server.token}\n`);
    const res = await evident(['log', 'key'], { HOME: cfgHome });
    expect(res.code).toBe(0);
    expect(res.stdout.trim()).toBe(server.verifierKey);
  });

  it('verifies the log, remembers the checkpoint and checks consistency as the log grows', async () => {
    const first = await evident(['verify', 'log'], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/\[OK\] Checkpoint signature valid/);
    expect(first.stdout).toMatch(/\[OK\] Consistent with the checkpoint seen before \(the empty log -> size 12\)/);
    await appendTo(dataDir, 'default', [{ n: 12 }, { n: 13 }]);
    const second = await evident(['verify', 'log', '--full', '--output', 'json'], env);
    expect(second.code, second.stderr).toBe(0);
    const report = JSON.parse(second.stdout);
    expect(report).toMatchObject({ ok: true, size: 14, previous: { size: 12 }, conflict: null, first_bad_index: null });
    // The checkpoint's map line is checked against the map recomputed from the entries (here: no subjects yet).
    expect(report.checks.map((c: { message: string }) => c.message)).toContainEqual(expect.stringMatching(/subject map/));
  });

  it('names the tampered index when an entry row is edited behind the server\'s back: the server refuses to serve it', async () => {
    // The server checks each entry bundle against the root it signs before serving it (docs/log.md, "Consistency
    // proofs and tiles are checked too"), so `verify log --full` gets its TAMPERED answer, not the forged bytes.
    // How the client names an entry a lying server does serve is test/cli/log-stream.test.ts and
    // full-check-locate.test.ts (a source serving forged bundles).
    const db = new SQLite(path.join(dataDir, 'evident.db'));
    db.exec('DROP TRIGGER log_entries_no_update');
    const row = db.prepare('SELECT entry FROM log_entries WHERE idx = 7').get() as { entry: string };
    const forged = row.entry.replace('"n":7', '"n":700');
    db.prepare('UPDATE log_entries SET entry = ? WHERE idx = 7').run(forged);
    const text = await evident(['verify', 'log', '--full'], env);
    expect(text.code).toBe(1);
    expect(text.stderr).toMatch(/log entry 7 does not hash to the leaf of the signed tree/);
    // A careful forger also rewrites the leaf hash column: the signed root still names index 7.
    const forgedLeaf = Buffer.from(leafHash(new TextEncoder().encode(forged)));
    db.prepare('UPDATE log_entries SET leaf_hash = ? WHERE idx = 7').run(forgedLeaf);
    const json = await evident(['verify', 'log', '--full', '--output', 'json'], env);
    expect(json.code).toBe(1);
    expect(json.stderr).toMatch(/entry 7/);
    // With its level-0 stored hash rewritten too: this server checked that hash (in the right edge of this head)
    // before the edit and keeps the checked value, so entry 7 still does not hash to it.
    db.exec('DROP TRIGGER log_hashes_no_update');
    db.prepare('UPDATE log_hashes SET hash = ? WHERE hidx = ?').run(forgedLeaf, storedHashIndex(0, 7));
    db.close();
    const pair = await evident(['verify', 'log', '--full', '--output', 'json'], env);
    expect(pair.code).toBe(1);
    expect(pair.stderr).toMatch(/log entry 7 does not hash to the leaf of the signed tree/);
  });

  it('exits 1 printing both checkpoints when the server serves a forked or rolled-back log', async () => {
    const keyFile = path.join(dataDir, 'log-key');
    for (const [kind, count] of [['forked', 20], ['rolled back', 3]] as const) {
      const otherDir = tempDir();
      const other = await startServerProcess(['--data-dir', otherDir, '--log-key', keyFile]);
      try {
        await appendTo(otherDir, 'default', Array.from({ length: count }, (_, i) => ({ other: i })), keyFile);
        const res = await evident(['verify', 'log'], { ...env, EVIDENT_HOST: other.url, EVIDENT_API_TOKEN: other.token! });
        expect(res.code, res.stderr).toBe(1);
        expect(res.stdout).toContain(kind);
        expect(res.stdout).toContain('--- previously seen ---');
        const notes = res.stdout.split('--- now served ---');
        expect(notes[0]).toMatch(/\n14\n/);
        expect(notes[1]).toMatch(new RegExp(`\\n${count}\\n`));
      } finally {
        await other.stop();
      }
    }
  }, 60_000);

  it('refuses a checkpoint signed by another key than the pinned one', async () => {
    const otherDir = tempDir();
    const other = await startServerProcess(['--data-dir', otherDir]);
    try {
      const res = await evident(['verify', 'log', '--key', server.verifierKey], { ...env, EVIDENT_HOST: other.url, EVIDENT_API_TOKEN: other.token! });
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/Error: /);
    } finally {
      await other.stop();
    }
  }, 60_000);
});
