// Builds the shipped `evident` CLI (package.json `bin`) into dist/cli: one esbuild bundle of our own code,
// split so that a command loads only the chunks it uses (the CLI's dynamic imports become chunk
// boundaries). Everything in node_modules stays external: better-sqlite3 is native, and the packages
// keep their own module loading. Why: `evident run`'s warm run was spending ~110 ms loading 92 of our
// modules one by one (docs/performance.md "The runner"); a handful of chunks load in a fraction of that.
// dist/src (tsc output) stays for the unit tests and the benches that import modules directly.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'dist/cli');

fs.rmSync(outDir, { recursive: true, force: true });
const result = await esbuild.build({
  entryPoints: { evident: path.join(root, 'src/cli/main.ts') },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  // One flat directory: modules that find files relative to import.meta.url (package.json, dist/web)
  // see the same depth from every chunk.
  outdir: outDir,
  entryNames: '[name]',
  chunkNames: '[name]-[hash]',
  // Linked maps: `--debug` turns on source-map stack traces (src/cli/main.ts) pointing into src/.
  sourcemap: 'linked',
  // Whitespace and syntax only: names stay, so a stack trace without the map is still readable.
  minifyWhitespace: true,
  minifySyntax: true,
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});

const files = Object.keys(result.metafile.outputs).filter((f) => f.endsWith('.js'));
const bytes = files.reduce((sum, f) => sum + fs.statSync(path.resolve(root, f)).size, 0);
fs.chmodSync(path.join(outDir, 'evident.js'), 0o755);
console.log(`cli: dist/cli/evident.js and ${files.length - 1} chunks (${Math.round(bytes / 1024)} KiB)`);
