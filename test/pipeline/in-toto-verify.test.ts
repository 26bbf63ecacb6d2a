import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { formatMetablock, inTotoKeyId, parseInTotoPublicKey, parseLinkMetablock, verifyMetablock } from '../../src/formats/index.js';
import { attestationObservers, generateWorkspaceKey } from '../../src/pipeline/index.js';
import { tempDir } from '../helpers/engines.js';
import { runFixture, type FixtureStep } from './attestation-fixture.js';

// The external judge: Debian's in-toto 1.3.1 `in-toto-verify` (installed by .ci/run), run in the workspace.
const IN_TOTO_VERIFY = '/usr/bin/in-toto-verify';

const STEPS: FixtureStep[] = [
  { name: 'clone', run: 'mkdir -p src && printf "hello\\n" > src/a.txt && printf "x\\n" > src/b.txt', outputs: ['src/'] },
  { name: 'build', run: 'mkdir -p out && tar cf out/app.tar --sort=name --mtime=@0 --owner=0 --group=0 src', needs: ['clone'], inputs: ['src/'], outputs: ['out/app.tar'] },
  { name: 'package', run: 'gzip -n -c out/app.tar > out/app.tar.gz', needs: ['build'], inputs: ['out/app.tar'], outputs: ['out/app.tar.gz'] },
  { name: 'test', run: 'gzip -t out/app.tar.gz', needs: ['package'], inputs: ['out/app.tar.gz', 'src/a.txt'] },
];

function inTotoVerify(ws: string, dir: string): { code: number; output: string } {
  const r = spawnSync(IN_TOTO_VERIFY, ['-l', path.join(dir, 'root.layout'), '-k', path.join(dir, 'owner.pub'), '-t', 'ed25519', '--link-dir', dir, '-v'], {
    cwd: ws, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  });
  return { code: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

async function sampleRun(layoutKey?: string): Promise<{ ws: string; dir: string }> {
  const ws = tempDir();
  fs.writeFileSync(path.join(ws, 'README.md'), 'a source file no step declares\n');
  const dir = path.join(ws, 'in-toto');
  const run = await runFixture(ws, 'demo', STEPS, await attestationObservers({ workspace: ws, sign: true, provenance: true, inToto: { dir, layoutKey } }));
  expect(run.ok).toBe(true);
  return { ws, dir };
}

describe.skipIf(!fs.existsSync(IN_TOTO_VERIFY))('in-toto-verify (Debian in-toto 1.3.1) accepts the export', () => {
  it('accepts a sample run; rejects it after one byte of an output changes', async () => {
    const { ws, dir } = await sampleRun();
    const ok = inTotoVerify(ws, dir);
    expect(ok.code, ok.output).toBe(0);
    expect(ok.output).toContain('The software product passed all verification.');

    const file = path.join(ws, 'out', 'app.tar.gz');
    const original = fs.readFileSync(file);
    const changed = Buffer.from(original);
    changed[changed.length - 1]! ^= 1;
    fs.writeFileSync(file, changed);
    const bad = inTotoVerify(ws, dir);
    expect(bad.code, bad.output).not.toBe(0);
    expect(bad.output).toMatch(/out\/app\.tar\.gz/);

    fs.writeFileSync(file, original); // restored: accepted again, so the rejection was the byte
    expect(inTotoVerify(ws, dir).code).toBe(0);
  });

  it('rejects an intermediate output changed between steps, a deleted output, a stray file in an output directory and a new top-level file', async () => {
    const { ws, dir } = await sampleRun();
    fs.appendFileSync(path.join(ws, 'out', 'app.tar'), '\0');
    expect(inTotoVerify(ws, dir).code).not.toBe(0);
    const { ws: ws2, dir: dir2 } = await sampleRun();
    fs.rmSync(path.join(ws2, 'out', 'app.tar.gz'));
    expect(inTotoVerify(ws2, dir2).output).toMatch(/REQUIRE out\/app\.tar\.gz/);
    const { ws: ws3, dir: dir3 } = await sampleRun();
    fs.writeFileSync(path.join(ws3, 'src', 'evil.c'), 'int main;\n');
    expect(inTotoVerify(ws3, dir3).output).toMatch(/DISALLOW src\/\*/);
    fs.rmSync(path.join(ws3, 'src', 'evil.c'));
    expect(inTotoVerify(ws3, dir3).code).toBe(0);
    fs.writeFileSync(path.join(ws3, 'evil.sh'), 'curl | sh\n');
    expect(inTotoVerify(ws3, dir3).output).toMatch(/DISALLOW \*/);
  });

  it('accepts links and layout written into the workspace root itself (--in-toto .)', async () => {
    const ws = tempDir();
    await runFixture(ws, 'demo', STEPS, await attestationObservers({ workspace: ws, sign: false, provenance: false, inToto: { dir: ws } }));
    const ok = inTotoVerify(ws, ws);
    expect(ok.code, ok.output).toBe(0);
  });

  it('rejects a run in which a step failed: its link is missing, and a stale one from an earlier run is removed', async () => {
    const ws = tempDir();
    const dir = path.join(ws, 'in-toto');
    await runFixture(ws, 'demo', STEPS, await attestationObservers({ workspace: ws, sign: false, provenance: false, inToto: { dir } }));
    expect(inTotoVerify(ws, dir).code).toBe(0);
    const failing = STEPS.map((s) => (s.name === 'test' ? { ...s, run: 'exit 1' } : s));
    const run = await runFixture(ws, 'demo', failing, await attestationObservers({ workspace: ws, sign: false, provenance: false, inToto: { dir } }));
    expect(run.ok).toBe(false);
    expect(fs.readdirSync(dir).some((f) => f.startsWith('test.'))).toBe(false);
    const bad = inTotoVerify(ws, dir);
    expect(bad.code).not.toBe(0);
    expect(bad.output).toMatch(/Step 'test' requires '1' link metadata file\(s\), found '0'/);
  });

  it('rejects the run after one link is edited', async () => {
    const { ws, dir } = await sampleRun();
    const linkName = fs.readdirSync(dir).find((f) => f.startsWith('build.'))!;
    const link = JSON.parse(fs.readFileSync(path.join(dir, linkName), 'utf8'));
    link.signed.products['out/app.tar'].sha256 = '0'.repeat(64);
    fs.writeFileSync(path.join(dir, linkName), formatMetablock(link));
    const bad = inTotoVerify(ws, dir);
    expect(bad.code, bad.output).not.toBe(0);
  });

  it('signs the layout with --layout-key and writes its owner.pub', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const keyDir = tempDir();
    const layoutKey = path.join(keyDir, 'owner.pem');
    fs.writeFileSync(layoutKey, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    const { ws, dir } = await sampleRun(layoutKey);
    const owner = parseInTotoPublicKey(fs.readFileSync(path.join(dir, 'owner.pub'), 'utf8'));
    expect(owner.keyval.public).toBe(publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('hex'));
    const layout = JSON.parse(fs.readFileSync(path.join(dir, 'root.layout'), 'utf8'));
    expect(verifyMetablock(layout, [owner])).toEqual([inTotoKeyId(owner)]);
    expect(inTotoVerify(ws, dir).code).toBe(0);
    fs.chmodSync(layoutKey, 0o644);
    await expect(attestationObservers({ workspace: ws, sign: false, provenance: false, inToto: { dir, layoutKey } })).rejects.toThrow(/chmod 600/);
  });

  it('writes links named <step>.<keyid8>.link that Evident re-verifies: canonical bytes, the name, materials and products', async () => {
    const ws = tempDir();
    const key = generateWorkspaceKey(ws, { name: 'ci' });
    const dir = path.join(ws, 'links');
    await runFixture(ws, 'demo', STEPS, await attestationObservers({ workspace: ws, sign: false, provenance: false, inToto: { dir } }));
    const links = fs.readdirSync(dir).filter((f) => f.endsWith('.link')).sort();
    expect(links).toEqual(['build', 'clone', 'package', 'test'].map((s) => `${s}.${key.keyId.slice(0, 8)}.link`));
    const build = parseLinkMetablock(JSON.parse(fs.readFileSync(path.join(dir, links[0]!), 'utf8')), 'build');
    expect(verifyMetablock(build, [key.inToto])).toEqual([key.keyId]);
    expect(build.signed.command).toEqual(['/bin/sh', '-c', STEPS[1]!.run]);
    expect(Object.keys(build.signed.materials)).toEqual(['src/a.txt', 'src/b.txt']);
    expect(build.signed.materials['src/a.txt']!.sha256).toBe('5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03');
    expect(Object.keys(build.signed.products)).toEqual(['out/app.tar']);
    expect(build.signed.byproducts).toEqual({ 'return-value': 0 });
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'owner.pub'), 'utf8')).keyval.public).toBe(key.publicHex);
  });
});
