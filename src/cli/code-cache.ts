import fs from 'node:fs';
import Module from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

// V8's code cache for the CLI's CommonJS bundle on Node 20 (issue #21, docs/performance.md "Scale, seventh
// round"): compiling evident-fast.cjs (~230 KB) is a tenth of a networked command's CPU; with the cache V8 reads
// the compiled functions instead. Node ≥ 22.1 has its own cache (module.enableCompileCache, launcher.ts), so this
// is used only where Node lacks it.
//
// The cache is never trusted for anything but speed:
// - V8 rejects data from another V8 version, other flags or a source of another length, and then compiles the
//   source as `require` would. It does not compare the source itself, so the file also records the bundle's
//   device, inode, size, modification and change times (ctime moves with every write to the file): a bundle
//   changed in any way makes its cache unused, and it is written again.
// - It lives beside the bundle, written only where the bundle's directory is writable: whoever can write it can
//   write the bundle itself. A read-only install (a system-wide global install run by another user) has no cache
//   and starts as it would without one. Nothing is written elsewhere (not in a shared tmp, where another user
//   could leave a cache for this one to run).
// - It is written to a temporary name and renamed, so a reader sees a whole cache or none; a failure to read or
//   write it is never an error.

const MAGIC = 'evident-v8-cache-1';

/** The cache file of `file` for this node (the bundle's name, the node version and architecture). */
export function cacheFileOf(file: string): string {
  return `${file}.${process.version}-${process.arch}.v8cache`;
}

/** The header that ties a cache to one state of `file` on disk. */
function headerOf(stat: fs.Stats): string {
  return `${MAGIC} ${stat.dev} ${stat.ino} ${stat.size} ${stat.mtimeMs} ${stat.ctimeMs}\n`;
}

/** Runs the CommonJS file `file` (as `require(file)` would, for a file that exports nothing) through the cache. */
export function runCached(file: string): void {
  const fd = fs.openSync(file, 'r');
  let source: string;
  let header: string;
  try {
    header = headerOf(fs.fstatSync(fd));
    source = fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
  const cacheFile = cacheFileOf(file);
  let cachedData: Buffer | undefined;
  try {
    const data = fs.readFileSync(cacheFile);
    if (data.subarray(0, header.length).toString('latin1') === header) cachedData = data.subarray(header.length);
  } catch {
    // no cache yet
  }
  const script = new vm.Script(Module.wrap(source), {
    filename: file,
    cachedData,
    // `import()` in the bundle resolves as in a module at `file` (answer-explain.cjs beside it, node: builtins).
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  if (cachedData === undefined || script.cachedDataRejected === true) {
    // At exit, so that the cache holds the functions this command compiled, not only the top level.
    process.once('exit', () => writeCache(script, cacheFile, header));
  }
  const compiled = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: object, filename: string, dirname: string) => void;
  const module = { exports: {}, filename: file, id: file };
  compiled.call(module.exports, module.exports, Module.createRequire(file), module, file, path.dirname(file));
}

function writeCache(script: vm.Script, cacheFile: string, header: string): void {
  const temporary = `${cacheFile}.${process.pid}.tmp`;
  try {
    fs.accessSync(path.dirname(cacheFile), fs.constants.W_OK);
    fs.writeFileSync(temporary, Buffer.concat([Buffer.from(header, 'latin1'), script.createCachedData()]), { mode: 0o644 });
    fs.renameSync(temporary, cacheFile);
  } catch {
    // a read-only install, a full disk: the next start compiles the bundle again
    try {
      fs.rmSync(temporary, { force: true });
    } catch {
      // nothing was written
    }
  }
}
