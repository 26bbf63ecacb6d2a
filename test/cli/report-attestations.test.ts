import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evident, startServerProcess, type ServerProcess } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';

const FP = '9af401c4350b21e3f1df17d6ad808da43d9646e75b6da902cc7c492bcfb9c625';
const SHA = '16d9990ad23a40eecaf087abac2a58a2d2a4b3f4';
const fixtures = path.resolve('test/fixtures');

describe('junit, snyk/sarif and attachments: evidence parsed by the server, committed to by the log', () => {
  let server: ServerProcess;
  let env: Record<string, string>;
  const work = tempDir('evident-reports-');
  const common = ['--flow', 'runner', '--trail', SHA, '--output', 'json'];

  beforeAll(async () => {
    server = await startServerProcess(['--data-dir', tempDir()]);
    env = { HOME: tempDir('evident-home-'), EVIDENT_HOST: server.url, EVIDENT_ORG: 'default', EVIDENT_API_TOKEN: server.token! };
    for (const args of [['create', 'flow', 'runner'], ['begin', 'trail', SHA, '--flow', 'runner'],
      ['attest', 'artifact', '--fingerprint', FP, '--name', 'runner', '--commit', SHA, '--flow', 'runner', '--trail', SHA]]) {
      const res = await evident(args, env);
      expect(res.code, res.stderr).toBe(0);
    }
  }, 60_000);
  afterAll(async () => server?.stop());

  it('parses a results directory of JUnit XML on the server: totals, compliance, evidence', async () => {
    const dir = path.join(work, 'passing');
    fs.mkdirSync(dir);
    fs.copyFileSync(path.join(fixtures, 'junit/jest-junit.xml'), path.join(dir, 'jest.xml'));
    const all = await evident(['attest', 'junit', '--results-dir', path.join(fixtures, 'junit'), '--name', 'runner.all-tests', '--fingerprint', FP, ...common], env);
    expect(all.code, all.stderr).toBe(0);
    expect(JSON.parse(all.stdout).evidence).toHaveLength(6); // one real report of each tool, merged
    // a malformed file: the server names it and its position, and records nothing
    const res = await evident(['attest', 'junit', '--results-dir', path.join(fixtures, 'junit/malformed'), '--name', 'runner.bad', '--fingerprint', FP, ...common], env);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/failsafe-summary\.xml/);
    const ok = await evident(['attest', 'junit', '--results-dir', dir, '--name', 'runner.unit-test', '--fingerprint', FP, ...common], env);
    expect(ok.code, ok.stderr).toBe(0);
    const a = JSON.parse(ok.stdout);
    expect(a.type).toBe('junit');
    expect(a.summary.totals.tests).toBeGreaterThan(0);
    expect(a.compliant).toBe(a.summary.totals.failures === 0 && a.summary.totals.errors === 0);
    // content-addressed: the same bytes uploaded earlier as jest-junit.xml are the same evidence
    expect(a.evidence).toEqual([expect.objectContaining({ size: fs.statSync(path.join(dir, 'jest.xml')).size })]);
  });

  it('parses SARIF with a threshold, and keeps attachments downloadable and verified', async () => {
    const sarif = path.join(fixtures, 'sarif/snyk-code.sarif');
    const strict = JSON.parse((await evident(['attest', 'snyk', '--scan-results', sarif, '--threshold-level', 'note', '--name', 'runner.snyk', '--fingerprint', FP, ...common], env)).stdout);
    expect(strict.type).toBe('snyk');
    expect(strict.summary.tools.length).toBeGreaterThan(0);
    expect(strict.compliant).toBe(strict.summary.results === 0);
    const notes = path.join(work, 'notes.txt');
    fs.writeFileSync(notes, 'reviewed by alice');
    const generic = await evident(['attest', 'generic', '--name', 'review', '--compliant=true', '--attachments', notes, '--flow', 'runner', '--trail', SHA], env);
    expect(generic.code, generic.stderr).toBe(0);
    const out = path.join(work, 'download');
    const got = await evident(['get', 'attestation', 'review', '--flow', 'runner', '--trail', SHA, '--download', out], env);
    expect(got.code, got.stderr).toBe(0);
    expect(fs.readFileSync(path.join(out, 'notes.txt'), 'utf8')).toBe('reviewed by alice');
  });

  it('refuses a report digest never uploaded, and a malformed SARIF, with nothing logged', async () => {
    const before = JSON.parse((await evident(['log', 'checkpoint', '--output', 'json'], env)).stdout).note;
    const bad = path.join(fixtures, 'sarif/malformed');
    const wrong = fs.readdirSync(bad).find((f) => /version/.test(f));
    expect(wrong).toBeDefined();
    const res = await evident(['attest', 'sarif', '--scan-results', path.join(bad, wrong!), '--name', 'runner.scan', '--fingerprint', FP, ...common], env);
    expect(res.code).toBe(2);
    expect(JSON.parse((await evident(['log', 'checkpoint', '--output', 'json'], env)).stdout).note).toBe(before);
  });

  it('exports the evidence with the entries, and the package verifies offline', async () => {
    const file = path.join(work, 'pkg.json');
    const exp = await evident(['export', 'artifact', FP, '-o', file, '--key', server.verifierKey], env);
    expect(exp.code, exp.stderr).toBe(0);
    const pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(pkg.blobs.length).toBeGreaterThanOrEqual(2);
    const ok = await evident(['verify', 'package', file, '--key', server.verifierKey], { HOME: tempDir() });
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/All \d+ evidence files match their digests/);
    pkg.blobs[0].data_base64 = Buffer.from('forged').toString('base64');
    fs.writeFileSync(file, JSON.stringify(pkg));
    const forged = await evident(['verify', 'package', file, '--key', server.verifierKey], { HOME: tempDir() });
    expect(forged.code).toBe(1);
    expect(forged.stdout).toMatch(/does not match its digest/);
  });
});
