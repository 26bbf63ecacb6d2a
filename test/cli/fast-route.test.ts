import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FAST_BUNDLES, FAST_NOUNS, FAST_WORDS, fastBundleOf, isFastRoute } from '../../src/cli/fast-route.js';
import { LAZY_NOUNS, LAZY_WORDS } from '../../src/cli/program-lazy.js';
import { CLI } from '../helpers/cli.js';

// The bin (dist/cli/evident.cjs) sends the common networked commands to the CommonJS bundle of their group and
// everything else to the ES entry (src/cli/launcher.ts, fast-route.ts; docs/performance.md "Scale, seventh
// round", "Eighth round").

const argv = (...words: string[]) => ['node', 'evident', ...words];

describe('which command lines start from the CommonJS bundle (fast-route.ts)', () => {
  it('reads the command line as program-lazy.ts does: the word, or the noun right after its verb', () => {
    expect(isFastRoute(argv('--version'))).toBe(true);
    expect(isFastRoute(argv('-V'))).toBe(true);
    expect(isFastRoute(argv('log', 'checkpoint'))).toBe(true);
    expect(isFastRoute(argv('-H', 'http://x', '--org', 'o', 'log', 'checkpoint'))).toBe(true);
    expect(isFastRoute(argv('list', 'flows', '--output', 'json'))).toBe(true);
    expect(isFastRoute(argv('--output', 'json', 'get', 'artifact', 'f@x'))).toBe(true);
    expect(isFastRoute(argv('create', 'flow', 'f', '--template-file', 'x.yml'))).toBe(true);
    // the whole program's, as in program-lazy.ts: an option between verb and noun, a verb alone, help, none
    expect(isFastRoute(argv('list', '--output', 'json', 'flows'))).toBe(false);
    expect(isFastRoute(argv('list'))).toBe(false);
    expect(isFastRoute(argv('--help'))).toBe(false);
    expect(isFastRoute(argv())).toBe(false);
    // other groups and `evident run` (its replay) are the ES entry's
    expect(isFastRoute(argv('list', 'artifacts'))).toBe(false);
    expect(isFastRoute(argv('get', 'attestation', 'x'))).toBe(false);
    expect(isFastRoute(argv('assert', 'artifact'))).toBe(false);
    expect(isFastRoute(argv('run'))).toBe(false);
    expect(isFastRoute(argv('server'))).toBe(false);
    expect(isFastRoute(argv('verify', 'log'))).toBe(false);
    // the --host value is not the command word
    expect(isFastRoute(argv('-H', 'log', 'server'))).toBe(false);
  });

  it('sends each command line to the bundle of its group', () => {
    expect(fastBundleOf(argv('--version'))).toBe('version');
    expect(fastBundleOf(argv('log', 'checkpoint'))).toBe('log');
    expect(fastBundleOf(argv('list', 'flows'))).toBe('flows');
    expect(fastBundleOf(argv('get', 'artifact', 'f@x'))).toBe('artifact');
    expect(fastBundleOf(argv('begin', 'trail', 't', '--flow', 'f'))).toBe('trails');
    expect(fastBundleOf(argv('get', 'trail', 't'))).toBe('trails');
    expect(fastBundleOf(argv('--output', 'json', 'attest', 'junit', '--name', 'x'))).toBe('attest');
    expect(fastBundleOf(argv('attest', 'artifact'))).toBe('attest');
    expect(fastBundleOf(argv('create', 'attestation-type', 'x'))).toBe('attest');
    expect(fastBundleOf(argv('get', 'flow', 'f'))).toBe('flows');
    expect(fastBundleOf(argv('list', 'trails', '--version'))).toBe('trails');
    expect(fastBundleOf(argv('server'))).toBeUndefined();
  });

  it('names only words and nouns that program-lazy.ts loads on their own, each in one bundle', () => {
    for (const word of FAST_WORDS) expect(LAZY_WORDS, word).toContain(word);
    for (const noun of FAST_NOUNS) expect(LAZY_NOUNS, noun).toContain(noun);
    expect(new Set(FAST_WORDS).size).toBe(FAST_WORDS.length);
    expect(new Set(FAST_NOUNS).size).toBe(FAST_NOUNS.length);
    expect(new Set(FAST_BUNDLES.map((b) => b.name)).size).toBe(FAST_BUNDLES.length);
  });
});

describe('the built bin', () => {
  const ES_ENTRY = path.join(path.dirname(CLI), 'evident.js');
  const run = (file: string, args: string[]) => spawnSync(process.execPath, [file, ...args], { env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent' }, encoding: 'utf8' });

  it('prints what the ES entry prints for every command line sent to a bundle (its help, --version): each group is in its bundle', () => {
    const attest = ['artifact', 'generic', 'approval', 'junit', 'snyk', 'sarif', 'provenance', 'pullrequest', 'pullrequest github', 'pullrequest gitlab', 'custom'];
    const lines = [
      ['--version'], ['-V'], ...FAST_WORDS.map((w) => [w, '--help']), ['log', 'checkpoint', '--help'], ['log', 'key', '--help'],
      ...attest.map((sub) => ['attest', ...sub.split(' '), '--help']), ...FAST_NOUNS.map((n) => [...n.split(' '), '--help']),
    ];
    for (const args of lines) {
      const bin = run(CLI, args);
      const es = run(ES_ENTRY, args);
      expect(bin.stdout, args.join(' ')).toBe(es.stdout);
      expect(bin.stderr, args.join(' ')).toBe(es.stderr);
      expect(bin.status, args.join(' ')).toBe(es.status);
      expect(bin.status, args.join(' ')).toBe(0);
    }
  });

  it('gives a usage error the same text and exit status from the bundle as from the ES entry', () => {
    for (const args of [
      ['list', 'flows', '--no-such-flag'], ['get', 'artifact'], ['log', 'no-such-subcommand'], ['begin', 'trail'], ['get', 'trail', 't'],
      ['attest', 'generic', '--flow', 'f'], ['attest', 'junit', '--name', 'x', '--flow', 'f', '--trail', 't', '--no-such-flag'], ['attest', 'no-such-type'],
      ['attest', 'snyk', '--name', 'x', '--flow', 'f', '--trail', 't'], ['create', 'attestation-type'],
    ]) {
      const bin = run(CLI, args);
      const es = run(ES_ENTRY, args);
      expect(bin.status, args.join(' ')).toBe(2);
      expect([bin.status, bin.stdout, bin.stderr], args.join(' ')).toEqual([es.status, es.stdout, es.stderr]);
    }
  });

  it('gives a command that fails before its request (a bad flag value, a missing file) the same text and status from its bundle', () => {
    const env = { EVIDENT_HOST: 'http://127.0.0.1:9', EVIDENT_API_TOKEN: 't' };
    const runEnv = (file: string, args: string[]) => spawnSync(process.execPath, [file, ...args], { env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent', ...env }, encoding: 'utf8' });
    for (const args of [
      ['attest', 'junit', '--results-dir', '/nonexistent/dir', '--name', 'x', '--flow', 'f', '--trail', 't'],
      ['attest', 'artifact', 'missing.bin', '-t', 'nosuchtype', '--name', 'x', '--flow', 'f', '--trail', 't'],
      ['attest', 'artifact', '--name', 'x', '--flow', 'f', '--trail', 't'],
      ['attest', 'provenance', '/nonexistent/file.json', '--name', 'x', '--flow', 'f', '--trail', 't'],
      ['attest', 'junit', '--results-dir', '.', '--upload-results=false', '--name', 'x', '--flow', 'f', '--trail', 't'],
      ['begin', 'trail', 't', '--flow', 'f', '--user-data', '/nonexistent.json'],
    ]) {
      const bin = runEnv(CLI, args);
      const es = runEnv(ES_ENTRY, args);
      expect(bin.status, args.join(' ')).not.toBe(0);
      expect([bin.status, bin.stdout, bin.stderr], args.join(' ')).toEqual([es.status, es.stdout, es.stderr]);
    }
  });

  // Ninth round (docs/performance.md): the fast bundles read ordinary command lines without commander
  // (src/cli/quick-parse.ts) and load the commander bundle of their group, evident-cmd-NAME.cjs, for any other.
  it('holds no commander in the fast bundles: the commander bundles beside them do', () => {
    const dir = path.dirname(CLI);
    for (const b of FAST_BUNDLES) {
      const fast = fs.readFileSync(path.join(dir, `evident-fast-${b.name}.cjs`), 'utf8');
      const cmd = fs.readFileSync(path.join(dir, `evident-cmd-${b.name}.cjs`), 'utf8');
      // esbuild names each bundled CommonJS module by its path
      expect(/node_modules\/commander\//.test(fast), b.name).toBe(false);
      expect(/node_modules\/commander\//.test(cmd), b.name).toBe(true);
    }
  });

  it('prints what the ES entry prints for command lines the fast path reads and for those it leaves to commander', () => {
    const runEnv = (file: string, args: string[], env: Record<string, string>) => spawnSync(process.execPath, [file, ...args], { env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent', EVIDENT_HOST: 'http://127.0.0.1:9', EVIDENT_MAX_API_RETRIES: '0', ...env }, encoding: 'utf8' });
    const gen = ['--name', 'x', '--flow', 'f', '--trail', 't'];
    const cases: [string[], Record<string, string>][] = [
      // read by the fast path: dry runs (nothing sent), a server that cannot be reached, the markdown check, exit codes
      [['begin', 'trail', 't', '--flow', 'f', '-D', '--commit', 'abc'], {}],
      [['begin', 'trail', 't', '--external-url', 'j=http://j', '--dry-run', '--commit=abc'], { KOSLI_FLOW: 'f' }],
      [['attest', 'generic', ...gen, '--dry-run', '--compliant=false', '--annotate', 'a=1'], {}],
      [['attest', 'generic', ...gen, '--compliant', 'false'], { KOSLI_DRY_RUN: 'true' }],
      [['attest', 'generic', ...gen], { KOSLI_API_TOKEN: 'DRY_RUN' }],
      [['attest', 'junit', ...gen, '--results-dir', '/nonexistent/dir', '-D'], {}],
      [['list', 'flows', '--limit', '5', '-o', 'json'], {}],
      [['list', 'flows', '--output', 'markdown'], {}],
      [['get', 'trail', 't', '--flow', 'f', '--output', 'markdown'], {}],
      [['get', 'artifact', 'f@abc', '--trail', 't'], { EVIDENT_EXIT_CODES: 'kosli' }],
      [['log', 'checkpoint', '--host', 'not a url'], {}],
      [['log', 'checkpoint'], { EVIDENT_EXIT_CODES: 'nonsense' }],
      [['--version'], { EVIDENT_EXIT_CODES: 'nonsense' }],
      // left to commander: usage errors and values its parsers refuse, in every form
      [['list', 'flows', '--limit', '0'], {}],
      [['list', 'flows', '--limit=abc'], {}],
      [['list', 'flows'], { EVIDENT_LIMIT: 'many' }],
      [['list', 'flows', '--sort', 'size'], {}],
      [['list', 'flows', '--include-archived=yes'], {}],
      [['list', 'flows', '-r', '100'], {}],
      [['get', 'artifact', 'a', 'b'], {}],
      [['get', 'artifact', 'a', '-t'], {}],
      [['begin', 'trail', 't', '-f', 'f'], {}],
      [['attest', 'generic', ...gen, '--compliant', 'maybe'], {}],
      [['attest', 'generic', ...gen, '-C=false', '-D'], {}],
      [['attest', 'generic', ...gen, '--annotate', 'novalue'], {}],
      [['attest', 'generic', ...gen, '-Dq'], {}],
      [['attest', 'generic', ...gen, '--', '-D'], {}],
      [['log', 'entries', '--start', '-1'], {}],
      [['log', 'checkpoint', '--help'], {}],
    ];
    for (const [args, env] of cases) {
      const label = `${JSON.stringify(env)} ${args.join(' ')}`;
      const bin = runEnv(CLI, args, env);
      const es = runEnv(ES_ENTRY, args, env);
      expect([bin.status, bin.stdout, bin.stderr], label).toEqual([es.status, es.stdout, es.stderr]);
    }
  });
});
