#!/usr/bin/env node
import { requireCached } from './code-cache.js';
import { fastBundleOf } from './fast-route.js';

// The package's bin, dist/cli/evident.cjs (issue #21, docs/performance.md "Scale, seventh round"): a CommonJS
// file, so that starting it does not start Node's ES module loader. The common networked commands (fast-route.ts)
// run from a CommonJS bundle of their group, dist/cli/evident-fast-NAME.cjs; every other command line from the ES
// entry (main.ts, dist/cli/evident.js), both beside this file in dist/cli (scripts/build-cli.mjs; named by
// variables, as they are not in src/).
// Builtins come from process.getBuiltinModule: an `import` of one would be copied property by property into an
// ES-style namespace by the bundle's CommonJS interop.
const entry = './evident.js';
const nodeModule = process.getBuiltinModule('node:module') as typeof import('node:module') & { enableCompileCache?: () => unknown };

// Before either loads: Node ≥ 22.1's compile cache, so that it covers the bundle too, and --debug's source maps,
// so that the bundle's stack traces point into src/ (prelude.ts does both again for the ES entry; harmless).
nodeModule.enableCompileCache?.();
if (process.argv.includes('--debug') || process.env.EVIDENT_DEBUG === 'true') process.setSourceMapsEnabled(true);

const fast = fastBundleOf(process.argv);
// From the bundle's V8 code cache where the build made one for this Node (code-cache.ts).
if (fast !== undefined) requireCached(`${__dirname}${process.getBuiltinModule('node:path').sep}evident-fast-${fast}.cjs`, nodeModule.createRequire(__filename));
else void import(entry);
