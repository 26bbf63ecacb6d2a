import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evident, startServerProcess, type ServerProcess } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';
import { testSigner } from '../helpers/keys.js';
import { signVsa } from '../../src/services/index.js';
import { formatCheckpoint, openCheckpoint, parseSignerKey, parseVerifierKey, renamedSigner, signNote } from '../../src/ledger/index.js';

const GOOD = '9af401c4350b21e3f1df17d6ad808da43d9646e75b6da902cc7c492bcfb9c625';
const STRAY = '76c442c04283c4ca1af22d882750eb960cf53c0aa041bbdb2db9df2f2c1282be';
const POLICY = '_schema: https://docs.kosli.com/schemas/policy/v1\nartifacts:\n  provenance:\n    required: true\n';

describe('create policy, attach-policy, assert and a verifiable VSA through the CLI', () => {
  let server: ServerProcess;
  let env: Record<string, string>;
  const dir = tempDir('evident-policy-');
  const dataDir = tempDir();
  const file = (name: string, text: string) => {
    fs.writeFileSync(path.join(dir, name), text);
    return path.join(dir, name);
  };
  beforeAll(async () => {
    server = await startServerProcess(['--data-dir', dataDir]);
    env = { HOME: tempDir('evident-home-'), EVIDENT_HOST: server.url, EVIDENT_ORG: 'default', EVIDENT_API_TOKEN: server.token! };
    const state = file('state.json', JSON.stringify({ artifacts: [{ name: 'runner', fingerprint: GOOD, instances: 1 }, { name: 'stray', fingerprint: STRAY, instances: 1 }] }));
    for (const args of [
      ['create', 'flow', 'runner'], ['begin', 'trail', 't1', '--flow', 'runner'],
      ['attest', 'artifact', '--fingerprint', GOOD, '--name', 'runner', '--flow', 'runner', '--trail', 't1'],
      ['create', 'environment', 'prod', '--type', 'k8s'], ['snapshot', 'artifacts', 'prod', '--file', state],
      ['create', 'policy', 'prov', file('prov.yml', POLICY)], ['attach-policy', 'prov', '--environment', 'prod'],
    ]) {
      const res = await evident(args, env);
      expect(res.code, `${args.join(' ')}: ${res.stderr}`).toBe(0);
    }
  }, 60_000);
  afterAll(async () => server?.stop());

  it('refuses a malformed policy with file:line:column (exit 2)', async () => {
    const res = await evident(['create', 'policy', 'bad', file('bad.yml', POLICY.replace('required: true', 'required: yes'))], env);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/bad\.yml:4:15: artifacts\.provenance\.required/);
  });

  it('asserts: exit 0 when compliant, 1 with each failing rule; a signed VSA verifies, and fails once tampered', async () => {
    const [ok, bad, snap] = await Promise.all([
      evident(['assert', 'artifact', '--fingerprint', GOOD, '--environment', 'prod'], env),
      evident(['assert', 'artifact', '--fingerprint', STRAY, '--environment', 'prod'], env),
      evident(['assert', 'snapshot', 'prod', '--vsa', path.join(dir, 'prod.vsa.json'), '--output', 'json'], env),
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/FAILED prov@1 artifacts\.provenance: no_provenance: artifact has no provenance/);
    expect(snap.code).toBe(1);
    const key = JSON.parse(snap.stdout).signed_by as string;
    const vsa = path.join(dir, 'prod.vsa.json');
    const verified = await evident(['verify', 'attestation', vsa, '--key', key, '--workspace', dir], env);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/verification_summary\/v1/);
    const envelope = JSON.parse(fs.readFileSync(vsa, 'utf8'));
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
    statement.predicate.verificationResult = 'PASSED';
    envelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    const tampered = file('tampered.json', JSON.stringify(envelope));
    expect((await evident(['verify', 'attestation', tampered, '--key', key, '--workspace', dir], env)).code).toBe(1);

    // evident verify vsa: offline (no server needed), recomputes FAILED from the carried entries.
    const offline = { HOME: env.HOME!, EVIDENT_HOST: 'http://127.0.0.1:9', EVIDENT_ORG: 'default' };
    const rechecked = await evident(['verify', 'vsa', vsa, '--key', key], offline);
    expect(rechecked.code, rechecked.stdout + rechecked.stderr).toBe(0);
    expect(rechecked.stdout).toMatch(/\[OK\] Verdict recomputed from the entries: FAILED/);
    expect(rechecked.stdout).toMatch(/NON-COMPLIANT {2}stray/);
    // The verdict edited and re-signed with another key: the signature is not the log key's.
    const forged = file('forged.json', JSON.stringify({ ...signVsa(statement, testSigner()), evidentLog: envelope.evidentLog }));
    const refused = await evident(['verify', 'vsa', forged, '--key', key], offline);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/\[FAIL\] no signature by the log key/);
    // The file without its evidence: nothing to recompute from.
    const bare = file('bare.json', JSON.stringify({ payload: envelope.payload, payloadType: envelope.payloadType, signatures: envelope.signatures }));
    expect((await evident(['verify', 'vsa', bare, '--key', key], offline)).code).toBe(1);
    expect((await evident(['verify', 'vsa', file('junk.json', '[1]'), '--key', key], offline)).code).toBe(2);
  });

  it('verify vsa remembers the checkpoint it saw, and refuses a VSA whose checkpoint forks the one seen before', async () => {
    const snap = await evident(['assert', 'snapshot', 'prod', '--vsa', path.join(dir, 'fork.vsa.json'), '--output', 'json'], env);
    const key = JSON.parse(snap.stdout).signed_by as string;
    const vsa = path.join(dir, 'fork.vsa.json');
    const home = tempDir('evident-home-');
    const offline = { HOME: home, EVIDENT_HOST: 'http://127.0.0.1:9', EVIDENT_ORG: 'default' };
    const first = await evident(['verify', 'vsa', vsa, '--key', key], offline);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(first.stdout).toMatch(/\[OK\] First checkpoint seen for .*: remembered/);
    const note = JSON.parse(fs.readFileSync(vsa, 'utf8')).evidentLog.checkpoint as string;
    const origin = note.split('\n')[0]!;
    const saved = fs.readdirSync(path.join(home, '.evident', 'checkpoints'));
    expect(saved).toHaveLength(1);
    // The operator (who holds the log key) signs another tree of the same size and shows it to this client.
    const signer = renamedSigner(parseSignerKey(fs.readFileSync(path.join(dataDir, 'log-key'), 'utf8').trim()), origin);
    const cp = openCheckpoint(note, [parseVerifierKey(signer.verifierKey)]);
    const fork = signNote(formatCheckpoint({ origin, size: cp.size, root: new Uint8Array(32).fill(7) }), [signer]);
    fs.writeFileSync(path.join(home, '.evident', 'checkpoints', saved[0]!), fork);
    const refused = await evident(['verify', 'vsa', vsa, '--key', key], offline);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/fork/i);
    expect(refused.stdout).toContain(fork.split('\n')[2]!);
    // What contradicts the remembered checkpoint is never saved over it.
    expect(fs.readFileSync(path.join(home, '.evident', 'checkpoints', saved[0]!), 'utf8')).toBe(fork);
  });
});
