import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evident, startServerProcess, type ServerProcess } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';
import { envelopeText, provenanceStatement } from '../helpers/provenance-files.js';

// `evident attest provenance FILE`: checked, uploaded as evidence, recorded per artifact it is about.

const fp = (c: string) => c.repeat(64);
const TRAIL = 'b'.repeat(40);

describe('evident attest provenance', () => {
  let server: ServerProcess;
  let env: Record<string, string>;
  const work = tempDir('evident-prov-');
  const common = ['--flow', 'shop', '--trail', TRAIL];
  const file = (name: string, text: string) => {
    const f = path.join(work, name);
    fs.writeFileSync(f, text);
    return f;
  };
  const trailText = async () => (await evident(['get', 'trail', TRAIL, '--flow', 'shop', '--output', 'json'], env)).stdout;

  beforeAll(async () => {
    server = await startServerProcess(['--data-dir', tempDir()]);
    env = { HOME: tempDir('evident-home-'), EVIDENT_HOST: server.url, EVIDENT_ORG: 'default', EVIDENT_API_TOKEN: server.token! };
    for (const args of [['create', 'flow', 'shop'], ['begin', 'trail', TRAIL, '--flow', 'shop'], ['attest', 'artifact', '--fingerprint', fp('a'), '--name', 'app', ...common]]) {
      const res = await evident(args, env);
      expect(res.code, res.stderr).toBe(0);
    }
  }, 60_000);
  afterAll(async () => server?.stop());

  it('records an envelope for the artifact that is its subject, with the file as evidence', async () => {
    const f = file('app.intoto.json', envelopeText(provenanceStatement({ 'out/app': fp('a'), other: fp('c') })));
    const res = await evident(['attest', 'provenance', f, '--name', 'provenance', ...common, '--output', 'json'], env);
    expect(res.code, res.stderr).toBe(0);
    const { attestations } = JSON.parse(res.stdout) as { attestations: { type: string; artifact_fingerprint: string; evidence: { name: string; size: number }[] }[] };
    expect(attestations).toEqual([expect.objectContaining({ type: 'provenance', artifact_fingerprint: fp('a'), evidence: [expect.objectContaining({ name: 'app.intoto.json', size: fs.statSync(f).size })] })]);
    const table = await evident(['attest', 'provenance', f, '--name', 'again', '--fingerprint', fp('c'), ...common], env);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain(`provenance attestation again: artifact ${fp('c')}`);
  });

  it('refuses a file that is not provenance, or a fingerprint that is not a subject, and records nothing', async () => {
    const before = await trailText();
    const cases: [string, RegExp][] = [
      [file('plain.json', '{"hello": "world"}'), /neither a DSSE envelope .* nor an in-toto statement/],
      [file('spdx.json', envelopeText(provenanceStatement({ a: fp('a') }, 'https://spdx.dev/Document'))), /\/payload\/predicateType/],
    ];
    for (const [f, message] of cases) {
      const res = await evident(['attest', 'provenance', f, '--name', 'bad', ...common], env);
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(message);
    }
    const mismatch = await evident(['attest', 'provenance', file('ok.json', envelopeText(provenanceStatement({ a: fp('a') }))), '--name', 'bad', '--fingerprint', fp('d'), ...common], env);
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toMatch(/is not the SHA-256 of any subject/);
    const dry = await evident(['attest', 'provenance', path.join(work, 'ok.json'), '--name', 'bad', ...common, '--dry-run'], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(await trailText()).toBe(before);
  });
});
