#!/usr/bin/env node
import module from 'node:module';
import path from 'node:path';
import { runCached } from './code-cache.js';
import { isFastRoute } from './fast-route.js';

// The package's bin, dist/cli/evident.cjs (issue #21, docs/performance.md "Scale, seventh round"): a CommonJS
// file, so that starting it does not start Node's ES module loader. The common networked commands (fast-route.ts)
// run from one CommonJS bundle; every other command line from the ES entry (main.ts, dist/cli/evident.js).
// Both files are beside this one in dist/cli (scripts/build-cli.mjs); named by variables, as they are not in src/.
const fast = path.join(__dirname, 'evident-fast.cjs');
const entry = './evident.js';

// Before either loads: Node ≥ 22.1's compile cache, so that it covers the bundle too, and --debug's source maps,
// so that the bundle's stack traces point into src/ (prelude.ts does both again for the ES entry; harmless).
const compileCache = (module as { enableCompileCache?: () => unknown }).enableCompileCache;
compileCache?.();
const debug = process.argv.includes('--debug') || process.env.EVIDENT_DEBUG === 'true';
if (debug) process.setSourceMapsEnabled(true);

if (!isFastRoute(process.argv)) void import(entry);
// Node 20 has no compile cache of its own: the bundle goes through V8's (code-cache.ts); with --debug it is
// required as it is, so that Node reads its source map.
else if (compileCache || debug) module.createRequire(__filename)(fast);
else runCached(fast);
