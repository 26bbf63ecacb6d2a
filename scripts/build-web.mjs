// Builds the browser UI (src/web/app) into dist/web: one ES module and one stylesheet, named by content
// hash so they can be cached for ever, and an index.html that points at them. The server serves these files.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const appDir = path.join(root, 'src/web/app');
const outDir = path.join(root, 'dist/web');

// Type-check the browser code with its own tsconfig (DOM, Preact JSX); esbuild only strips types.
if (!process.argv.includes('--no-check')) {
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(appDir, 'tsconfig.json')], { stdio: 'inherit' });
}

fs.rmSync(outDir, { recursive: true, force: true });
const result = await esbuild.build({
  entryPoints: { app: path.join(appDir, 'main.tsx') },
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: 'linked',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  entryNames: 'assets/[name]-[hash]',
  outdir: outDir,
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((f) => path.relative(outDir, path.resolve(root, f)));
const js = outputs.find((f) => f.endsWith('.js'));
const css = outputs.find((f) => f.endsWith('.css'));
if (!js || !css) throw new Error(`esbuild produced no ${js ? 'stylesheet' : 'script'}`);

// A hand-drawn icon inlined as a data: URL (the CSP allows data: images): a check mark on a ledger block.
const FAVICON = 'data:image/svg+xml,' + encodeURIComponent('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#24292f"/><path d="M8 17l5 5 11-12" fill="none" stroke="#7ee2a0" stroke-width="4" stroke-linecap="round" stroke-linejoin="round"/></svg>');
const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Evident</title>
<meta name="color-scheme" content="light dark">
<link rel="icon" href="${FAVICON}">
<link rel="stylesheet" href="./${css}">
<script type="module" src="./${js}"></script>
</head>
<body>
<div id="app"><p class="boot">Loading Evident…</p></div>
<noscript>The Evident web UI needs JavaScript. The same records are available from the <code>evident</code> CLI.</noscript>
</body>
</html>
`;
fs.writeFileSync(path.join(outDir, 'index.html'), html);
const size = (f) => fs.statSync(path.join(outDir, f)).size;
console.log(`web: dist/web/${js} (${Math.round(size(js) / 1024)} KiB), ${css} (${Math.round(size(css) / 1024)} KiB)`);
