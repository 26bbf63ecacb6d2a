import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSignerKey } from '../../src/ledger/index.js';
import { evident, startServerProcess, type ServerProcess } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';

const FP = '9af401c4350b21e3f1df17d6ad808da43d9646e75b6da902cc7c492bcfb9c625';
const SHA = '16d9990ad23a40eecaf087abac2a58a2d2a4b3f4';

describe('proving an artifact: verify artifact, export artifact, verify package (offline)', () => {
  let server: ServerProcess;
  let env: Record<string, string>;
  const dir = tempDir('evident-pkg-');
  const file = path.join(dir, 'runner.evidence.json');

  beforeAll(async () => {
    server = await startServerProcess(['--data-dir', tempDir()]);
    env = { HOME: tempDir('evident-home-'), EVIDENT_HOST: server.url, EVIDENT_ORG: 'default', EVIDENT_API_TOKEN: server.token! };
    const steps = [
      ['create', 'flow', 'runner'],
      ['begin', 'trail', SHA, '--flow', 'runner'],
      ['attest', 'generic', '--name', 'runner.lint', '--compliant=true', '--commit', SHA, '--flow', 'runner', '--trail', SHA],
      ['attest', 'artifact', '--fingerprint', FP, '--name', 'runner', '--commit', SHA, '--flow', 'runner', '--trail', SHA],
      ['attest', 'generic', '--name', 'runner.unit-test', '--compliant=true', '--fingerprint', FP, '--flow', 'runner', '--trail', SHA],
      ['create', 'flow', 'other'],
    ];
    for (const args of steps) {
      const res = await evident(args, env);
      expect(res.code, `${args.join(' ')}: ${res.stderr}`).toBe(0);
    }
  }, 60_000);
  afterAll(async () => server?.stop());

  it('verifies every entry about the artifact against the signed checkpoint', async () => {
    const res = await evident(['verify', 'artifact', FP.slice(0, 10), '--key', server.verifierKey], env);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('[OK] Checkpoint signature valid');
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
      ['other subject', (p) => { p.subject.fingerprint = 'b'.repeat(64); }, /no entry reports artifact/],
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
});
