import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { evident } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';

// `evident run --verify` (seed 003 §9.2, issue #19 item 4): declared inputs checked before any step,
// verify_dependencies for every step, the receipt verified after the run.

function workspace(yaml: string, files: Record<string, string> = {}): string {
  const dir = tempDir('evident-run-verify-');
  fs.writeFileSync(path.join(dir, 'attest.yaml'), `version: "0.1"\nname: v\nsteps:\n${yaml}`);
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

describe('evident run --verify', () => {
  const env = () => ({ HOME: tempDir('evident-home-'), EVIDENT_NO_REPLAY: '1' });

  it('refuses before any step when a declared input nothing makes is missing, naming them all', async () => {
    const dir = workspace('  a: { run: "touch ran-a", inputs: [nope.txt, "src/*.c"] }\n  b: { run: "cp gen.txt out.txt", needs: [c], inputs: [gen.txt, also-missing/], outputs: [out.txt] }\n  c: { run: "echo x > gen.txt", outputs: [gen.txt] }\n');
    const r = await evident(['run', '--verify', '-f', path.join(dir, 'attest.yaml')], env());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('run --verify: 2 declared inputs missing; nothing ran');
    expect(r.stderr).toContain('steps.a.inputs: "nope.txt" does not exist');
    expect(r.stderr).toContain('steps.b.inputs: "also-missing/" does not exist');
    expect(r.stderr).not.toContain('gen.txt" does not exist');
    expect(fs.existsSync(path.join(dir, 'ran-a'))).toBe(false);
    expect(fs.existsSync(path.join(dir, '.evident/cache/receipts'))).toBe(false);
  });

  it('verifies the receipt after a good run (signed: signature and trust too)', async () => {
    const dir = workspace('  gen: { run: "echo hi > out.txt", inputs: [in.txt], outputs: [out.txt] }\n  use: { run: "cat out.txt", needs: [gen], inputs: [out.txt] }\n', { 'in.txt': 'x\n' });
    const e = env();
    const r = await evident(['run', '--verify', '-f', path.join(dir, 'attest.yaml')], e);
    expect(r.code, r.stderr).toBe(0);
    for (const line of ['verify: [OK] Receipt format valid', 'verify: [OK] Pipeline hash matches', 'verify: [OK] All file hashes verified', 'verify: [OK] Run succeeded', 'verify: Signature verification skipped']) expect(r.stderr).toContain(line);
    const signed = await evident(['run', '--verify', '--sign', '--no-cache', '-f', path.join(dir, 'attest.yaml')], e);
    expect(signed.code, signed.stderr).toBe(0);
    expect(signed.stderr).toContain('verify: [OK] Cryptographic signature valid');
    expect(signed.stderr).toMatch(/verify: \[OK\] Signer is trusted/);
  });

  it('turns on verify_dependencies: a step that finds its upstream output changed fails; the receipt check catches the rest', async () => {
    const chain = workspace('  gen: { run: "echo one > out.txt", outputs: [out.txt] }\n  mutate: { run: "echo two > out.txt", needs: [gen] }\n  use: { run: "cat out.txt", needs: [mutate] }\n');
    // use needs only mutate: no step checks gen's output, but the receipt no longer matches the files.
    const late = await evident(['run', '--verify', '-f', path.join(chain, 'attest.yaml')], env());
    expect(late.code).toBe(1);
    expect(late.stderr).toContain('verify: [FAIL] File hashes: output out.txt of step gen has changed');
    expect(late.stderr).toContain("run --verify: the run's receipt does not verify");
    const dir = workspace('  gen: { run: "echo one > out.txt", outputs: [out.txt] }\n  mutate: { run: "echo two > out.txt", needs: [gen] }\n  use: { run: "cat out.txt", needs: [gen, mutate] }\n');
    const plain = await evident(['run', '-f', path.join(dir, 'attest.yaml'), '--no-cache'], env());
    expect(plain.code, plain.stderr).toBe(0);
    const r = await evident(['run', '--verify', '-f', path.join(dir, 'attest.yaml'), '--no-cache'], env());
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/\[FAIL\] use \(.*\) - output out.txt of gen changed after gen made it \(attestation.verify_dependencies\)/);
    expect(r.stderr).not.toContain('verify: [OK]');
  });
});
