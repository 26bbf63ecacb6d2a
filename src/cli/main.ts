#!/usr/bin/env node
import module from 'node:module';

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

// A plain `evident run` with nothing changed is replayed before the rest of the CLI loads (run-replay.ts).
const replayed = process.argv[2] === 'run' ? (await import('./run-replay.js')).replayRun(process.argv) : undefined;
if (replayed !== undefined) process.exitCode = replayed;
else {
  // EXIT comes through run.js: a second import here would be one more file (a re-export chunk) at every start.
  const { main, EXIT } = await import('./run.js');
  const code = await main(process.argv);
  // `evident server` keeps running; every other command ends here.
  if (code !== EXIT.OK || !process.argv.includes('server')) process.exitCode = code;
}
