// Builds the shipped `evident` CLI (package.json `bin`) into dist/cli: one esbuild bundle of our own code,
// split so that a command loads only the chunks it uses (the CLI's dynamic imports become chunk
// boundaries). Everything in node_modules stays external: better-sqlite3 is native, and the packages
// keep their own module loading. Why: `evident run`'s warm run was spending ~110 ms loading 92 of our
// modules one by one (docs/performance.md "The runner"); a handful of chunks load in a fraction of that.
// dist/src (tsc output) stays for the unit tests and the benches that import modules directly.
//
// The package's bin is not this bundle's entry but a CommonJS launcher, dist/cli/evident.cjs (src/cli/launcher.ts):
// it runs the common networked commands from the CommonJS bundle of their group, dist/cli/evident-fast-NAME.cjs (no
// ES module loader, one file: `fastOnly` below), and imports this bundle's entry, dist/cli/evident.js, for the rest.
//
// The run replay (src/cli/run-replay.ts, loaded first by every `evident run`) is a second, separate
// bundle, dist/cli/run-replay.js: esbuild assigns whole files to chunks by which entry points import
// them, through barrels too, so inside the split bundle the replay shared one chunk with the whole runner
// (130 KB of pipeline/ and 94 KB of formats/) to use a handful of functions. Alone it is ~35 KB.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { answerCheckSources, answerChecksModule, writeAnswerChecks } from './answer-checks.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'dist/cli');
const srcDir = path.join(root, 'src') + path.sep;
const REPLAY = './run-replay.js';

// Our modules are free of side effects on import (none is imported for its effects alone; the web app's
// CSS is built elsewhere): marking them so lets esbuild drop a module whose exports the replay does not use.
const pureSources = {
  name: 'pure-sources',
  setup(build) {
    build.onResolve({ filter: /^\./ }, async (args) => {
      if (args.pluginData === 'pure-sources' || !args.importer.startsWith(srcDir)) return undefined;
      const resolved = await build.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: 'pure-sources' });
      if (resolved.errors.length > 0 || !resolved.path.startsWith(srcDir)) return resolved;
      return { path: resolved.path, sideEffects: false };
    });
  },
};

// In the fast bundles (quickBuilds below), commander is imported by the command modules for registering only: marked
// free of side effects there, its import goes when nothing that uses it is kept.
const commanderFree = {
  name: 'commander-free',
  setup(build) {
    build.onResolve({ filter: /^commander$/ }, async (args) => {
      if (args.pluginData === 'commander-free') return undefined;
      const resolved = await build.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: 'commander-free' });
      return resolved.errors.length > 0 ? resolved : { path: resolved.path, sideEffects: false };
    });
  },
};

// main.ts's `import('./run-replay.js')` names the separate bundle, beside it in dist/cli.
const replayExternal = {
  name: 'replay-external',
  setup(build) {
    build.onResolve({ filter: /^\.\/run-replay\.js$/ }, (args) => (args.importer === path.join(srcDir, 'cli', 'main.ts') ? { path: REPLAY, external: true } : undefined));
  },
};

// Packages bundled into our chunks rather than loaded from node_modules: TypeBox is ~700 ES modules that Node
// would open, read and link one by one (a good part of every networked command's start-up, docs/performance.md
// "CLI start-up"). It is pure ESM JavaScript with no files of its own. Commander (every command loads it) is
// CommonJS: imported from node_modules, Node starts its CommonJS loader and scans index.js for its exports
// (~30 ms of CPU on Node 20, more than the rest of `evident --version`); bundled, it is part of an ES chunk.
const BUNDLED = /^(typebox|commander)(\/|$)/;
const externalPackages = {
  name: 'external-packages',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => (BUNDLED.test(args.path) ? undefined : { path: args.path, external: true }));
  },
};

// Commander `require`s node:events, node:child_process, node:path, node:fs and node:process. In an ES bundle
// esbuild turns a require of an external module into a call that throws ("Dynamic require ... is not
// supported"), so each is answered by a small module of the bundle: the builtin itself, from
// `process.getBuiltinModule` (Node ≥ 20.16, as package.json's engines ask), and for node:process the process
// object (commander sets process.exitCode on it). node:child_process (for executable subcommands, which we do
// not use) is loaded only if a property of it is read: loading it at start-up cost every command ~3 ms of
// CPU on Node 20 (it is not in Node's start-up snapshot), and an ES re-export (`export *`) made the bundle
// copy every export of each builtin into a CommonJS object (docs/performance.md "Scale, sixth round").
const requiredBuiltins = {
  name: 'required-builtins',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) => (args.kind === 'require-call' ? { path: args.path, namespace: 'required-builtin' } : undefined));
    build.onLoad({ filter: /.*/, namespace: 'required-builtin' }, (args) => ({
      contents: args.path === 'node:process'
        ? 'module.exports = process;'
        : args.path === 'node:child_process'
          ? `let m; module.exports = new Proxy({}, { get: (_t, key) => (m ??= process.getBuiltinModule('node:child_process'))[key] });`
          : `module.exports = process.getBuiltinModule(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

// In the CommonJS bundles, an ES `import fs from 'node:fs'` (or `{ readFileSync }`) of a builtin became
// `__toESM(require('node:fs'))`: a new object with a getter defined for each of the builtin's ~100 properties, at
// every start, for each module that imports it (nine copies of fs, path, os, http ... in a bundle: 1–4 ms of CPU,
// docs/performance.md "Eighth round"). Here the import is of a small ES module instead: the builtin itself, from
// `process.getBuiltinModule`, as its default export, and each property as a named export marked pure, so that
// the bundle keeps only those some module imports. (The ES bundles import builtins natively: not needed there.)
const IDENT = /^[A-Za-z_$][\w$]*$/;
const builtinImports = {
  name: 'builtin-imports',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) => (args.kind === 'import-statement' ? { path: args.path, namespace: 'builtin-import' } : undefined));
    build.onLoad({ filter: /.*/, namespace: 'builtin-import' }, async (args) => {
      const names = Object.keys(process.getBuiltinModule(args.path)).filter((n) => IDENT.test(n) && n !== 'default');
      return {
        contents: [
          `const m = process.getBuiltinModule(${JSON.stringify(args.path)});`,
          'export default m;',
          ...names.map((n) => `export const ${n} = /* @__PURE__ */ (() => m.${n})();`),
        ].join('\n'),
        loader: 'js',
      };
    });
  },
};

// A networked command checks the server's answers without TypeBox (docs/performance.md "Scale, sixth round"):
// - src/client/answer-check.ts, which checks with TypeBox at run time, is replaced by checks generated now
//   from the same schemas (scripts/answer-checks.mjs; the table is read from tsc's output, built first);
// - the CLI's commands see the client's index without its schema namespaces (`schemas`, `recordSchemas`
//   ...): they import those for types only, and a namespace re-exported by a module the CLI loads would
//   be built, TypeBox with it. A command that used one as a value would fail this build ("No matching
//   export"), not run without it. The server's routes (which need the schemas) import the whole index.
//   Each check is a file of its own, dist/cli/answers/NAME.cjs, required on first use, but for the answers a
//   fast bundle's commands read (src/cli/fast-route.ts `answers`): those are in the bundle, saving the require.
const leanClient = (inline = []) => ({
  name: 'lean-client',
  setup(build) {
    const clientDir = path.join(srcDir, 'client');
    const checkFile = path.join(clientDir, 'answer-check.ts');
    build.onLoad({ filter: /[\\/]client[\\/]answer-check\.ts$/ }, async (args) => {
      if (args.path !== checkFile) return undefined;
      const tables = path.join(root, 'dist/src/client/answers.js');
      if (!fs.existsSync(tables)) throw new Error(`${tables} is missing: run tsc first (npm run build)`);
      const { ANSWERS } = await import(tables);
      return { contents: answerChecksModule(Object.keys(ANSWERS), './answers/', inline), loader: 'js', resolveDir: clientDir };
    });
    build.onResolve({ filter: /^answer-source:/ }, (args) => ({ path: args.path.slice('answer-source:'.length), namespace: 'answer-source' }));
    build.onLoad({ filter: /.*/, namespace: 'answer-source' }, async (args) => {
      const { ANSWERS } = await import(path.join(root, 'dist/src/client/answers.js'));
      if (!Object.hasOwn(ANSWERS, args.path)) throw new Error(`src/cli/fast-route.ts names an answer ${args.path} that src/client/answers.ts does not have`);
      return { contents: answerCheckSources({ [args.path]: ANSWERS[args.path] }, true)[args.path], loader: 'js', resolveDir: root };
    });
    build.onResolve({ filter: /client\/index\.js$/ }, (args) => {
      if (!args.importer.startsWith(path.join(srcDir, 'cli') + path.sep)) return undefined;
      if (path.resolve(args.resolveDir, args.path) !== path.join(clientDir, 'index.js')) return undefined;
      return { path: path.join(clientDir, 'index.ts'), namespace: 'lean-client' };
    });
    build.onLoad({ filter: /.*/, namespace: 'lean-client' }, () => {
      const lines = fs.readFileSync(path.join(clientDir, 'index.ts'), 'utf8').split('\n');
      const kept = lines.filter((l) => /^export \{[^}]*\} from '\.\/[\w-]+\.js';$/.test(l));
      return { contents: kept.join('\n'), loader: 'ts', resolveDir: clientDir };
    });
  },
});

// The CommonJS bundles of the common networked commands, dist/cli/evident-fast-NAME.cjs, one per group
// (src/cli/fast-route.ts FAST_BUNDLES, docs/performance.md "Scale, seventh round", "Eighth round"): esbuild does not
// split CommonJS, so a bundle holds everything its entry can reach, but of program-lazy.ts's dynamic imports only
// its group's modules, and of run.ts's none (`evident run` and the whole program are the ES entry's). Any other is
// replaced by a module that throws when loaded: a word sent here by mistake fails with this message, it does not
// run something else.
async function fastOnly(bundle) {
  const lazy = path.join(srcDir, 'cli', 'program-lazy.ts');
  const run = path.join(srcDir, 'cli', 'run.ts');
  return {
    name: 'fast-only',
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind !== 'dynamic-import' || (args.importer !== lazy && args.importer !== run)) return undefined;
        if (args.importer === lazy && bundle.modules.includes(args.path)) return undefined;
        return { path: args.path, namespace: 'not-in-fast-bundle' };
      });
      build.onLoad({ filter: /.*/, namespace: 'not-in-fast-bundle' }, (args) => ({
        contents: `throw new Error(${JSON.stringify(`internal: ${args.path} is not in the ${bundle.name} bundles, dist/cli/evident-{fast,cmd}-${bundle.name}.cjs (src/cli/fast-route.ts sent this command line there)`)});`,
        loader: 'js',
      }));
      // A barrel imported dynamically for one function: in the bundle, that function's module only (a barrel is
      // held whole: formats/ ~100 KB, ledger/ ~50 KB, parsed at every start). The re-export fails the build if the
      // function moves; a command that took another name from the same import would find it undefined, and
      // its tests (which run the bin) fail.
      build.onResolve({ filter: /\/index\.js$/ }, (args) => {
        const narrow = NARROW.find((n) => args.kind === 'dynamic-import' && args.importer === path.join(srcDir, n.importer) && args.path === n.path);
        return narrow ? { path: `${narrow.path}#${narrow.names.join(',')}`, namespace: 'narrow-barrel', pluginData: narrow } : undefined;
      });
      build.onLoad({ filter: /.*/, namespace: 'narrow-barrel' }, (args) => ({
        contents: `export { ${args.pluginData.names.join(', ')} } from ${JSON.stringify(path.join(srcDir, args.pluginData.from))};`,
        loader: 'ts',
        resolveDir: srcDir,
      }));
      // TypeBox and the answer schemas (~300 KB) explain a bad answer only: a CommonJS file of their own, beside.
      build.onResolve({ filter: /^\.\/answer-explain\.js$/ }, () => ({ path: './answer-explain.cjs', external: true }));
    },
  };
}

// The barrels the fast bundles' commands import dynamically for a function or two (create flow's template check,
// log key's PEM, attest's fingerprinting of a path with -t, attest provenance's check of the file): those and the
// module that defines them (fastOnly).
const NARROW = [
  { importer: 'cli/commands/flows.ts', path: '../../formats/index.js', names: ['parseFlowTemplate'], from: 'formats/flow-template.ts' },
  { importer: 'cli/commands/log.ts', path: '../../ledger/index.js', names: ['verifierKeyPem'], from: 'ledger/keys.ts' },
  { importer: 'cli/commands/fingerprint-input.ts', path: '../../services/index.js', names: ['ARTIFACT_TYPES', 'fingerprint'], from: 'services/fingerprint/index.ts' },
  { importer: 'cli/commands/attest-reports.ts', path: '../../formats/index.js', names: ['parseProvenanceDocument'], from: 'formats/provenance-document.ts' },
];

// In CommonJS, `import.meta.url` (createRequire, worker files beside the chunk) is this file's URL, and `import()`
// of what stays outside the bundle (answer-explain.cjs, node:https) is a `require`: both are CommonJS, and an
// `import()` would start the ES module loader for them.
const commonJs = {
  format: 'cjs',
  supported: { 'dynamic-import': false },
  banner: { js: 'const __evidentImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
  define: { 'import.meta.url': '__evidentImportMetaUrl' },
};

const common = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // One flat directory: modules that find files relative to import.meta.url (package.json, dist/web)
  // see the same depth from every chunk.
  outdir: outDir,
  // Linked maps: `--debug` turns on source-map stack traces (src/cli/main.ts) pointing into src/.
  sourcemap: 'linked',
  // Whitespace and syntax only: names stay, so a stack trace without the map is still readable.
  minifyWhitespace: true,
  minifySyntax: true,
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
};

fs.rmSync(outDir, { recursive: true, force: true });
// The server's report parser threads (src/services/parse-pool.ts) load `./parse-worker.js` beside the
// chunk that starts them: a third bundle, on its own, so a worker does not load the CLI.
const routes = path.join(root, 'dist/src/cli/fast-route.js');
if (!fs.existsSync(routes)) throw new Error(`${routes} is missing: run tsc first (npm run build)`);
const { FAST_BUNDLES } = await import(routes);
const answersTable = path.join(root, 'dist/src/client/answers.js');
// The CommonJS bundles of the common networked commands, one per group of src/cli/fast-route.ts (fastOnly), with
// commander: dist/cli/evident-cmd-NAME.cjs, which the fast bundle of the group loads for what it does not read itself.
const cmdBuilds = FAST_BUNDLES.map(async (bundle) => esbuild.build({ ...common, ...commonJs, entryPoints: { [`evident-cmd-${bundle.name}`]: path.join(srcDir, 'cli/main-fast.ts') }, outExtension: { '.js': '.cjs' }, plugins: [await fastOnly(bundle), leanClient(bundle.answers), builtinImports, requiredBuiltins, externalPackages] }));
// The fast bundles, dist/cli/evident-fast-NAME.cjs, which the bin loads (docs/performance.md "Ninth round"): the
// group's commands run without commander (src/cli/main-quick.ts, quick-parse.ts), from the table of their flags read
// from commander's program now (src/cli/quick-table.ts) and written into the bundle; any command line the fast
// path declines loads evident-cmd-NAME.cjs. Commander must not be in them: its import in a command module (for
// registering) is dropped with the registering code (our modules and commander marked free of side effects), and
// the build fails if any of it is left.
const { quickTable } = await import(path.join(root, 'dist/src/cli/quick-table.js'));
const quickBuilds = FAST_BUNDLES.map(async (bundle) => {
  const { QUICK_HANDLERS } = await import(path.join(root, `dist/src/cli/quick/${bundle.name}.js`));
  const table = await quickTable(Object.keys(QUICK_HANDLERS));
  // `evident --version` has no command: its bundle holds no table, no handler, no client.
  const contents = bundle.name === 'version' ? [
    `import { versionMain } from ${JSON.stringify(path.join(srcDir, 'cli/main-quick.ts'))};`,
    `versionMain(${JSON.stringify(`./evident-cmd-${bundle.name}.cjs`)});`,
  ].join('\n') : [
    `import { quickMain } from ${JSON.stringify(path.join(srcDir, 'cli/main-quick.ts'))};`,
    `import { QUICK_HANDLERS } from ${JSON.stringify(path.join(srcDir, `cli/quick/${bundle.name}.ts`))};`,
    `quickMain(${JSON.stringify(table)}, QUICK_HANDLERS, ${JSON.stringify(`./evident-cmd-${bundle.name}.cjs`)});`,
  ].join('\n');
  const { outdir: _outdir, ...rest } = common;
  const result = await esbuild.build({
    ...rest, ...commonJs, stdin: { contents, loader: 'ts', resolveDir: path.join(srcDir, 'cli'), sourcefile: `quick-${bundle.name}.ts` },
    outfile: path.join(outDir, `evident-fast-${bundle.name}.cjs`),
    plugins: [commanderFree, await fastOnly(bundle), leanClient(bundle.answers), builtinImports, requiredBuiltins, pureSources, externalPackages],
  });
  // What the bundle holds (an input esbuild read but dropped whole has no bytes in the output).
  const held = Object.values(result.metafile.outputs).flatMap((o) => Object.entries(o.inputs).filter(([, i]) => i.bytesInOutput > 0).map(([f]) => f));
  const commander = held.filter((f) => /node_modules[\\/]commander[\\/]/.test(f));
  if (commander.length > 0) {
    const importers = Object.entries(result.metafile.inputs).filter(([f, i]) => !commander.includes(f) && i.imports.some((x) => commander.includes(x.path))).map(([f]) => f);
    throw new Error(`dist/cli/evident-fast-${bundle.name}.cjs holds commander, imported by ${importers.join(', ')}: something the fast path runs uses it`);
  }
  return result;
});
const [main, replay, , , launcher] = await Promise.all([
  esbuild.build({ ...common, entryPoints: { evident: path.join(srcDir, 'cli/main.ts') }, splitting: true, entryNames: '[name]', chunkNames: '[name]-[hash]', plugins: [leanClient(), replayExternal, requiredBuiltins, externalPackages] }),
  esbuild.build({ ...common, entryPoints: { 'run-replay': path.join(srcDir, 'cli/run-replay.ts') }, plugins: [pureSources, requiredBuiltins, externalPackages] }),
  esbuild.build({ ...common, entryPoints: { 'parse-worker': path.join(srcDir, 'services/parse-worker.ts') }, plugins: [pureSources, requiredBuiltins, externalPackages] }),
  // `verify log --full`'s hashing threads (src/cli/verify/log-hashers.ts): the same, for log-hash-worker.js.
  esbuild.build({ ...common, entryPoints: { 'log-hash-worker': path.join(srcDir, 'cli/verify/log-hash-worker.ts') }, plugins: [pureSources, requiredBuiltins, externalPackages] }),
  // The bin (package.json), dist/cli/evident.cjs: sends a command line to a fast bundle or to the ES entry.
  esbuild.build({ ...common, format: 'cjs', entryPoints: { evident: path.join(srcDir, 'cli/launcher.ts') }, outExtension: { '.js': '.cjs' }, plugins: [externalPackages] }),
  esbuild.build({ ...common, ...commonJs, entryPoints: { 'answer-explain': path.join(srcDir, 'client/answer-explain.ts') }, outExtension: { '.js': '.cjs' }, plugins: [pureSources, requiredBuiltins, externalPackages] }),
  // The subject map's thread (src/services/map-thread.ts): the same, for map-worker.js.
  esbuild.build({ ...common, entryPoints: { 'map-worker': path.join(srcDir, 'services/map-worker.ts') }, plugins: [pureSources, requiredBuiltins, externalPackages] }),
  // dist/cli/answers/NAME.cjs, the answer checks both the ES chunks and the CommonJS bundles require (leanClient).
  import(answersTable).then(({ ANSWERS }) => writeAnswerChecks(esbuild, ANSWERS, path.join(outDir, 'answers'), root)),
]);
const fast = await Promise.all(quickBuilds);
const cmd = await Promise.all(cmdBuilds);

// Each fast bundle's V8 code cache, made by this Node after a warm-up run of the command lines below
// (scripts/code-cache.mjs, src/cli/code-cache.ts): shipped beside the bundle, read by the launcher on the same V8.
const FP = 'b'.repeat(64);
const TRAIL = ['--flow', 'f', '--trail', 't'];
const WARM = {
  version: [['--version']],
  log: [['log', 'checkpoint']],
  flows: [['list', 'flows'], ['get', 'flow', 'f']],
  artifact: [['get', 'artifact', `f@${FP}`]],
  trails: [['begin', 'trail', 't', '--flow', 'f'], ['get', 'trail', 't', '--flow', 'f'], ['list', 'trails', '--flow', 'f']],
  attest: [['attest', 'artifact', '--fingerprint', FP, '--name', 'a', ...TRAIL], ['attest', 'generic', '--name', 'g', ...TRAIL], ['attest', 'junit', '--results-dir', '$WORK', '--name', 'u', ...TRAIL]],
};
const caches = await Promise.all(FAST_BUNDLES.map((bundle) => {
  if (!Object.hasOwn(WARM, bundle.name)) throw new Error(`scripts/build-cli.mjs: no warm-up command lines (WARM) for the fast bundle ${bundle.name}`);
  const run = spawnSync(process.execPath, [path.join(root, 'scripts/code-cache.mjs'), path.join(outDir, `evident-fast-${bundle.name}.cjs`), JSON.stringify(WARM[bundle.name])], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`scripts/code-cache.mjs ${bundle.name} exited ${run.status}: ${run.stderr}`);
  return run.stdout.trim().split('\n').at(-1);
}));

const outputs = (r) => Object.keys(r.metafile.outputs).filter((f) => f.endsWith('.js') || f.endsWith('.cjs'));
const size = (files) => Math.round(files.reduce((sum, f) => sum + fs.statSync(path.resolve(root, f)).size, 0) / 1024);
fs.chmodSync(path.join(outDir, 'evident.js'), 0o755);
fs.chmodSync(path.join(outDir, 'evident.cjs'), 0o755);
// EVIDENT_CLI_METAFILE=DIR: esbuild's metafile of each bundle there (what a bundle holds, by input: for start-up work).
if (process.env.EVIDENT_CLI_METAFILE) {
  fs.mkdirSync(process.env.EVIDENT_CLI_METAFILE, { recursive: true });
  for (const [name, r] of Object.entries({ main, replay, launcher, ...Object.fromEntries(fast.map((r, i) => [`fast-${FAST_BUNDLES[i].name}`, r])), ...Object.fromEntries(cmd.map((r, i) => [`cmd-${FAST_BUNDLES[i].name}`, r])) })) fs.writeFileSync(path.join(process.env.EVIDENT_CLI_METAFILE, `${name}.json`), JSON.stringify(r.metafile));
}
console.log(`cli: dist/cli/evident.js and ${outputs(main).length - 1} chunks (${size(outputs(main))} KiB); dist/cli/run-replay.js (${size(outputs(replay))} KiB); dist/cli/evident.cjs (${size(outputs(launcher))} KiB) and evident-fast-*.cjs (${fast.map((r, i) => `${FAST_BUNDLES[i].name} ${size(outputs(r))}`).join(', ')} KiB), evident-cmd-*.cjs (${cmd.map((r, i) => `${FAST_BUNDLES[i].name} ${size(outputs(r))}`).join(', ')} KiB); code caches ${caches.join(', ')}`);
