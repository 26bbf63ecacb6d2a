import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exists, isExec, read, run, workspace, write } from './runner-helpers.js';
import { tempDir } from '../helpers/engines.js';
import { LocalCache } from '../../src/pipeline/index.js';
import type { EntryManifest } from '../../src/pipeline/manifest.js';
import { parsePattern } from '../../src/pipeline/patterns.js';
import { Sealer } from '../../src/pipeline/seal.js';

// The local content-addressed cache (issue #6 item 3; docs/cache.md), through whole runs.

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

// build writes a file and an executable script; test reads build's output; lint is independent.
const PIPELINE = `version: "0.1"
name: demo
steps:
  lint: { run: "echo linting; cat lint.cfg > /dev/null", inputs: [lint.cfg] }
  build:
    run: "mkdir -p dist && cat src/*.c > dist/app && printf '#!/bin/sh\\necho hi\\n' > dist/run.sh && chmod +x dist/run.sh && echo built"
    inputs: [src/]
    outputs: [dist/]
  test: { run: "cat dist/app > report.txt && echo tested", needs: [build], inputs: [dist/app], outputs: [report.txt] }
`;
const FILES = { 'lint.cfg': 'strict', 'src/a.c': 'int a;\n', 'src/b.c': 'int b;\n' };

describe('cache hits and misses', () => {
  it('second run: every step a hit, outputs restored byte for byte with their executable bits, logs replayed', async () => {
    const dir = workspace(PIPELINE, FILES);
    const first = await run(dir);
    expect(first.detail).toEqual({ lint: 'cache miss', build: 'cache miss', test: 'cache miss' });
    const app = read(dir, 'dist/app');
    fs.rmSync(path.join(dir, 'dist'), { recursive: true });
    fs.rmSync(path.join(dir, 'report.txt'));
    fs.rmSync(path.join(dir, '.evident/logs'), { recursive: true });

    const second = await run(dir);
    expect(second.detail).toEqual({ lint: 'cache hit', build: 'cache hit', test: 'cache hit' });
    expect(second.record.steps.every((s) => s.cache === 'hit')).toBe(true);
    expect(read(dir, 'dist/app')).toBe(app);
    expect(read(dir, 'dist/run.sh')).toBe('#!/bin/sh\necho hi\n');
    expect(isExec(dir, 'dist/run.sh')).toBe(true);
    expect(isExec(dir, 'dist/app')).toBe(false);
    expect(read(dir, 'report.txt')).toBe(app);
    expect(read(dir, '.evident/logs/build.log')).toBe('built\n');
    expect(read(dir, '.evident/logs/lint.log')).toBe('linting\n');
    // The records of a hit carry the same outputs as the run that made them.
    const outputs = (r: typeof first, step: string) => r.record.steps.find((s) => s.name === step)!.outputs;
    expect(outputs(second, 'build')).toEqual(outputs(first, 'build'));
    expect(outputs(second, 'build')).toEqual([
      { path: 'dist/app', sha256: sha(app), executable: false },
      { path: 'dist/run.sh', sha256: sha('#!/bin/sh\necho hi\n'), executable: true },
    ]);
  });

  it('one input byte changed: only that step and its dependents miss, and the line says why', async () => {
    const dir = workspace(PIPELINE, FILES);
    await run(dir);
    write(dir, 'src/b.c', 'int c;\n');
    const again = await run(dir, { jobs: 1 });
    expect(again.detail).toEqual({
      lint: 'cache hit',
      build: 'cache miss (inputs changed)',
      test: 'cache miss (inputs and upstream build changed)',
    });
    expect(read(dir, 'report.txt')).toBe('int a;\nint c;\n');
    // Back to the old content: the old entries are still there.
    write(dir, 'src/b.c', 'int b;\n');
    expect((await run(dir)).detail).toEqual({ lint: 'cache hit', build: 'cache hit', test: 'cache hit' });
    expect(read(dir, 'report.txt')).toBe('int a;\nint b;\n');
  });

  it('an executable bit is part of an input: changing it misses', async () => {
    const dir = workspace(PIPELINE, FILES);
    await run(dir);
    fs.chmodSync(path.join(dir, 'lint.cfg'), 0o755);
    expect((await run(dir)).detail.lint).toBe('cache miss (inputs changed)');
  });

  it('after a miss, later hits say that their inputs did not change (seed 003 §3.3)', async () => {
    const dir = workspace('version: "0.1"\nname: p\nsteps:\n  build: { run: "true", inputs: [main.js] }\n  test: { run: "true", inputs: [test.js] }\n', { 'main.js': '1', 'test.js': '1' });
    await run(dir);
    write(dir, 'main.js', '2');
    const r = await run(dir, { jobs: 1 });
    // build was decided first (it became ready first), test's hit is printed before build's command ends.
    expect(r.lines.map((l) => l.replace(/\(\d+\.\ds\)/, '(T)')).sort()).toEqual(['[OK] build (T) - cache miss (inputs changed)', '[OK] test (T) - cache hit (test inputs unchanged)']);
    // With nothing changed, a hit is just a hit.
    expect((await run(dir)).detail).toEqual({ build: 'cache hit', test: 'cache hit' });
  });

  it('cache: false always runs the step and stores nothing; --no-cache runs everything', async () => {
    const dir = workspace(`version: "0.1"\nname: p\nsteps:\n  counted: { run: "echo x >> count", cache: false }\n  cached: { run: "echo y >> count2" }\n`);
    await run(dir);
    const r = await run(dir);
    expect(r.detail).toEqual({ counted: 'cache disabled (cache: false)', cached: 'cache hit' });
    expect(r.record.steps.find((s) => s.name === 'counted')!.cache).toBe('disabled');
    expect(read(dir, 'count')).toBe('x\nx\n');
    const entries = () => fs.readdirSync(path.join(dir, '.evident/cache/metadata/entries')).length;
    const before = entries();
    const forced = await run(dir, { noCache: true });
    expect(forced.detail).toEqual({ counted: 'cache disabled (--no-cache)', cached: 'cache disabled (--no-cache)' });
    expect(read(dir, 'count2')).toBe('y\ny\n');
    expect(entries()).toBe(before);
  });

  it('a step whose outputs hold a symbolic link is cached, the link restored as a link (issue 14 finding 6)', async () => {
    const dir = workspace('version: "0.1"\nname: p\nsteps:\n  link: { run: "mkdir -p out && echo x > out/a && ln -sf a out/b", outputs: [out/] }\n');
    const first = await run(dir);
    expect(first.warnings).toEqual([]);
    fs.rmSync(path.join(dir, 'out/b'));
    expect((await run(dir)).detail.link).toBe('cache hit');
    expect(fs.readlinkSync(path.join(dir, 'out/b'))).toBe('a');
  });

  it('cache.enabled: false turns the cache off for every step', async () => {
    const dir = workspace('version: "0.1"\nname: p\ncache: { enabled: false }\nsteps:\n  a: { run: "echo a >> n" }\n');
    await run(dir);
    expect((await run(dir)).detail.a).toBe('cache disabled (cache.enabled: false)');
    expect(read(dir, 'n')).toBe('a\na\n');
  });

  it('stores each distinct content once, also compressed, and restores it', async () => {
    const big = 'x'.repeat(100_000);
    const dir = workspace(`version: "0.1"\nname: p\ncache: { compression: gzip }\nsteps:\n  one: { run: "mkdir -p o1 && cp big o1/a && cp big o1/b", inputs: [big], outputs: [o1/] }\n  two: { run: "mkdir -p o2 && cp big o2/c", inputs: [big], outputs: [o2/] }\n`, { big });
    await run(dir);
    const objects = fs.readdirSync(path.join(dir, '.evident/cache/outputs', sha(big).slice(0, 2)));
    expect(objects).toEqual([`${sha(big)}.gz`]);
    expect(fs.statSync(path.join(dir, '.evident/cache/outputs', sha(big).slice(0, 2), objects[0]!)).size).toBeLessThan(1000);
    fs.rmSync(path.join(dir, 'o1'), { recursive: true });
    fs.rmSync(path.join(dir, 'o2'), { recursive: true });
    expect((await run(dir)).detail).toEqual({ one: 'cache hit', two: 'cache hit' });
    expect(read(dir, 'o1/b')).toBe(big);
    expect(read(dir, 'o2/c')).toBe(big);
  });
});

describe('a cache that lies is never believed', () => {
  it('a corrupted object: the entry is discarded loudly and the step runs again', async () => {
    const dir = workspace(PIPELINE, FILES);
    await run(dir);
    const app = read(dir, 'dist/app');
    fs.writeFileSync(path.join(dir, '.evident/cache/outputs', sha(app).slice(0, 2), sha(app)), 'int evil;\n');
    fs.rmSync(path.join(dir, 'dist'), { recursive: true });
    const r = await run(dir);
    expect(r.detail.build).toBe('cache miss (cache entry discarded)');
    expect(r.warnings.some((w) => /^cache entry [0-9a-f]{12} of build discarded: object [0-9a-f]{12} is corrupted/.test(w))).toBe(true);
    expect(read(dir, 'dist/app')).toBe(app);
    expect(r.detail.test).toBe('cache hit');
    // The object was written afresh: the next run is a hit again.
    fs.rmSync(path.join(dir, 'dist'), { recursive: true });
    expect((await run(dir)).detail.build).toBe('cache hit');
    expect(read(dir, 'dist/app')).toBe(app);
  });

  // `sealed`: the attacker also holds the seal key (the second line of defence, checkManifest); else the
  // edit is made as anyone who can write .evident/cache/ can make it.
  const hostile = async (edit: (manifest: { files: { path: string; sha256: string; size: number }[] }) => void, sealed = true, dir = workspace(PIPELINE, FILES)) => {
    await run(dir);
    const sealer = Sealer.forWorkspace(dir, { create: false })!;
    const entries = path.join(dir, '.evident/cache/metadata/entries');
    for (const name of fs.readdirSync(entries)) {
      const file = path.join(entries, name);
      const manifest = JSON.parse(sealer.open('manifest', fs.readFileSync(file, 'utf8'))!);
      if (manifest.step !== 'build') continue;
      edit(manifest);
      fs.writeFileSync(file, sealed ? sealer.seal('manifest', JSON.stringify(manifest)) : JSON.stringify(manifest));
    }
    fs.rmSync(path.join(dir, 'dist'), { recursive: true });
    return { dir, result: await run(dir) };
  };

  it('a consistent substitution (a new object under its true digest, the manifest pointing to it) is refused: manifests are sealed', async () => {
    const dir = workspace(PIPELINE, FILES);
    const evil = 'EVIL-build-output\n';
    const { result } = await hostile((m) => {
      const object = path.join(dir, '.evident/cache/outputs', sha(evil).slice(0, 2), sha(evil));
      fs.mkdirSync(path.dirname(object), { recursive: true });
      fs.writeFileSync(object, evil);
      Object.assign(m.files[0]!, { sha256: sha(evil), size: Buffer.byteLength(evil) });
    }, false, dir);
    expect(result.detail.build).toBe('cache miss (cache entry discarded)');
    expect(result.warnings.join('\n')).toMatch(/seal does not verify/);
    expect(read(dir, 'dist/app')).toBe('int a;\nint b;\n');
    expect(result.record.steps.find((s) => s.name === 'build')!.outputs[0]!.sha256).toBe(sha('int a;\nint b;\n'));
  });

  it('an edited stat memo cannot vouch for an output changed on disk: the restore hashes it and puts the cached bytes back', async () => {
    const dir = workspace(PIPELINE, FILES);
    await run(dir);
    // Same size, new bytes; then the memo is edited to say the file still has the recorded digest.
    fs.writeFileSync(path.join(dir, 'dist/app'), 'int e;\nint f;\n');
    const memoFile = path.join(dir, '.evident/cache/inputs/stat-memo.json');
    const text = fs.readFileSync(memoFile, 'utf8');
    const mark = text.lastIndexOf('\nevident-seal:');
    const memo = JSON.parse(mark < 0 ? text : text.slice(0, mark)) as { v: number; files: Record<string, unknown[]> };
    const st = fs.statSync(path.join(dir, 'dist/app'));
    memo.files['dist/app'] = [st.size, st.mtimeMs, st.ctimeMs, st.ino, sha('int a;\nint b;\n'), Date.now() + 10_000];
    fs.writeFileSync(memoFile, JSON.stringify(memo));
    const r = await run(dir);
    expect(r.detail.build).toBe('cache hit');
    expect(read(dir, 'dist/app')).toBe('int a;\nint b;\n');
  });

  it('a manifest with a ../ path is rejected and nothing is written outside the workspace', async () => {
    const { dir, result } = await hostile((m) => (m.files[0]!.path = '../escaped'));
    expect(result.detail.build).toBe('cache miss (cache entry discarded)');
    expect(result.warnings.join('\n')).toMatch(/files\[0\]\.path "\.\.\/escaped" is not a plain relative path/);
    expect(fs.existsSync(path.join(dir, '..', 'escaped'))).toBe(false);
    expect(exists(dir, 'dist/app')).toBe(true);
  });

  it('a manifest with an absolute path, or a path beside the declared outputs, is rejected', async () => {
    const outside = path.join(tempDir('evident-outside-'), 'planted');
    const abs = await hostile((m) => (m.files[0]!.path = outside));
    expect(abs.result.warnings.join('\n')).toMatch(/is an absolute path/);
    expect(fs.existsSync(outside)).toBe(false);
    const beside = await hostile((m) => (m.files[0]!.path = 'src/a.c'));
    expect(beside.result.warnings.join('\n')).toMatch(/files\[0\]\.path "src\/a\.c" is not under any of the step's declared outputs/);
    expect(read(beside.dir, 'src/a.c')).toBe('int a;\n');
    const state = await hostile((m) => (m.files[0]!.path = '.evident/run.lock'));
    expect(state.result.warnings.join('\n')).toMatch(/is inside \.evident\//);
  });

  it('an output directory that is a symbolic link is never written through', async () => {
    const guarded = PIPELINE.replace('run: "mkdir -p dist', 'run: "if [ -L dist ]; then echo dist is a link >&2; exit 7; fi; mkdir -p dist');
    const dir = workspace(guarded, FILES);
    await run(dir);
    const outside = tempDir('evident-outside-');
    fs.rmSync(path.join(dir, 'dist'), { recursive: true });
    fs.symlinkSync(outside, path.join(dir, 'dist'));
    const r = await run(dir);
    expect(r.warnings.join('\n')).toMatch(/build not restored from the cache: dist is a symbolic link/);
    expect(r.detail.build).toBe('exit code 7');
    expect(fs.readdirSync(outside)).toEqual([]);
  });
});

describe('eviction', () => {
  it('keeps the cache under max_size by evicting the least recently used entries', async () => {
    const step = (n: string) => `  ${n}: { run: "head -c 4000 /dev/urandom > ${n}.bin", outputs: [${n}.bin] }`;
    const dir = workspace(`version: "0.1"\nname: p\ncache: { max_size: 9000B }\nsteps:\n${['a', 'b', 'c'].map(step).join('\n')}\n`);
    const r = await run(dir, { jobs: 1 });
    expect(r.evicted).toBe(1);
    let total = 0;
    const objects = path.join(dir, '.evident/cache/outputs');
    for (const d of fs.readdirSync(objects)) for (const f of fs.readdirSync(path.join(objects, d))) total += fs.statSync(path.join(objects, d, f)).size;
    expect(total).toBe(8000); // two 4000-byte outputs (the logs are empty)
    const again = await run(dir, { jobs: 1 });
    expect(Object.values(again.detail).filter((d) => d === 'cache hit')).toHaveLength(2);
  });
});

describe('LocalCache', () => {
  it('evicts by least recent use and deletes only the objects no remaining entry shares; retention_days drops old entries', async () => {
    const dir = tempDir('evident-lru-');
    const file = (name: string, content: string) => {
      write(dir, name, content);
      return { path: `out/${name}`, abs: path.join(dir, name), sha256: sha(content), size: content.length, executable: false };
    };
    const [x, y, z] = [file('x', 'x'.repeat(1000)), file('y', 'y'.repeat(1000)), file('z', 'z'.repeat(1000))];
    const log = { ...file('log', ''), path: '' };
    const cache = new LocalCache(path.join(dir, 'cache'), { compression: 'none', maxBytes: 2500, retentionDays: 30 }).open();
    const key = (n: string) => n.repeat(64);
    await cache.store({ key: key('a'), step: 'a', durationSecs: 1, files: [x], log }, 1000);
    await cache.store({ key: key('b'), step: 'b', durationSecs: 1, files: [x, y], log }, 2000);
    await cache.store({ key: key('c'), step: 'c', durationSecs: 1, files: [z], log }, 3000);
    const outputs = [parsePattern('out/')];
    const a = cache.lookup(key('a'), outputs);
    expect(a && 'manifest' in a).toBe(true);
    cache.touch((a as { manifest: EntryManifest }).manifest, 4000);

    expect(cache.prune(5000)).toEqual([key('b')]);
    expect(cache.lookup(key('b'), outputs)).toBeUndefined();
    expect(cache.objects.find(x.sha256)).toBeDefined(); // still needed by a
    expect(cache.objects.find(y.sha256)).toBeUndefined();
    expect(cache.objects.find(z.sha256)).toBeDefined();
    expect(cache.stats()).toMatchObject({ entries: 2, bytes: 2000 });

    expect(cache.prune(4000 + 31 * 86_400_000).sort()).toEqual([key('a'), key('c')]);
    expect(cache.stats()).toMatchObject({ entries: 0, objects: 0, bytes: 0 });
    cache.close();
  });
});
