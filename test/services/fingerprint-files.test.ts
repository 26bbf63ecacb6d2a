import { createHash, randomBytes } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EvidentError } from '../../src/core/index.js';
import { fingerprint, fingerprintDir, fingerprintFile } from '../../src/services/index.js';
import { toByteString } from '../../src/formats/index.js';
import { hashPool } from '../../src/services/fingerprint/hash-pool.js';
import { tempDir } from '../helpers/engines.js';

// Every row of test/vectors/kosli-fingerprints.md, on real trees in temp directories, plus links,
// excludes, ignore files and bad input.

type Spec = { [name: string]: string | Buffer | Spec };
const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const scratch = tempDir('evident-fp-');
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

let counter = 0;
function make(spec: Spec, name = `t${counter++}`): string {
  const root = path.join(scratch, name);
  const write = (dir: string, s: Spec) => {
    fs.mkdirSync(dir, { recursive: true });
    for (const [k, v] of Object.entries(s)) {
      if (typeof v === 'string' || Buffer.isBuffer(v)) fs.writeFileSync(path.join(dir, k), v);
      else write(path.join(dir, k), v);
    }
  };
  write(root, spec);
  return root;
}

async function refused(promise: Promise<unknown>, code: string, message: RegExp): Promise<EvidentError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(EvidentError);
  expect((err as EvidentError).code).toBe(code);
  expect((err as EvidentError).message).toMatch(message);
  return err as EvidentError;
}

const S = 'some content. And some more.';
const nested = { file1: 'content1', file2: 'content2' };

describe('the Kosli vectors on disk', () => {
  it.each([
    ['hello world!', '7509e5bda0c762d2bac7f90d758b5b2263fa01ccbc542ab5e3df163be08e6ca9'],
    ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['this is non empty', '1256d6510a6606ad61a4f6104243a291b18383b456d50205eba893b51e1807bc'],
  ])('file %j', async (content, expected) => {
    const dir = make({ f: content });
    expect(await fingerprintFile(path.join(dir, 'f'))).toBe(expected);
    expect(await fingerprint(path.join(dir, 'f'), { type: 'file' })).toBe(expected);
  });

  it.each<[string, Spec, string[], string]>([
    ['empty directory', {}, [], 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['file.extra', { 'file.extra': 'this is known extra content' }, [], 'c71f5baef8cce289c9b7c971cf219e21b787a025af68ad6539b82634fe62819e'],
    ['sample.txt', { 'sample.txt': 'some content.' }, [], '388ab80164bbd9d96f132b046b8d09354f68b79a3668da7b507625cd1230dddf'],
    ['sample.txt, more content', { 'sample.txt': S }, [], '5b0e14a923d7239b0a23750a6bbfc837f71e684b8bdc2909d5ff6d90e59449c1'],
    ['sample.yaml', { 'sample.yaml': S }, [], 'c38fbc1a99dad628142d0b7e2e05901362623d2b81e316d2cf650b08e93e0cef'],
    ['nested-dir', { 'sample.yaml': S, 'nested-dir': nested }, [], '5d3c17dae9e208bbb92ee04ff8342abf77cb0959764def4af3ccfe9a2109d4a7'],
    ['nested-dir2', { 'sample.yaml': S, 'nested-dir2': nested }, [], 'db40d79b3a15b17ee9fcc2f49aa73736e0073de6b5a35c459268bb9a31e55139'],
    ['exclude logs', { 'sample.yaml': S, 'nested-dir': nested, logs: { file1: 'content1' } }, ['logs'], '5d3c17dae9e208bbb92ee04ff8342abf77cb0959764def4af3ccfe9a2109d4a7'],
    ['exclude logs and nested-dir/file1', { 'sample.yaml': S, 'nested-dir': nested, logs: { file1: 'content1' } }, ['logs', 'nested-dir/file1'], '2acbc9efc1f86f89086a9539244946839599b3639da7f4959744c20234cb4f40'],
    ['.kosli_ignore', { 'sample.yaml': S, '.kosli_ignore': 'logs\n*/logs', 'nested-dir': nested }, [], '4048004ce6f91e8ce27c35e5e857948a46750567cf7c873ee32b120f4318363c'],
    ['.kosli_ignore excluding logs', { 'sample.yaml': S, '.kosli_ignore': 'logs\n*/logs', 'nested-dir': { ...nested, logs: { 'log.txt': 'l' } }, logs: { file1: 'content1' } }, [], '4048004ce6f91e8ce27c35e5e857948a46750567cf7c873ee32b120f4318363c'],
    ['folder1', { 'hello.txt': 'Hello, world! Again!', folder2: { 'hello2.txt': 'hello2', 'hello3.txt': 'hello3' } }, [], 'c43808cb04c6e66c4c6fc1f972dd67c3b9b71c81e0a0c78730da3699922d17be'],
    ['folder1 without folder2', { 'hello.txt': 'Hello, world! Again!', folder2: { 'hello2.txt': 'hello2', 'hello3.txt': 'hello3' } }, ['folder2'], '773fd3300860454a2b065c5912c03008adb11e6a6dcf7c1c64c094ceab8f430a'],
  ])('dir: %s', async (_name, spec, exclude, expected) => {
    expect(await fingerprintDir(make(spec), { exclude })).toBe(expected);
  });

  it("the root directory's own name never matters", async () => {
    expect(await fingerprintDir(make({ 'sample.yaml': S }, 'test4'))).toBe(await fingerprintDir(make({ 'sample.yaml': S }, 'test44')));
  });
});

describe('symbolic links', () => {
  it('a link to a file is hashed as the file; a link to a directory by its target string, not descended into', async () => {
    const dir = make({ 'real.txt': 'payload', lib: { 'inner.txt': 'x' } });
    fs.symlinkSync('real.txt', path.join(dir, 'alias.txt'));
    fs.symlinkSync('lib', path.join(dir, 'lib-link'));
    const expected = sha(
      sha('alias.txt') + sha('payload') + sha('lib') + sha('inner.txt') + sha('x') + sha('lib-link') + sha('lib') + sha('real.txt') + sha('payload'),
    );
    expect(await fingerprintDir(dir)).toBe(expected);
    expect(await fingerprintFile(path.join(dir, 'alias.txt'))).toBe(sha('payload'));
  });

  it('a broken link is an error naming it, unless it is excluded', async () => {
    const dir = make({ 'a.txt': 'a', sub: { 'b.txt': 'b' } });
    fs.symlinkSync('../missing', path.join(dir, 'sub', 'dangling'));
    await refused(fingerprintDir(dir), 'INVALID_ARGUMENT', new RegExp(`${path.join(dir, 'sub', 'dangling')}.*broken symbolic link`));
    expect(await fingerprintDir(dir, { exclude: ['sub/dangling'] })).toBe(await fingerprintDir(make({ 'a.txt': 'a', sub: { 'b.txt': 'b' } })));
    await refused(fingerprintFile(path.join(dir, 'sub', 'dangling')), 'INVALID_ARGUMENT', /broken symbolic link/);
  });

  it('a link given as the root is followed', async () => {
    const dir = make({ 'sample.txt': 'some content.' });
    const link = path.join(scratch, `root-link-${counter++}`);
    fs.symlinkSync(dir, link);
    expect(await fingerprintDir(link)).toBe('388ab80164bbd9d96f132b046b8d09354f68b79a3668da7b507625cd1230dddf');
  });
});

describe('excludes and ignore files on disk', () => {
  const spec: Spec = { 'a.map': 'm', src: { 'b.map': 'm', 'b.js': 'js', deep: { 'c.map': 'm', 'c.js': 'js' } }, node_modules: { x: { 'y.js': 'y' } } };
  const pruned: Spec = { src: { 'b.js': 'js', deep: { 'c.js': 'js' } } };

  it('"**" excludes at any depth, and repeated -x patterns add up', async () => {
    expect(await fingerprintDir(make(spec), { exclude: ['**/*.map', 'node_modules'] })).toBe(await fingerprintDir(make(pruned)));
  });

  it('.kosli_ignore and .evident_ignore are both read; each stays in the digest', async () => {
    const both = await fingerprintDir(make({ ...spec, '.kosli_ignore': '**/*.map # source maps\n', '.evident_ignore': '\n# deps\nnode_modules\n' }));
    const expected = await fingerprintDir(make({ ...pruned, '.kosli_ignore': 'ignored', '.evident_ignore': 'ignored' }), { exclude: ['.kosli_ignore', '.evident_ignore'] });
    expect(both).not.toBe(expected); // the ignore files' own contents are fingerprinted
    const dir = make({ ...spec, '.evident_ignore': 'node_modules\n**/*.map' });
    expect(await fingerprintDir(dir)).toBe(await fingerprintDir(make({ ...pruned, '.evident_ignore': 'node_modules\n**/*.map' })));
  });

  it('an ignore file that lists itself cannot hide an added file', async () => {
    const approved = await fingerprintDir(make({ app: { 'index.js': '1' } }));
    const deployed = make({ app: { 'index.js': '1', 'backdoor.js': 'BACKDOOR' }, '.evident_ignore': '.evident_ignore\napp/backdoor.js' });
    expect(await fingerprintDir(deployed)).not.toBe(approved);
    expect(await fingerprintDir(deployed, { exclude: ['.evident_ignore'] })).toBe(approved);
  });

  it('a malformed pattern in an ignore file is refused, naming the file', async () => {
    await refused(fingerprintDir(make({ '.kosli_ignore': 'logs/[' })), 'INVALID_ARGUMENT', /"logs\/\[".*\.kosli_ignore/);
  });
});

describe('bytes, sizes and parallel hashing', () => {
  it('names that are not UTF-8 are hashed byte for byte', async () => {
    const dir = make({});
    const name = Buffer.from([0x66, 0xff, 0x2e, 0x74]); // "f\xff.t"
    fs.writeFileSync(Buffer.concat([Buffer.from(dir + '/'), name]), 'bytes');
    expect(await fingerprintDir(dir)).toBe(sha(sha(name) + sha('bytes')));
  });

  it('a large file is streamed in chunks and hashed exactly', async () => {
    const data = randomBytes((3 << 20) + 12345);
    const dir = make({ big: data });
    expect(await fingerprintFile(path.join(dir, 'big'))).toBe(sha(data));
    expect(await fingerprintDir(dir)).toBe(sha(sha('big') + sha(data)));
  });

  it('a tree large enough for the worker pool gives the same digest as the formula, at any concurrency', async () => {
    const spec: Spec = {};
    for (let d = 0; d < 12; d++) {
      const sub: Spec = {};
      for (let f = 0; f < 25; f++) sub[`f${f}.bin`] = randomBytes(f * 37);
      spec[`d${d}`] = sub;
    }
    (spec.d3 as Spec)['large.bin'] = randomBytes((1 << 20) + 3); // spans two reads in a worker
    const dir = make(spec);
    const formula = (s: Spec): string =>
      Object.keys(s).sort().map((k) => (Buffer.isBuffer(s[k]) ? sha(k) + sha(s[k] as Buffer) : sha(k) + formula(s[k] as Spec))).join('');
    const expected = sha(formula(spec));
    expect(await fingerprintDir(dir)).toBe(expected);
    expect(await fingerprintDir(dir, { concurrency: 1 })).toBe(expected);
    expect(await fingerprintDir(dir, { concurrency: 3 })).toBe(expected);
    // Walks at the same time share the process's workers; each gets its own answer.
    const other = make({ ...spec, extra: 'x' });
    const [a, b, c] = await Promise.all([fingerprintDir(dir), fingerprintDir(other), fingerprintDir(dir, { exclude: ['d1'] })]);
    expect(a).toBe(expected);
    expect(b).not.toBe(expected);
    expect(c).toBe(sha(formula(Object.fromEntries(Object.entries(spec).filter(([k]) => k !== 'd1')))));
  });

  it('a file that vanishes before it is hashed is reported by name, and the pool keeps working', async () => {
    const spec: Spec = {};
    for (let f = 0; f < 200; f++) spec[`f${String(f).padStart(3, '0')}`] = `content ${f}`;
    const dir = make(spec);
    const paths = Object.keys(spec).map((k) => toByteString(path.join(dir, k)));
    const pool = hashPool();
    await refused(pool.hash([...paths.slice(0, 150), toByteString(path.join(dir, 'gone')), ...paths.slice(150)]), 'NOT_FOUND', /no such file or directory: .*gone/);
    expect(await pool.hash(paths)).toEqual(Object.values(spec).map((c) => sha(c as string)));
  });
});

describe('bad input', () => {
  it('a missing path is NOT_FOUND', async () => {
    await refused(fingerprintFile(path.join(scratch, 'nope')), 'NOT_FOUND', /no such file or directory: .*nope/);
    await refused(fingerprintDir(path.join(scratch, 'nope')), 'NOT_FOUND', /nope/);
  });

  it('a file given as dir, and a directory given as file, are refused with the right type named', async () => {
    const dir = make({ f: 'x' });
    await refused(fingerprintDir(path.join(dir, 'f')), 'INVALID_ARGUMENT', /not a directory.*--artifact-type file/);
    await refused(fingerprintFile(dir), 'INVALID_ARGUMENT', /is a directory.*--artifact-type dir/);
  });

  it('a bad glob is refused before any I/O; --exclude is only for dir', async () => {
    await refused(fingerprintDir(path.join(scratch, 'does-not-matter'), { exclude: ['a[b'] }), 'INVALID_ARGUMENT', /"a\[b" is not a valid glob/);
    await refused(fingerprint(scratch, { type: 'file', exclude: ['x'] }), 'INVALID_ARGUMENT', /only to --artifact-type dir/);
    await refused(fingerprint(scratch, { type: 'tarball' as 'file' }), 'INVALID_ARGUMENT', /unknown artifact type/);
  });

  it('a FIFO in the tree is refused, naming it (it would never end)', async () => {
    const dir = make({ 'a.txt': 'a' });
    execFileSync('mkfifo', [path.join(dir, 'pipe')]);
    await refused(fingerprintDir(dir), 'INVALID_ARGUMENT', /pipe.*not a regular file/);
    expect(await fingerprintDir(dir, { exclude: ['pipe'] })).toBe(sha(sha('a.txt') + sha('a')));
  });

  it('an unreadable file is refused, naming it', async () => {
    const dir = make({ 'secret.txt': 's' });
    fs.chmodSync(path.join(dir, 'secret.txt'), 0);
    if (process.getuid?.() !== 0) {
      await refused(fingerprintDir(dir), 'INVALID_ARGUMENT', /permission denied: .*secret\.txt/);
      return;
    }
    // Permissions do not bind root (CI runs as root): run the CLI as the unprivileged user `nobody`,
    // when this checkout is readable by it.
    const cli = path.resolve('dist/cli/evident.js');
    const reachable = spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(cli)})`], { uid: 65534, gid: 65534 });
    if (reachable.status !== 0) {
      console.warn('NOTICE: this checkout is not readable by `nobody`; checking only that root reads a mode-000 file');
      expect(await fingerprintDir(dir)).toBe(sha(sha('secret.txt') + sha('s')));
      return;
    }
    fs.chmodSync(scratch, 0o755);
    fs.chmodSync(dir, 0o755);
    const res = spawnSync(process.execPath, [cli, 'fingerprint', dir, '-t', 'dir'], {
      uid: 65534, gid: 65534, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: '/tmp' },
    });
    expect(res.status, res.stderr).toBe(2);
    expect(res.stderr).toMatch(/permission denied: .*secret\.txt/);
  });
});
