#!/usr/bin/env node
import { prelude } from './prelude.js';

// The CLI's ES entry, dist/cli/evident.js: every command the CommonJS entry (launcher.ts, the package's bin)
// does not send to its bundle of the common networked commands (fast-route.ts) starts here.
prelude();

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
