// Makes the V8 code cache of one fast bundle (src/cli/code-cache.ts, docs/performance.md "Tenth round: a code
// cache"), at build time, in a process of its own (scripts/build-cli.mjs runs it once per bundle):
//
//   node scripts/code-cache.mjs dist/cli/evident-fast-NAME.cjs '[["begin","trail",...], ...]'
//
// The bundle is compiled as the launcher compiles it (the same wrapper, from tsc's output of code-cache.ts) and
// run once for each command line given, against a host that refuses connections (nothing is sent anywhere), so
// that V8 has compiled the functions those commands run (parsing, configuration, the client, error reporting)
// when the cache is taken: a cache taken before running holds the top level only, and each of those functions
// would be compiled again at every start. The file holds the cache twice (code-cache.ts packCache). Prints the
// cache's size.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { bundleScript, runBundle, cacheFileOf, packCache } = await import(path.join(root, 'dist/src/cli/code-cache.js'));

const [bundle, lines] = process.argv.slice(2);
const file = path.resolve(bundle);
const script = bundleScript(file, fs.readFileSync(file, 'utf8'));
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'evident-code-cache-'));
try {
  fs.writeFileSync(path.join(work, 'junit.xml'), '<testsuite name="warm" tests="1" failures="0"><testcase name="t" classname="c"/></testsuite>\n');
  // Nothing of the builder's own configuration or checkout: an empty home and working directory.
  for (const key of Object.keys(process.env)) if (/^(EVIDENT|KOSLI)_/.test(key)) delete process.env[key];
  Object.assign(process.env, { HOME: work, EVIDENT_HOST: 'http://127.0.0.1:9', EVIDENT_ORG: 'warm', EVIDENT_API_TOKEN: 'warm' });
  process.chdir(work);
  const launcher = path.join(path.dirname(file), 'evident.cjs');
  for (const line of JSON.parse(lines)) {
    const args = line.map((a) => a.replaceAll('$WORK', work));
    process.argv = [process.execPath, launcher, ...args];
    process.exitCode = undefined;
    runBundle(script, file);
    // The command is done when it has set its exit code (main-quick.ts).
    const started = Date.now();
    while (process.exitCode === undefined) {
      if (Date.now() - started > 20_000) throw new Error(`code cache of ${bundle}: \`evident ${args.join(' ')}\` did not finish`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
  const data = script.createCachedData();
  fs.writeFileSync(cacheFileOf(file), packCache(data));
  process.stdout.write(`${path.basename(cacheFileOf(file))} ${Math.round(data.length / 1024)} KiB\n`);
  process.exitCode = 0;
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
