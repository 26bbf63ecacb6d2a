import { prelude } from './prelude.js';
import { main } from './run.js';

// The entry of dist/cli/evident-cmd-NAME.cjs, the CommonJS bundles of the common networked commands with commander
// (fast-route.ts), which the commander-free fast bundles load for what they do not read themselves (main-quick.ts):
// main.ts without `evident run`'s replay (run is not sent here) and without a top-level await (CommonJS has none).
prelude();
void main(process.argv).then((code) => {
  process.exitCode = code;
});
