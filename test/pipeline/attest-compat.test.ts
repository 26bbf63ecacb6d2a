import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildReceipt, cacheKey, loadSpec, parseSpec } from '../../src/pipeline/index.js';
import { receiptProblems } from '../../src/pipeline/receipt.js';
import { read, run, workspace, write } from './runner-helpers.js';

// ATTEST's attest.yaml read as it is (issue #19 item 1): every field of its `Step`, `StepAttestation`,
// `Pipeline` and `AttestationConfig` structs (Alien6-Studio/continuum-attest src/pipeline/step.rs and
// parser.rs) with ATTEST's meaning, and the fields Evident cannot honour refused by name. The pipelines
// below are written for these tests in ATTEST's form; ATTEST's own example files are run at the end when
// their copies are on this machine (that repository's content is kept out of Evident's commits).

const problems = (text: string) => parseSpec(text).problems.map((p) => `${p.path}: ${p.message}`);

describe("ATTEST's fields", () => {
  it('accepts every field of ATTEST\'s Step and Pipeline structs', () => {
    const text = `schema_version: 1
version: "2.4.0"
env: { RUST_LOG: info }
attestation: { sign_all_steps: false, verify_dependencies: false, require_reproducible: false }
steps:
  fmt:
    run: "cargo fmt --check"
    inputs: ["src/"]
    outputs: []
    working_dir: "crates/core"
    timeout_secs: 600
    cache: true
    attestation: { type: "format-check", reproducible: false, generate_slsa: true, verify_chain: true }
`;
    const { spec, problems: found } = parseSpec(text, 'my-dir');
    expect(found).toEqual([]);
    expect(spec!.version).toBe('2.4.0');
    expect(spec!.schemaVersion).toBe(1);
    expect(spec!.name).toBe('my-dir');
    expect(spec!.steps.get('fmt')).toMatchObject({ workingDir: 'crates/core', timeoutSecs: 600, attestationType: 'format-check', verifyChain: true, outputs: [] });
  });

  it('refuses what Evident cannot honour, naming the field and why (image: runs under Podman, test/pipeline/container.test.ts)', () => {
    const text = `version: "0.1"
name: x
steps:
  a: { run: a, image: "node:18-alpine" }
  b: { run: b, capsule: rust-1.79 }
  c: { run: c, isolation: container }
  d: { run: d, isolation: vm, vm_image: ubuntu.qcow2 }
  e: { run: e, attestation: { type: build, generate_slsa: false } }
`;
    const found = problems(text);
    expect(found).toEqual([
      expect.stringMatching(/^steps\.b\.capsule: names an ATTEST hermetic capsule/),
      expect.stringMatching(/^steps\.c\.isolation: container needs the image to run in/),
      expect.stringMatching(/^steps\.d\.isolation: VM isolation/),
      expect.stringMatching(/^steps\.d\.vm_image: is for VM isolation/),
      expect.stringMatching(/^steps\.e\.attestation\.generate_slsa: cannot be false/),
    ]);
  });

  it('refuses bad values of the new fields', () => {
    const text = `schema_version: 2
version: "1"
steps:
  a: { run: a, working_dir: "../up", timeout_secs: 0 }
  b: { run: b, working_dir: "src/*", timeout_secs: "10" }
  c: { run: c, attestation: { type: "" } }
`;
    expect(problems(text)).toEqual([
      'schema_version: is 2, but this Evident reads attest.yaml schema_version 1: upgrade Evident to use this file',
      'version: unsupported version the string "1"; supported: "0.1" (or any pipeline version with schema_version: 1)',
      'steps.a.working_dir: "../up" leaves the workspace ("..")',
      'steps.a.timeout_secs: must be a whole number of seconds >= 1, not the number 0',
      'steps.b.working_dir: "src/*" is a glob: a working directory is one plain path',
      'steps.b.timeout_secs: must be a whole number of seconds >= 1, not the string "10"',
      'steps.c.attestation.type: must not be empty',
    ]);
  });
});

describe("ATTEST's fields at run time", () => {
  it('working_dir: the command runs there, paths stay workspace-relative, and it is in the key', async () => {
    const yaml = (dir: string) => `version: "0.1"\nname: w\nsteps:\n  a: { run: "pwd > here.txt && cat in.txt >> here.txt", working_dir: "${dir}", inputs: [sub/in.txt, other/in.txt] }\n`;
    const dir = workspace(yaml('sub'), { 'sub/in.txt': 'one\n', 'other/in.txt': 'two\n' });
    const first = await run(dir);
    expect(first.record.ok).toBe(true);
    expect(read(dir, 'sub/here.txt')).toBe(`${fs.realpathSync(path.join(dir, 'sub'))}\none\n`);
    fs.writeFileSync(path.join(dir, 'attest.yaml'), yaml('other'));
    const second = await run(dir);
    expect(second.detail.a).toMatch(/^cache miss/);
    expect(second.record.steps[0]!.key).not.toBe(first.record.steps[0]!.key);
    expect(read(dir, 'other/here.txt')).toContain('two');
    expect(cacheKey({ command: 'x', env: {}, inputs: [], needs: {}, outputs: [] })).not.toBe(cacheKey({ command: 'x', env: {}, inputs: [], needs: {}, outputs: [], workingDir: 'sub' }));
  });

  it('working_dir that is missing or leaves the workspace through a link fails the step', async () => {
    const dir = workspace('version: "0.1"\nname: w\nsteps:\n  gone: { run: "true", working_dir: nope }\n  out: { run: "touch x", working_dir: link }\n');
    fs.symlinkSync('/tmp', path.join(dir, 'link'));
    const result = await run(dir, { keepGoing: true });
    expect(result.detail.gone).toBe('working_dir "nope" is not a directory');
    expect(result.detail.out).toBe('working_dir "link" leads outside the workspace');
  });

  it('timeout_secs kills the whole process group and fails with exit code 124', async () => {
    const dir = workspace('version: "0.1"\nname: t\nsteps:\n  slow: { run: "(sleep 30; touch late.txt) & sleep 30", timeout_secs: 1, cache: false }\n');
    const started = Date.now();
    const result = await run(dir);
    expect(result.record.ok).toBe(false);
    expect(result.detail.slow).toBe('timed out after 1.0s (timeout_secs), exit code 124');
    expect(result.record.steps[0]!.exitCode).toBe(124);
    expect(Date.now() - started).toBeLessThan(25_000);
    await new Promise((r) => setTimeout(r, 200));
    expect(fs.existsSync(path.join(dir, 'late.txt'))).toBe(false);
  });

  it('attestation.type is recorded in the receipt; verify_chain checks the needed steps\' outputs', async () => {
    const dir = workspace(`version: "0.1"
name: p
steps:
  make: { run: "echo good > made.txt", outputs: [made.txt], attestation: { type: build } }
  meddle: { run: "echo bad >> made.txt", needs: [make], cache: false }
  use: { run: "cat made.txt > used.txt", needs: [make, meddle], cache: false, attestation: { type: test, verify_chain: true } }
`);
    const result = await run(dir);
    expect(result.detail.use).toBe('output made.txt of make changed after make made it (steps.use.attestation.verify_chain)');
    const receipt = buildReceipt(result.record, '0.0.0');
    expect(receipt.steps.find((s) => s.name === 'make')?.attestation_type).toBe('build');
    expect(receiptProblems(JSON.parse(JSON.stringify(receipt)))).toEqual([]);
  });
});

// ATTEST's own example pipelines, verbatim, with their source in SOURCE.md beside them.
const FIXTURES = process.env.EVIDENT_ATTEST_FIXTURES ?? path.resolve('../shared/fixtures/continuum-attest');
const haveFixtures = fs.existsSync(path.join(FIXTURES, 'sample.yaml'));
if (!haveFixtures) console.warn(`skipping ATTEST's example pipelines: no copies in ${FIXTURES} (set EVIDENT_ATTEST_FIXTURES)`);

describe.skipIf(!haveFixtures)("ATTEST's example pipelines, unchanged", () => {
  it('templates/sample.yaml runs, then hits; its receipt records each step\'s attestation type', async () => {
    const dir = workspace(fs.readFileSync(path.join(FIXTURES, 'sample.yaml'), 'utf8'), { 'src/main.c': 'int main(void) { return 0; }\n' });
    const first = await run(dir);
    expect(first.lines.map((l) => l.replace(/\([0-9.]+s\)/, '(Ns)'))).toEqual(['[OK] build (Ns) - cache miss', '[OK] test (Ns) - cache disabled (cache: false)', '[OK] package (Ns) - cache miss']);
    expect(fs.existsSync(path.join(dir, 'dist/app.tar.gz'))).toBe(true);
    const again = await run(dir);
    expect(again.detail).toEqual({ build: 'cache hit', test: 'cache disabled (cache: false)', package: 'cache hit' });
    expect(buildReceipt(first.record, '0.0.0').steps.map((s) => [s.name, s.attestation_type])).toEqual(expect.arrayContaining([['build', 'build'], ['test', 'test'], ['package', 'package']]));
  });

  it("its own attest.yaml (a Rust CI) is valid as it is", () => {
    const dir = workspace(fs.readFileSync(path.join(FIXTURES, 'attest.yaml'), 'utf8'));
    write(dir, 'Cargo.lock', '');
    const loaded = loadSpec(path.join(dir, 'attest.yaml'));
    expect([...loaded.spec.steps.keys()]).toEqual(['format-check', 'clippy', 'test', 'build-release']);
    expect(loaded.spec.steps.get('build-release')).toMatchObject({ reproducible: true, attestationType: 'build', outputs: ['target/release/attest'] });
  });
});
