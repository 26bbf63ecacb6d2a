import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { attestationObservers, verifyReceiptFile } from '../../src/pipeline/index.js';
import { linkDigest } from '../../src/pipeline/verify-files.js';
import { tempDir } from '../helpers/engines.js';
import { read, run, workspace, write } from './runner-helpers.js';

// Issue 14 finding 6: an output that is a symbolic link is recorded as one (target in the manifest,
// restored as a link, in the receipt and provenance by linkDigest); an input link leaving the workspace
// is refused unless allow_outside_symlinks.

const OUT = `version: "0.1"
name: links
steps:
  build:
    run: "mkdir -p dist && echo app > dist/app.js && ln -sfn app.js dist/current.js && ln -sfn /etc/hostname dist/host"
    outputs: [dist/]
`;

describe('output symbolic links', () => {
  it('are recorded with their target, cached and restored as links, in the receipt and provenance', async () => {
    const dir = workspace(OUT);
    const observers = () => attestationObservers({ workspace: dir, sign: false, provenance: true, version: '0.0.0' });
    const first = await run(dir, { observers: await observers() });
    expect(first.warnings).toEqual([]);
    const outputs = first.record.steps[0]!.outputs;
    expect(outputs).toEqual([
      { path: 'dist/app.js', sha256: expect.stringMatching(/^[0-9a-f]{64}$/), executable: false },
      { path: 'dist/current.js', sha256: linkDigest('app.js'), executable: false, link: 'app.js' },
      { path: 'dist/host', sha256: linkDigest('/etc/hostname'), executable: false, link: '/etc/hostname' },
    ]);
    expect(fs.existsSync(path.join(dir, '.evident/provenance/build/dist%2Fhost.intoto.json'))).toBe(true);
    fs.rmSync(path.join(dir, 'dist'), { recursive: true });
    const second = await run(dir, { observers: await observers() });
    expect(second.detail.build).toBe('cache hit');
    expect(fs.readlinkSync(path.join(dir, 'dist/current.js'))).toBe('app.js');
    expect(fs.readlinkSync(path.join(dir, 'dist/host'))).toBe('/etc/hostname');
    expect(read(dir, 'dist/current.js')).toBe('app\n');
    const receipts = path.join(dir, '.evident/cache/receipts');
    const file = path.join(receipts, fs.readdirSync(receipts).sort().at(-1)!);
    expect((await verifyReceiptFile(file, { workspace: dir, signatures: false })).ok).toBe(true);
    // Repointed: verify receipt notices.
    fs.rmSync(path.join(dir, 'dist/host'));
    fs.symlinkSync('/etc/passwd', path.join(dir, 'dist/host'));
    const report = await verifyReceiptFile(file, { workspace: dir, signatures: false });
    expect(report.checks.find((c) => c.check === 'file_hashes')).toMatchObject({ ok: false, message: expect.stringMatching(/dist\/host of step build has changed/) });
  });
});

describe('input symbolic links leaving the workspace', () => {
  const spec = (extra = '') => `version: "0.1"
name: inputs
${extra}
steps:
  read: { run: "cat src/secret.txt linkdir/secret.txt > out.txt", inputs: [src/, linkdir/secret.txt], outputs: [out.txt] }
`;
  const setup = (extra?: string) => {
    const outside = tempDir('evident-outside-');
    fs.writeFileSync(path.join(outside, 'secret.txt'), 'secret\n');
    const dir = workspace(spec(extra), { 'src/ok.txt': 'ok\n' });
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(dir, 'src/secret.txt'));
    fs.symlinkSync(outside, path.join(dir, 'linkdir'));
    return dir;
  };

  it('are refused with a clear error, and nothing runs', async () => {
    const dir = setup();
    const r = await run(dir);
    expect(r.detail.read).toMatch(/^input "linkdir\/secret\.txt", "src\/secret\.txt" are symbolic links leaving the workspace: refused \(set allow_outside_symlinks: true/);
    expect(fs.existsSync(path.join(dir, 'out.txt'))).toBe(false);
  });

  it('are followed with allow_outside_symlinks: true; a link inside the workspace always is', async () => {
    const dir = setup('allow_outside_symlinks: true');
    const r = await run(dir);
    expect(r.detail.read).toBe('cache miss');
    expect(read(dir, 'out.txt')).toBe('secret\nsecret\n');
    const inside = workspace(spec().replace('linkdir/secret.txt]', 'src/]'), { 'real.txt': 'r\n', 'src/ok.txt': 'ok\n' });
    fs.symlinkSync('../real.txt', path.join(inside, 'src/secret.txt'));
    write(inside, 'linkdir/secret.txt', 'x\n');
    expect((await run(inside)).detail.read).toBe('cache miss');
  });
});
