#!/usr/bin/env node
import module from 'node:module';
import { isFastRoute } from './fast-route.js';

// The package's bin, dist/cli/evident.cjs (issue #21, docs/performance.md "Scale, seventh round"): a CommonJS
// file, so that starting it does not start Node's ES module loader. The common networked commands (fast-route.ts)
// run from one CommonJS bundle; every other command line from the ES entry (main.ts, dist/cli/evident.js).
// Before either loads, Node ≥ 22.1's compile cache is turned on, so that it covers the bundle too (prelude.ts).
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
// Both files are beside this one in dist/cli (scripts/build-cli.mjs); named by variables, as they are not in src/.
const fast = './evident-fast.cjs';
const entry = './evident.js';
if (isFastRoute(process.argv)) module.createRequire(__filename)(fast);
else void import(entry);
