import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSignerKey } from '../../src/ledger/index.js';
import { evident, startServerProcess, type ServerProcess } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';

const FP = '9af401c4350b21e3f1df17d6ad808da43d9646e75b6da902cc7c492bcfb9c625';
const SHA = '16d9990ad23a40eecaf087abac2a58a2d2a4b3f4';

const STEPS = [
  ['create', 'flow', 'runner'],
  ['begin', 'trail', SHA, '--flow', 'runner'],
  ['attest', 'generic', '--name', 'runner.lint', '--compliant=true', '--commit', SHA, '--flow', 'runner', '--trail', SHA],
  ['attest', 'artifact', '--fingerprint', FP, '--name', 'runner', '--commit', SHA, '--flow', 'runner', '--trail', SHA],
  ['attest', 'generic', '--name', 'runner.unit-test', '--compliant=true', '--fingerprint', FP, '--flow', 'runner', '--trail', SHA],
  ['create', 'flow', 'other'],
];

async function record(env: Record<string, string>): Promise<void> {
  for (const args of STEPS) {
    const res = await evident(args, env);
    expect(res.code, `${args.join(' ')}: ${res.stderr}`).toBe(0);
  }
}

describe('proving an artifact: verify artifact, export artifact, verify package (offline)', () => {
  let server: ServerProcess;
  let env: Record<string, string>;
  const dataDir = tempDir();
  const dir = tempDir('evident-pkg-');
  const file = path.join(dir, 'runner.evidence.json');

  beforeAll(async () => {
    server = await startServerProcess(['--data-dir', dataDir]);
    env = { HOME: tempDir('evident-home-'), EVIDENT_HOST: server.url, EVIDENT_ORG: 'default', EVIDENT_API_TOKEN: server.token! };
    await record(env);
  }, 60_000);
  afterAll(async () => server?.stop());

  it('verifies every entry about the artifact against the signed checkpoint, and remembers the checkpoint', async () => {
    const res = await evident(['verify', 'artifact', FP.slice(0, 10), '--key', server.verifierKey], env);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('[OK] Checkpoint signature valid');
    expect(res.stdout).toContain('[OK] First checkpoint seen for ');
    const remembered = fs.readdirSync(path.join(env.HOME!, '.evident', 'checkpoints'));
    expect(remembered).toHaveLength(1);
    const saved = fs.readFileSync(path.join(env.HOME!, '.evident', 'checkpoints', remembered[0]!), 'utf8');
    expect(saved).toBe((await evident(['log', 'checkpoint'], env)).stdout);
    const again = await evident(['verify', 'artifact', FP.slice(0, 10), '--key', server.verifierKey], env);
    expect(again.stdout).toContain('[OK] Same tree as the checkpoint seen before');
    expect(res.stdout).toContain('[OK] All 5 entries are included in the checkpoint');
    expect(res.stdout).toContain(`[OK] The entries are about artifact ${FP}`);
  });

  it('exports a package that verifies offline, and rejects every kind of tampering', async () => {
    const exp = await evident(['export', 'artifact', `runner@${FP}`, '-o', file, '--key', server.verifierKey], env);
    expect(exp.code, exp.stderr).toBe(0);
    const offline = { HOME: tempDir('evident-offline-') }; // no server, no pinned keys
    const ok = await evident(['verify', 'package', file, '--key', server.verifierKey, '--output', 'json'], offline);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, subject: FP });
    const selfKeyed = await evident(['verify', 'package', file], offline);
    expect(selfKeyed.code).toBe(0);
    expect(selfKeyed.stderr).toMatch(/trusting the log key written inside the package/);

    const pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
    const variants: [string, (p: typeof pkg) => void, RegExp][] = [
      ['edited entry', (p) => { p.entries[2].entry = p.entries[2].entry.replace('"compliant":true', '"compliant":false'); }, /does not match its leaf hash/],
      ['edited entry and leaf hash', (p) => {
        const e = p.entries[2];
        e.entry = e.entry.replace('"compliant":true', '"compliant":false');
        e.leaf_hash = createHash('sha256').update(Buffer.concat([Buffer.from([0]), Buffer.from(e.entry)])).digest('hex');
      }, /not included in the checkpoint/],
      ['wrong proof', (p) => { p.entries[0].inclusion_proof[0] = 'f'.repeat(64); }, /not included/],
      ['forged checkpoint', (p) => { p.checkpoint = p.checkpoint.replace(/\n\d+\n/, '\n999\n'); }, /Checkpoint/],
      ['other subject', (p) => { p.subject.fingerprint = 'b'.repeat(64); }, /no entry reports artifact|the map proof is for .*, not .*bbbbbbbb/],
      ['missing blob', (p) => { p.blobs.push({ digest: 'c'.repeat(64), data_base64: 'aGVsbG8=' }); }, /does not match its digest/],
      ['bad shape', (p) => { delete p.entries; }, /not an evidence package/],
    ];
    for (const [name, mutate, message] of variants) {
      const copy = JSON.parse(JSON.stringify(pkg));
      mutate(copy);
      const bad = path.join(dir, `${name.replace(/ /g, '-')}.json`);
      fs.writeFileSync(bad, JSON.stringify(copy));
      const res = await evident(['verify', 'package', bad, '--key', server.verifierKey], offline);
      expect(res.code, name).toBe(1);
      expect(res.stdout + res.stderr, name).toMatch(message);
    }
    // a genuine key of another log: the checkpoint is not signed by it
    const otherKey = await evident(['verify', 'package', file, '--key', generateSignerKey(server.verifierKey.split('+')[0]!).verifierKey], offline);
    expect(otherKey.code).toBe(1);
    expect(otherKey.stdout).toMatch(/\[FAIL\] Checkpoint/);
    // a malformed key is a usage error
    expect((await evident(['verify', 'package', file, '--key', 'not-a-key'], offline)).code).toBe(2);
  });

  it('refuses a forked log that verify log refuses: verify artifact, export artifact and verify package exit 1 printing both notes', async () => {
    const seen = await evident(['verify', 'log', '--key', server.verifierKey], env);
    expect(seen.code, seen.stderr).toBe(0);
    // The attacker holds the log key and serves another history of the same size, re-signed (F6's rewrite).
    const other = await startServerProcess(['--data-dir', tempDir(), '--log-key', path.join(dataDir, 'log-key')]);
    try {
      const forkEnv = { ...env, EVIDENT_HOST: other.url, EVIDENT_API_TOKEN: other.token! };
      await record({ ...forkEnv, HOME: tempDir('evident-home-') });
      const log = await evident(['verify', 'log', '--key', server.verifierKey], forkEnv);
      expect(log.code).toBe(1);
      expect(log.stdout).toContain('log forked');
      const forkedFile = path.join(dir, 'forked.json');
      const runs: [string, string[]][] = [
        ['verify artifact', ['verify', 'artifact', FP, '--key', server.verifierKey]],
        ['export artifact', ['export', 'artifact', FP, '-o', forkedFile, '--key', server.verifierKey]],
      ];
      for (const [name, args] of runs) {
        const res = await evident(args, forkEnv);
        expect(res.code, name).toBe(1);
        expect(res.stdout, name).toContain('[FAIL] log forked');
        expect(res.stdout, name).toContain('--- previously seen ---');
        expect(res.stdout, name).toContain('--- now served ---');
      }
      expect(fs.existsSync(forkedFile)).toBe(false);
      // A package of the forked log, exported by someone who never saw the genuine one, ...
      const fresh = await evident(['export', 'artifact', FP, '-o', forkedFile, '--key', server.verifierKey], { ...forkEnv, HOME: tempDir('evident-home-') });
      expect(fresh.code, fresh.stderr).toBe(0);
      // ... is refused online (the genuine host proves the package's tree is no prefix of what was seen) and offline.
      const online = await evident(['verify', 'package', forkedFile, '--key', server.verifierKey], env);
      expect(online.code, online.stderr).toBe(1);
      expect(online.stdout).toContain('--- previously seen ---');
      const offline = await evident(['verify', 'package', forkedFile, '--key', server.verifierKey], { HOME: env.HOME! });
      expect(offline.code).toBe(1);
      expect(offline.stdout).toContain('log forked');
      // The genuine package still verifies against the genuine host.
      const genuine = await evident(['verify', 'package', file, '--key', server.verifierKey], env);
      expect(genuine.code, genuine.stdout + genuine.stderr).toBe(0);
    } finally {
      await other.stop();
    }
  }, 120_000);
});
