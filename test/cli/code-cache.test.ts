import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bundleScript, cacheFileOf, packCache, runBundle, unpackCache } from '../../src/cli/code-cache.js';
import { VERSION } from '../../src/core/index.js';
import { FAST_BUNDLES } from '../../src/cli/fast-route.js';
import { CLI } from '../helpers/cli.js';

// The fast bundles load from the V8 code cache the build made beside them (src/cli/code-cache.ts,
// scripts/code-cache.mjs; docs/performance.md "Tenth round: a code cache"): taken when V8 accepts it, and a cache
// that is corrupt, made from other source or for another V8 never changes what the bundle does.

// A CommonJS module that uses what a bundle uses: require of a file beside it, __filename, __dirname,
// module.exports, `this`, and a stack trace's line numbers (the throw is on line 5 of the file).
const SOURCE = [
  "const dep = require('./dep.cjs');",
  'module.exports = { dep, filename: __filename, dirname: __dirname, self: this === module.exports, runs: (globalThis.__cacheTestRuns = (globalThis.__cacheTestRuns ?? 0) + 1) };',
  'module.exports.fail = function fail() {',
  '  // the line below is line 5',
  "  throw new Error('from the bundle');",
  '};',
].join('\n');

let dir: string;
let bundle: string;
const req = () => createRequire(path.join(dir, 'launcher.cjs'));

function makeCache(source = SOURCE): Buffer {
  const script = bundleScript(bundle, source);
  runBundle(script, bundle);
  delete req().cache[bundle];
  return script.createCachedData();
}

// Loads the bundle in a fresh process, as the launcher does (tsc's output of code-cache.ts): in this one, V8's
// in-memory compilation cache would answer for a source it has compiled, whatever the cache file holds.
const LOAD = [
  "const { requireCached } = require(process.argv[1]);",
  "const bundle = process.argv[2];",
  "const taken = requireCached(bundle, require('node:module').createRequire(bundle));",
  "const m = require.cache[bundle].exports;",
  "let stack = ''; try { m.fail(); } catch (err) { stack = err.stack; }",
  "process.stdout.write(JSON.stringify({ taken, dep: m.dep, filename: m.filename, dirname: m.dirname, self: m.self, stack }));",
].join('\n');

function load(): { taken: boolean } {
  const run = spawnSync(process.execPath, ['-e', LOAD, path.resolve('dist/src/cli/code-cache.js'), bundle], { encoding: 'utf8' });
  expect(run.stderr).toBe('');
  const out = JSON.parse(run.stdout) as { taken: boolean; stack: string };
  // the bundle ran as under require, and its stack trace has the file's line numbers
  expect(out).toMatchObject({ dep: 'dep', filename: bundle, dirname: dir, self: true });
  expect(out.stack).toContain('from the bundle');
  expect(out.stack).toContain(`${bundle}:5:`);
  return out;
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evident-code-cache-test-'));
  bundle = path.join(dir, 'bundle.cjs');
  fs.writeFileSync(bundle, SOURCE);
  fs.writeFileSync(path.join(dir, 'dep.cjs'), "module.exports = 'dep';");
});
afterEach(() => {
  delete req().cache[bundle];
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('loading a bundle from its code cache (code-cache.ts)', () => {
  it('takes a cache V8 accepts, and the bundle behaves as under require', () => {
    fs.writeFileSync(cacheFileOf(bundle), packCache(makeCache()));
    expect(load().taken).toBe(true);
  });

  it('requires the bundle as before when there is no cache for this V8 (another Node made the one there)', () => {
    fs.writeFileSync(cacheFileOf(bundle, '0.0.1-other'), packCache(makeCache()));
    expect(cacheFileOf(bundle, '0.0.1-other')).not.toBe(cacheFileOf(bundle));
    expect(load().taken).toBe(false);
  });

  it('ignores a file whose two copies differ: a byte flipped in either, truncated, empty', () => {
    const good = packCache(makeCache());
    const half = good.length / 2;
    const flip = (at: number) => {
      const b = Buffer.from(good);
      b[at] = b[at]! ^ 0x01;
      return b;
    };
    for (const bad of [flip(0), flip(half >> 1), flip(half - 1), flip(half), flip(good.length - 1), good.subarray(0, good.length - 1), good.subarray(0, half), Buffer.alloc(0)]) {
      expect(unpackCache(bad)).toBeUndefined();
      fs.writeFileSync(cacheFileOf(bundle), bad);
      expect(load().taken).toBe(false);
    }
    expect(unpackCache(good)).toEqual(good.subarray(0, half));
  });

  it('ignores a sound file whose cache V8 rejects: its header changed, made from other source, not a cache', () => {
    const cache = makeCache();
    const header = Buffer.from(cache);
    for (let i = 0; i < 16; i++) header[i] = header[i]! ^ 0x5a;
    for (const bad of [header, makeCache(`${SOURCE}\n// another build`), Buffer.from('not a cache'), Buffer.alloc(cache.length)]) {
      fs.writeFileSync(cacheFileOf(bundle), packCache(bad));
      expect(load().taken).toBe(false);
    }
  });

  it('names the cache by V8 version and architecture, with nothing that leaves the directory', () => {
    expect(cacheFileOf('/d/b.cjs', '11.3.244.8-node.38', 'x64')).toBe('/d/b.cjs.x64-v8-11.3.244.8-node.38.cache');
    expect(path.dirname(cacheFileOf('/d/b.cjs', '1/../../x', 'x64'))).toBe('/d');
  });
});

describe('the shipped fast bundles and their caches (dist/cli)', () => {
  const cliDir = path.dirname(CLI);

  it('has a cache for every fast bundle, made by this Node, that V8 accepts', () => {
    for (const { name } of FAST_BUNDLES) {
      const file = path.join(cliDir, `evident-fast-${name}.cjs`);
      const cache = unpackCache(fs.readFileSync(cacheFileOf(file)));
      expect(cache, name).toBeDefined();
      const script = bundleScript(file, fs.readFileSync(file, 'utf8'), cache);
      expect({ name, rejected: script.cachedDataRejected }).toEqual({ name, rejected: false });
    }
  });

  it('runs the same with a corrupt cache: output and exit code', () => {
    // A copy of the launcher and two bundles, so that the shipped caches stay as they are.
    for (const f of ['evident.cjs', 'evident-fast-version.cjs', 'evident-fast-trails.cjs']) {
      fs.copyFileSync(path.join(cliDir, f), path.join(dir, f));
      if (f !== 'evident.cjs') fs.copyFileSync(cacheFileOf(path.join(cliDir, f)), cacheFileOf(path.join(dir, f)));
    }
    const run = (...args: string[]) => spawnSync(process.execPath, [path.join(dir, 'evident.cjs'), ...args], {
      cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: dir, EVIDENT_HOST: 'http://127.0.0.1:9', EVIDENT_ORG: 'o' },
    });
    const [version, trail] = [run('--version'), run('get', 'trail', 't', '--flow', 'f')];
    expect(version).toMatchObject({ status: 0, stdout: `${VERSION}\n` });
    expect(trail).toMatchObject({ status: 3, signal: null });
    expect(trail.stderr).toContain('cannot reach http://127.0.0.1:9');
    const before = [version, trail];
    const same = () => expect([run('--version'), run('get', 'trail', 't', '--flow', 'f')].map((r) => [r.status, r.signal, r.stdout, r.stderr])).toEqual(before.map((r) => [r.status, r.signal, r.stdout, r.stderr]));
    for (const f of ['evident-fast-version.cjs', 'evident-fast-trails.cjs']) fs.writeFileSync(cacheFileOf(path.join(dir, f)), Buffer.from('corrupt'.repeat(100)));
    same();
    // Bytes flipped inside the trails cache's payload, in one copy: V8 does not check the payload in release
    // builds, and such a cache crashed Node or ran wrong code before the two copies were compared.
    const file = cacheFileOf(path.join(dir, 'evident-fast-trails.cjs'));
    const good = fs.readFileSync(cacheFileOf(path.join(cliDir, 'evident-fast-trails.cjs')));
    for (const at of [0.1, 0.3, 0.5, 0.7, 0.9].map((x) => 64 + Math.floor(x * (good.length / 2 - 68)))) {
      const bad = Buffer.from(good);
      for (let k = 0; k < 4; k++) bad[at + k] = bad[at + k]! ^ 0xff;
      fs.writeFileSync(file, bad);
      same();
    }
  });
});
