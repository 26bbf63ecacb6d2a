import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { evident, startServerProcess, type ServerProcess } from '../helpers/cli.js';
import { PG_URL, tempDir } from '../helpers/engines.js';

// docs/deploy.md "Upgrades": today's server started on a database the previous release wrote
// (test/fixtures/upgrade/README.md says how it was made). Migrations run on start; then everything that
// release recorded, signed or handed out must still verify: its log, the key its clients pinned, the
// checkpoint they remember (proven a prefix of today's log), its records' compliance, and new writes.

const FIXTURES = path.resolve('test/fixtures/upgrade');
const fixture = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'fixture.json'), 'utf8')) as {
  sqlite: { verifier_key: string; vsa_key: string; tokens: Record<string, string>; sizes: Record<string, number> };
  postgres: { verifier_key: string; tokens: Record<string, string>; sizes: Record<string, number> };
  artifact: string;
};

type Engine = 'sqlite' | 'postgres';

/** A client of the previous release: its home holds the checkpoint it last saw (~/.evident/checkpoints/). */
function clientHome(engine: Engine, orgs: string[]): string {
  const home = tempDir('evident-upgrade-home-');
  const dir = path.join(home, '.evident', 'checkpoints');
  fs.mkdirSync(dir, { recursive: true });
  for (const org of orgs) {
    const note = fs.readFileSync(path.join(FIXTURES, `${engine}-${org}.checkpoint`), 'utf8');
    fs.writeFileSync(path.join(dir, encodeURIComponent(`evident.vm/${org}`).replace(/\./g, '%2E')), note);
  }
  return home;
}

function cli(server: ServerProcess, home: string, engine: Engine, org: string) {
  const env = { HOME: home, EVIDENT_HOST: server.url, EVIDENT_ORG: org, EVIDENT_API_TOKEN: fixture[engine].tokens[org]! };
  return (...args: string[]) => evident(args, env);
}

/** What every engine must show after the upgrade, for the org `default` the fixture filled. */
async function checkUpgraded(server: ServerProcess, engine: Engine): Promise<void> {
  const key = fixture[engine].verifier_key;
  const before = fixture[engine].sizes.default!;
  const run = cli(server, clientHome(engine, ['default']), engine, 'default');

  // The same key, now named after the org's origin (C2SP tlog-checkpoint): the same public key.
  expect(server.verifierKey.split('+')[2]).toBe(key.split('+')[2]);
  // A client that pinned the old key name and remembers the old checkpoint: the log is the same tree.
  const same = await run('verify', 'log', '--full', '--key', key);
  expect(same.code, same.stderr + same.stdout).toBe(0);
  expect(same.stdout).toContain(`Same tree as the checkpoint seen before (size ${before})`);

  const trail = await run('--output', 'json', 'get', 'trail', 'abc123', '--flow', 'backend');
  expect(trail.code, trail.stderr).toBe(0);
  expect(JSON.parse(trail.stdout)).toMatchObject({ name: 'abc123', compliance: { state: 'COMPLIANT' } });

  // A write after the upgrade extends the old tree: consistency from the old size, every entry re-derived.
  const wrote = await run('attest', 'generic', '--flow', 'backend', '--trail', 'abc123', '--name', 'after-upgrade');
  expect(wrote.code, wrote.stderr).toBe(0);
  const extended = await run('verify', 'log', '--full', '--key', key);
  expect(extended.code, extended.stderr + extended.stdout).toBe(0);
  expect(extended.stdout).toContain(`Consistent with the checkpoint seen before (size ${before} -> ${before + 1})`);

  // An evidence package of a record from before the upgrade: proven, and honest about what it cannot prove.
  const pkg = path.join(tempDir(), 'artifact.evidence.json');
  const exported = await run('export', 'artifact', fixture.artifact, '-o', pkg, '--key', key);
  expect(exported.code, exported.stderr).toBe(0);
  const verified = await run('verify', 'package', pkg, '--key', key);
  expect(verified.code, verified.stderr + verified.stdout).toBe(0);
  expect(verified.stdout).toContain('logged before prev links existed');

  // A package of a record made after the upgrade is complete, chain and map both.
  const tpkg = path.join(tempDir(), 'trail.evidence.json');
  expect((await run('export', 'trail', 'abc123', '--flow', 'backend', '-o', tpkg, '--key', key)).code).toBe(0);
  const trailPkg = await run('verify', 'package', tpkg, '--key', key);
  expect(trailPkg.code, trailPkg.stderr + trailPkg.stdout).toBe(0);
}

describe('upgrading from the previous release (0.1.0)', () => {
  it('SQLite: the data directory it wrote opens, and its log, keys and checkpoints still verify', async () => {
    const dataDir = tempDir('evident-upgrade-sqlite-');
    execFileSync('tar', ['-xzf', path.join(FIXTURES, 'sqlite-data.tgz'), '-C', dataDir]);
    const server = await startServerProcess(['--data-dir', dataDir]);
    try {
      await checkUpgraded(server, 'sqlite');
      // An evidence package and a VSA the previous release handed out, checked by today's CLI.
      const run0 = cli(server, clientHome('sqlite', ['default']), 'sqlite', 'default');
      const oldPkg = await run0('verify', 'package', path.join(FIXTURES, 'sqlite-artifact.evidence.json'), '--key', fixture.sqlite.verifier_key);
      expect(oldPkg.code, oldPkg.stderr + oldPkg.stdout).toBe(0);
      expect(oldPkg.stdout).toContain('Completeness not proven: the checkpoint (size 8) has no subject map line');
      const oldVsa = await run0('verify', 'attestation', path.join(FIXTURES, 'sqlite-artifact.vsa.json'), '--key', fixture.sqlite.vsa_key);
      expect(oldVsa.code, oldVsa.stderr + oldVsa.stdout).toBe(0);
      // The demo organisation it seeded: a client that remembers its checkpoint, and its release plan.
      const run = cli(server, clientHome('sqlite', ['cyber-dojo']), 'sqlite', 'cyber-dojo');
      const log = await run('verify', 'log', '--full', '--key', fixture.sqlite.verifier_key);
      expect(log.code, log.stderr + log.stdout).toBe(0);
      expect(log.stdout).toContain(`Same tree as the checkpoint seen before (size ${fixture.sqlite.sizes['cyber-dojo']})`);
      const plan = await run('--output', 'json', 'release', 'plan', 'aws-beta', 'aws-prod');
      expect(plan.code, plan.stderr).toBe(0);
    } finally {
      await server.stop();
    }
  }, 120_000);

  const pgIt = PG_URL ? it : it.skip;
  const databases: string[] = [];
  afterAll(async () => {
    if (!PG_URL || databases.length === 0) return;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    for (const db of databases) await admin.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
    await admin.end();
  });

  pgIt('PostgreSQL: its database, restored from pg_dump, opens and still verifies', async () => {
    const name = `evident_upgrade_${process.pid}_${Date.now()}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    databases.push(name);
    await admin.end();
    const url = new URL(PG_URL!);
    url.pathname = `/${name}`;
    // The dump as plain SQL statements (--inserts); psql's own meta-commands (\restrict) are not SQL.
    const dump = zlib.gunzipSync(fs.readFileSync(path.join(FIXTURES, 'postgres.sql.gz'))).toString('utf8');
    const restore = new pg.Client({ connectionString: url.toString() });
    await restore.connect();
    await restore.query(dump.split('\n').filter((line) => !line.startsWith('\\')).join('\n'));
    await restore.end();

    const dataDir = tempDir('evident-upgrade-pg-');
    fs.copyFileSync(path.join(FIXTURES, 'postgres-log-key'), path.join(dataDir, 'log-key'));
    fs.chmodSync(path.join(dataDir, 'log-key'), 0o600);
    const server = await startServerProcess(['--data-dir', dataDir, '--database-url', url.toString()]);
    try {
      await checkUpgraded(server, 'postgres');
    } finally {
      await server.stop();
    }
  }, 120_000);
});
