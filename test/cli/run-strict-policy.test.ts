import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { evident } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';

// `evident run --strict` and `--policy FILE|NAME` (seed 003 §9.2, issue #19): both imply --verify; their
// rules are checked before any step (all problems at once, exit 2, nothing run).

function workspace(yaml: string, files: Record<string, string> = {}): string {
  const dir = tempDir('evident-run-policy-');
  fs.writeFileSync(path.join(dir, 'attest.yaml'), `version: "0.1"\nname: p\n${yaml}`);
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

const LOOSE = 'steps:\n  build: { run: "cat in.txt > out.txt && touch ran-build", inputs: [in.txt], outputs: [out.txt] }\n  stamp: { run: "date > stamp.txt", outputs: [stamp.txt] }\n';
const STRICT = 'env_mode: strict\nsteps:\n  build: { run: "cat in.txt > out.txt", inputs: [in.txt], outputs: [out.txt] }\n  test: { run: "grep -q x out.txt", needs: [build], inputs: [out.txt] }\n';

describe('evident run --strict and --policy', () => {
  const env = () => ({ HOME: tempDir('evident-home-'), EVIDENT_NO_REPLAY: '1' });

  it('--strict refuses an unsigned receipt, loose env_mode and a cached step without inputs, all at once', async () => {
    const dir = workspace(LOOSE, { 'in.txt': 'x\n' });
    const r = await evident(['run', '--strict', '-f', path.join(dir, 'attest.yaml')], env());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('run --strict: 3 problems; nothing ran');
    expect(r.stderr).toContain('--strict: the receipt must be signed');
    expect(r.stderr).toContain('--strict: env_mode must be strict');
    expect(r.stderr).toContain('--strict: step stamp is cached but declares no inputs');
    expect(r.stderr).not.toContain('step build is cached but');
    expect(fs.existsSync(path.join(dir, 'ran-build'))).toBe(false);
    // The same pipeline without --strict runs: the flag is what refused it.
    expect((await evident(['run', '-f', path.join(dir, 'attest.yaml')], env())).code).toBe(0);
  });

  it('--strict with everything it asks for runs, verifies, and checks the signature', async () => {
    const dir = workspace(STRICT, { 'in.txt': 'x\n' });
    const r = await evident(['run', '--strict', '--sign', '-f', path.join(dir, 'attest.yaml')], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('verify: [OK] All file hashes verified');
    expect(r.stderr).toContain('verify: [OK] Cryptographic signature valid');
  });

  it('--policy FILE or NAME: isolation, required steps in this run, signed, env_mode; bad files named', async () => {
    const dir = workspace(STRICT, { 'in.txt': 'x\n' });
    const file = path.join(dir, 'attest.yaml');
    fs.mkdirSync(path.join(dir, '.evident/policies'), { recursive: true });
    fs.writeFileSync(path.join(dir, '.evident/policies/custom-security.yaml'), 'signed: true\nisolation: sandbox\nrequired_steps: [test, lint]\n');
    const e = env();
    const r = await evident(['run', '--policy', 'custom-security', '-f', file], e);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/run policy .*custom-security.yaml: 4 problems; nothing ran/);
    expect(r.stderr).toMatch(/custom-security.yaml: the receipt must be signed/);
    expect(r.stderr).toMatch(/step build runs with isolation process, the policy requires at least sandbox/);
    expect(r.stderr).toMatch(/step test runs with isolation process/);
    expect(r.stderr).toMatch(/required step lint is not in attest.yaml/);
    expect(fs.existsSync(path.join(dir, 'out.txt'))).toBe(false);
    // A required step left out of the run by a filter.
    const policy = path.join(dir, 'needs-test.yaml');
    fs.writeFileSync(policy, 'required_steps: [test]\nenv_mode: strict\n');
    const filtered = await evident(['run', '--policy', policy, '--filter', 'build', '-f', file], e);
    expect(filtered.code).toBe(2);
    expect(filtered.stderr).toContain('required step test is not part of this run');
    const ok = await evident(['run', '--policy', policy, '-f', file], e);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toContain('verify: [OK] Run succeeded');
    // A misspelt rule, a wrong value, a missing file: refused, named.
    fs.writeFileSync(policy, 'required_step: [test]\n');
    expect((await evident(['run', '--policy', policy, '-f', file], e)).stderr).toContain('unknown rule "required_step"');
    fs.writeFileSync(policy, 'isolation: vm\n');
    expect((await evident(['run', '--policy', policy, '-f', file], e)).stderr).toContain('isolation must be one of process, sandbox, container');
    const missing = await evident(['run', '--policy', 'nope', '-f', file], e);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--policy nope: no such file');
  });
});
