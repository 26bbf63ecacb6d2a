// A V8 code cache for the fast bundles, dist/cli/evident-fast-NAME.cjs (issue #21, docs/performance.md "Tenth
// round: a code cache"): what is left of a fast command's start-up over `node -e 0` is mostly V8 compiling the
// 60–113 KiB bundle (its top level, then each function as it first runs). Node 20 has no module.enableCompileCache
// (the launcher turns it on where Node has it), so the launcher loads a bundle through vm.Script with the cache
// scripts/build-cli.mjs made for it beside it, after a warm-up run, so that the functions a command runs are in it.
//
// The cache is code: it is made at build time and shipped in dist/ beside its bundle, with the bundle's trust
// ("signed means verified"), never written at run time to a place a user could write. Its file name holds the
// V8 version and architecture that made it: any other Node finds no file and requires the bundle as before
// (with its own compile cache where it has one). A cache V8 rejects anyway (corrupt, other flags, other source)
// costs nothing but the read: V8 then compiles the source as a require would. Builtins come from
// process.getBuiltinModule, as in the launcher (an import would be copied into a namespace object).
//
// V8 checks a cache's header (its version, flags, the source's length, the payload's length) but, in release
// builds, not the payload's checksum (--verify-snapshot-checksum is on in debug builds only): a cache with a few
// bytes flipped inside was taken and crashed Node (SIGSEGV, "Fatal error ... unreachable code") or ran wrong code
// in 10 of 40 tries. So the file holds the cache twice, and is used only when both copies are equal: a corrupt
// or truncated file is then as if there were none. A comparison costs ~0.1 ms; a checksum would cost more than
// the cache saves (node:crypto's or node:zlib's first load, 1.5–3 ms; a JavaScript loop, ~1.5 ms).

/** The cache file of `bundle` for this V8 and architecture. */
export function cacheFileOf(bundle: string, v8 = process.versions.v8, arch = process.arch): string {
  return `${bundle}.${arch}-v8-${v8.replace(/[^\w.-]/g, '_')}.cache`;
}

// CommonJS's wrapper, on a line of its own so that the bundle's lines keep their numbers in stack traces
// (lineOffset -1). The same text at build and at run time: V8 checks the cache against the source.
const HEAD = '(function (exports, require, module, __filename, __dirname) {\n';
const TAIL = '\n})';

/** The script V8 compiles for `bundle`'s source, with `cachedData` when given. */
export function bundleScript(bundle: string, source: string, cachedData?: Buffer): import('node:vm').Script {
  const vm = process.getBuiltinModule('node:vm') as typeof import('node:vm');
  return new vm.Script(HEAD + source + TAIL, { filename: bundle, lineOffset: -1, cachedData });
}

/** What scripts/code-cache.mjs writes for `cache`: the cache twice. */
export function packCache(cache: Buffer): Buffer {
  return Buffer.concat([cache, cache]);
}

/** The cache a file holds, or undefined when its two copies differ (corrupt, truncated). */
export function unpackCache(file: Buffer): Buffer | undefined {
  const half = file.length >> 1;
  if (half === 0 || file.length !== 2 * half) return undefined;
  const cache = file.subarray(0, half);
  return cache.equals(file.subarray(half)) ? cache : undefined;
}

type Wrapper = (exports: unknown, require: NodeJS.Require, module: NodeJS.Module, filename: string, dirname: string) => void;

/** Runs `script` (a bundleScript) as the CommonJS module `bundle`, as `require(bundle)` would. */
export function runBundle(script: import('node:vm').Script, bundle: string): void {
  const Module = process.getBuiltinModule('node:module') as typeof import('node:module') & (new (id: string) => NodeJS.Module);
  const path = process.getBuiltinModule('node:path') as typeof import('node:path');
  const m = new Module(bundle);
  m.filename = bundle;
  m.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(bundle));
  const require = Module.createRequire(bundle);
  require.cache[bundle] = m;
  (script.runInThisContext() as Wrapper).call(m.exports, m.exports, require, m, bundle, path.dirname(bundle));
  m.loaded = true;
}

/**
 * Loads the bundle `bundle` (an absolute path) as `require(bundle)` would, from its code cache when it has one for
 * this V8. Without one (or a sound one), or with source maps on (stack traces mapped into src/, which Node does for what its
 * CommonJS loader compiles, not for vm.Script), it is that require. Returns whether the cache was read and taken.
 */
export function requireCached(bundle: string, require: NodeJS.Require): boolean {
  const fs = process.getBuiltinModule('node:fs') as typeof import('node:fs');
  let cachedData: Buffer | undefined;
  if (!process.sourceMapsEnabled) {
    const file = cacheFileOf(bundle);
    try {
      // A stat first: on another Node there is no file, and a failed read builds an exception (~0.1 ms on Node 26).
      if (fs.statSync(file, { throwIfNoEntry: false })) cachedData = unpackCache(fs.readFileSync(file));
    } catch {
      // unreadable: the plain require below
    }
  }
  if (cachedData === undefined) {
    require(bundle);
    return false;
  }
  const script = bundleScript(bundle, fs.readFileSync(bundle, 'utf8'), cachedData);
  runBundle(script, bundle);
  return !script.cachedDataRejected;
}
