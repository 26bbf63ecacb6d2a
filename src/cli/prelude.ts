import module from 'node:module';

/**
 * What every start of the CLI does before anything else loads: the ES entry (main.ts) and the CommonJS bundle of
 * the common networked commands (main-fast.ts, docs/performance.md "Scale, seventh round") alike.
 */
export function prelude(): void {
  // Node ≥ 22.1 keeps the compiled code of the modules loaded from here on (our chunks, commander) in a cache
  // directory (os.tmpdir()/node-compile-cache, or NODE_COMPILE_CACHE; NODE_DISABLE_COMPILE_CACHE=1 turns it off),
  // so a later start skips compiling them (issue #21, docs/performance.md "CLI start-up"). Node 20 has no such
  // cache: nothing happens. A cache that cannot be written (read-only tmp) is a status, not an error.
  (module as { enableCompileCache?: () => unknown }).enableCompileCache?.();

  // The shipped CLI is an esbuild bundle (scripts/build-cli.mjs) with linked source maps. Node reads a
  // module's map when it loads it, and only when asked: reading them costs every start-up, so they are
  // turned on for --debug (which prints stack traces) before the rest of the CLI loads.
  if (process.argv.includes('--debug') || process.env.EVIDENT_DEBUG === 'true') process.setSourceMapsEnabled(true);

  // A reader that stops early (`evident ... | head`) closes stdout: that ends the command quietly.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}
