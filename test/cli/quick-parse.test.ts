import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandWord } from '../../src/cli/command-word.js';
import { commandConfig } from '../../src/cli/config.js';
import { actionProbe, type Handler, type ProbedAction } from '../../src/cli/context.js';
import { FAST_BUNDLES } from '../../src/cli/fast-route.js';
import { programForWord } from '../../src/cli/program-lazy.js';
import { declineReason, quickParse, type QuickOption, type QuickParsed, type QuickTable } from '../../src/cli/quick-parse.js';
import { QUICK_PARSER_KINDS, quickParser } from '../../src/cli/quick-parsers.js';
import { quickTable } from '../../src/cli/quick-table.js';
import * as artifact from '../../src/cli/quick/artifact.js';
import * as attest from '../../src/cli/quick/attest.js';
import * as flows from '../../src/cli/quick/flows.js';
import * as log from '../../src/cli/quick/log.js';
import * as trails from '../../src/cli/quick/trails.js';
import * as version from '../../src/cli/quick/version.js';

/** src/cli/quick/NAME.ts of each fast bundle (scripts/build-cli.mjs builds each bundle from its own). */
const QUICK: Record<string, Record<string, Handler>> = { artifact: artifact.QUICK_HANDLERS, attest: attest.QUICK_HANDLERS, flows: flows.QUICK_HANDLERS, log: log.QUICK_HANDLERS, trails: trails.QUICK_HANDLERS, version: version.QUICK_HANDLERS };

// The fast path's reading of a command line (src/cli/quick-parse.ts, docs/performance.md "Ninth round") against
// commander's: for each command line, the options object and arguments the fast path hands a command's handler must
// be the very ones commander's action would get (`optsWithGlobals()`, `args`, caught by context.ts's actionProbe
// instead of running), or the fast path must decline (commander then reads it, prints its help or its error). It
// must never give a different answer, and it must not decline the ordinary lines of a pipeline.

const handlers: Record<string, Handler> = {};
let table: QuickTable;
let home: string;

beforeAll(async () => {
  expect(Object.keys(QUICK).sort()).toEqual(FAST_BUNDLES.map((b) => b.name).sort());
  for (const b of FAST_BUNDLES) Object.assign(handlers, QUICK[b.name]);
  table = await quickTable(Object.keys(handlers));
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'evident-quick-'));
});
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

const argvOf = (line: readonly string[]) => ['node', 'evident', ...line];

/** What commander's action gets for `line` in `env`, or 'error' (help, a usage error, a parser's error). */
async function viaCommander(line: readonly string[], vars: Record<string, string>): Promise<ProbedAction | 'error'> {
  const argv = argvOf(line);
  const env = { HOME: home, ...vars };
  const saved = process.env;
  // commander reads the variables from process.env itself (flag-table.ts binds them from the same env)
  process.env = env;
  let probed: ProbedAction | undefined;
  actionProbe.capture = (p) => void (probed = p);
  try {
    const program = await programForWord(commandWord(argv), argv, env);
    if (!program) return 'error';
    const quiet = (cmd: Command): void => {
      cmd.configureOutput({ writeOut: () => {}, writeErr: () => {} });
      cmd.commands.forEach(quiet);
    };
    quiet(program);
    await program.parseAsync(argv);
  } catch {
    return 'error';
  } finally {
    actionProbe.capture = undefined;
    process.env = saved;
  }
  return probed ?? 'error';
}

function viaQuick(line: readonly string[], vars: Record<string, string>): QuickParsed | undefined {
  const argv = argvOf(line);
  const env = { HOME: home, ...vars };
  return quickParse(argv, table, env, commandConfig(argv, env), quickParser);
}

/** Asserts the fast path agrees with commander on `line` (or declines); returns whether it read the line. */
async function agree(line: readonly string[], vars: Record<string, string> = {}): Promise<boolean> {
  const quick = viaQuick(line, vars);
  const commander = await viaCommander(line, vars);
  const label = `${Object.entries(vars).map(([k, v]) => `${k}=${v} `).join('')}${line.join(' ')}`;
  if (quick === undefined) return false;
  expect(commander, `${label}: the fast path read a line commander refuses`).not.toBe('error');
  const c = commander as ProbedAction;
  expect(quick.options, label).toStrictEqual(c.options);
  expect(quick.args, label).toStrictEqual(c.args);
  expect(handlers[quick.key], `${label}: the handler`).toBe(c.handler);
  return true;
}

/** Asserts the fast path reads `line` (an ordinary pipeline line) and agrees with commander. */
async function reads(line: readonly string[], vars: Record<string, string> = {}): Promise<void> {
  const why = declineReason(argvOf(line), table, { HOME: home, ...vars }, commandConfig(argvOf(line), { HOME: home, ...vars }), quickParser);
  expect(why, line.join(' ')).toBeUndefined();
  expect(await agree(line, vars)).toBe(true);
}

/** Asserts the fast path declines `line` (commander reads it). */
function declines(line: readonly string[], vars: Record<string, string> = {}): void {
  expect(viaQuick(line, vars), line.join(' ')).toBeUndefined();
}

function kosliConfig(text: string): string {
  const file = path.join(home, `kosli-${Math.random().toString(36).slice(2)}.yml`);
  fs.writeFileSync(file, text);
  return file;
}

describe('the fast path table (quick-table.ts)', () => {
  it('has every command of the fast handlers, each handler the one commander runs, and knows every parser it names', async () => {
    for (const key of Object.keys(handlers)) expect(table.commands.some((c) => c.key === key), key).toBe(true);
    for (const c of [...table.commands.flatMap((c) => c.options), ...table.globals]) {
      if (c.parser) expect(QUICK_PARSER_KINDS, `${c.long}: ${c.parser[0]}`).toContain(c.parser[0]);
    }
    // the aliases are commands too
    expect(table.commands.some((c) => c.words.join(' ') === 'tag flows' && c.key === 'tag flow')).toBe(true);
    // Kosli's short flags and the hidden -o come from flag-table.ts
    const list = table.commands.find((c) => c.key === 'list flows')!;
    expect(list.options.find((o) => o.long === '--name')?.short).toBe('-N');
    expect(list.options.find((o) => o.short === '-o' && !o.long)).toBeDefined();
  });
});

describe('the fast path reads what commander reads (quick-parse.ts)', () => {
  const FP = 'a'.repeat(64);

  it('log checkpoint, log key, log entries', async () => {
    await reads(['log', 'checkpoint']);
    await reads(['-H', 'http://h:1', '--org', 'o', 'log', 'checkpoint']);
    await reads(['log', 'checkpoint', '--host', 'http://h:1', '--api-token', 'secret', '-o', 'json']);
    await reads(['log', 'checkpoint', '--host=http://h:1', '--output=json-evident', '--debug', '-q']);
    await reads(['log', 'checkpoint', '-r', '0', '--http-proxy', 'http://p:3128']);
    await reads(['log', 'key', '--pem']);
    await reads(['log', 'entries', '--start', '3', '--end=9']);
    await reads(['log', 'entries'], { EVIDENT_START: '4', KOSLI_END: '7' });
    await reads(['log', 'entries', '--start', '1'], { EVIDENT_START: '4' });
    await reads(['log', 'proof', 'consistency', '--from', '2']);
    declines(['log', 'checkpoint', '--help']);
    declines(['log', 'checkpoint', '-h']);
    declines(['log', 'checkpoint', 'extra']);
    declines(['log', 'checkpoint', '--pem']);
    declines(['log', 'entries', '--start', 'x']);
    declines(['log', 'entries', '--start']);
    declines(['log', 'proof', 'consistency']);
    declines(['log', 'checkpoint', '-r', '100']);
    declines(['log', 'checkpoint', '--output', 'yaml']);
    declines(['log', 'checkpoint', '-Dq']);
    declines(['log', 'nope']);
    declines(['--version']);
  });

  it('list flows, get flow, tag flow', async () => {
    await reads(['list', 'flows']);
    await reads(['list', 'flows', '--limit', '5', '--sort', 'name', '--include-archived']);
    await reads(['list', 'flows', '--sort=compliance', '--limit=7', '--cursor', 'c1', '--page-limit', '3', '--page', '2']);
    await reads(['list', 'flows', '-N', 'run', '--missing-attestation-type', 'snyk', '--output', 'json']);
    await reads(['--output', 'json', 'list', 'flows', '-o', 'table']);
    await reads(['list', 'flows'], { EVIDENT_LIMIT: '9', KOSLI_SORT: 'name', KOSLI_INCLUDE_ARCHIVED: 'true' });
    await reads(['list', 'flows'], { KOSLI_INCLUDE_ARCHIVED: 'false', EVIDENT_NAME: 'x', KOSLI_NAME: 'y' });
    await reads(['list', 'flows', '--limit', '2'], { EVIDENT_LIMIT: '9' });
    await reads(['get', 'flow', 'runner']);
    await reads(['get', 'flow', 'runner', '--org', 'o']);
    await reads(['tag', 'flow', 'runner', '--set', 'a=1', '--set', 'b=2', '--unset', 'c']);
    await reads(['tag', 'flows', 'runner', '-s', 'a=1', '--set=b=2']);
    declines(['list', 'flows', '--sort', 'size']);
    declines(['list', 'flows', '--limit', '0']);
    declines(['list', 'flows', '--limit', '-5']);
    declines(['list', 'flows', 'extra']);
    declines(['list', 'flows', '--no-such-flag']);
    declines(['list', 'flows', '--include-archived=true']);
    declines(['list', 'flows', '--limit', '5', '--', '--x']);
    declines(['list', 'flows'], { EVIDENT_LIMIT: 'many' });
    declines(['get', 'flow']);
    declines(['create', 'flow', 'x']);
  });

  it('get artifact', async () => {
    await reads(['get', 'artifact', 'runner@abc']);
    await reads(['get', 'artifact', 'runner@abc', '--trail', 't1', '-o', 'json']);
    await reads(['get', 'artifact', '-t', 't1', 'runner:16d9990']);
    await reads(['get', 'artifact', 'runner:16d9990', '--trail=t1'], { KOSLI_TRAIL: 'other' });
    await reads(['get', 'artifact', 'abcdef'], { KOSLI_TRAIL: 'from-env', KOSLI_HOST: 'http://k:1', EVIDENT_HOST: 'http://e:1' });
    // a word that names a command elsewhere is an argument here, for commander too
    expect(await agree(['get', 'artifact', 'help'])).toBe(true);
    expect(await agree(['get', 'artifact', 'trail', '--trail', 'flow'])).toBe(true);
    declines(['get', 'artifact']);
    declines(['get', 'artifact', 'a', 'b']);
    declines(['get', 'artifact', 'a', '-t']);
    declines(['get', 'artifact', 'a', '-tx']);
  });

  it('begin trail, get trail, list trails', async () => {
    await reads(['begin', 'trail', 't1', '--flow', 'f']);
    await reads(['begin', 'trail', 't1', '--flow=f', '--description', 'd', '--commit', 'abc', '--commit-url', 'http://c', '-o', 'http://o']);
    await reads(['begin', 'trail', 't1', '--flow', 'f', '--external-url', 'jira=http://j', '--external-url', 'pr=http://p', '--external-fingerprint', `jira=${FP}`]);
    await reads(['begin', 'trail', 't1', '--template-file', 'flow.yml', '--user-data', 'u.json', '--flow', 'f', '-D']);
    await reads(['begin', 'trail', 't1'], { KOSLI_FLOW: 'f' });
    await reads(['begin', 'trail', 't1', '--flow', 'g'], { EVIDENT_FLOW: 'f', KOSLI_DESCRIPTION: 'from env' });
    await reads(['get', 'trail', 't1', '--flow', 'f', '--output', 'markdown']);
    await reads(['get', 'trail', 't1', '-f', 'f', '--limit', '10', '--cursor', 'x']);
    await reads(['list', 'trails', '--flow', 'f', '-t', 'team=core']);
    await reads(['list', 'trails', '--fingerprint', FP, '--page', '2']);
    declines(['begin', 'trail', 't1']);
    declines(['begin', 'trail', '--flow', 'f']);
    declines(['begin', 'trail', 't1', '-f', 'f']); // begin trail has no -f (SHORT_FLAG_OVERRIDES)
    declines(['begin', 'trail', 't1', '--flow', 'f', '--external-url', 'nolabel']);
    declines(['get', 'trail', 't1', '--flow', 'f', '--limit', '0']);
  });

  it('attest generic, junit, artifact, approval', async () => {
    const base = ['--name', 'unit', '--flow', 'f', '--trail', 't'];
    await reads(['attest', 'generic', ...base]);
    await reads(['attest', 'generic', ...base, '--compliant']);
    await reads(['attest', 'generic', ...base, '--compliant=false']);
    await reads(['attest', 'generic', '--compliant', 'false', ...base]);
    await reads(['attest', 'generic', ...base, '--compliant', 'true', 'app.tar']);
    await reads(['attest', 'generic', 'app.tar', ...base, '--compliant', '--fingerprint', FP]);
    await reads(['attest', 'generic', ...base, '--annotate', 'a=1', '--annotate', 'b=2', '--external-url', 'j=http://j', '--external-fingerprint', `j=${FP}`]);
    await reads(['attest', 'generic', ...base, '--attachments', 'a.txt,b.txt', '--attachments', 'c', '--user-data', 'u.json', '--description', 'd']);
    await reads(['attest', 'generic', ...base, '-t', 'file', '-x', '*.log', '-x', 'tmp', 'dist']);
    await reads(['attest', 'generic', '--name', 'unit'], { KOSLI_FLOW: 'f', KOSLI_TRAIL: 't', KOSLI_COMPLIANT: 'false' });
    await reads(['attest', 'generic', ...base], { EVIDENT_ANNOTATE: 'a=1', KOSLI_EXTERNAL_URL: 'j=http://j' });
    await reads(['attest', 'generic', ...base, '--annotate', 'x=y'], { EVIDENT_ANNOTATE: 'a=1' });
    await reads(['attest', 'generic', ...base, '--dry-run'], { KOSLI_DRY_RUN: 'true', KOSLI_API_TOKEN: 'DRY_RUN' });
    await reads(['attest', 'junit', ...base, '--results-dir', 'build/test-results']);
    await reads(['attest', 'junit', ...base, '-R', 'out', '--upload-results', 'true', '--fingerprint', FP]);
    await reads(['attest', 'junit', ...base], { KOSLI_RESULTS_DIR: 'reports' });
    await reads(['attest', 'artifact', '--fingerprint', FP, ...base, '--commit', 'abc', '--build-url', 'http://b', '--commit-time', '2026-01-01T00:00:00Z']);
    await reads(['attest', 'artifact', 'dist/app.tar', '-t', 'file', ...base, '--display-name', 'app', '--annotate', 'k=v']);
    await reads(['attest', 'approval', ...base, '--decision', 'rejected', '--approver', 'a@b', '--comment', 'no']);
    declines(['attest', 'generic', ...base, '--compliant', 'maybe']);
    declines(['attest', 'generic', ...base, '--compliant=maybe']);
    declines(['attest', 'generic', ...base, '-C=false']);
    declines(['attest', 'generic', '--name', 'unit', '--flow', 'f']);
    declines(['attest', 'generic', ...base, '--annotate', 'novalue']);
    declines(['attest', 'generic', ...base, 'a', 'b']);
    declines(['attest', 'generic', ...base], { KOSLI_COMPLIANT: 'maybe' });
    declines(['attest', 'snyk', ...base, '--scan-results', 's.sarif']);
    declines(['attest', 'junit', ...base, '--help']);
  });

  it('a Kosli config file sets flags (a flag or a variable wins; a repeated flag starts afresh)', async () => {
    const file = kosliConfig('FLOW: from-config\nTRAIL: t-config\nANNOTATE: a=1\nLIMIT: 7\nINCLUDE_ARCHIVED: true\nORG: o\n');
    await reads(['attest', 'generic', '--name', 'n', '--config-file', file]);
    await reads(['attest', 'generic', '--name', 'n', '-c', file, '--flow', 'f', '--annotate', 'b=2']);
    await reads(['attest', 'generic', '--name', 'n', `--config-file=${file}`], { KOSLI_TRAIL: 'env' });
    await reads(['attest', 'generic', '--name', 'n'], { KOSLI_CONFIG_FILE: file, EVIDENT_ANNOTATE: 'c=3' });
    await reads(['list', 'flows', '--config-file', file]);
    await reads(['list', 'flows', '--config-file', file, '--limit', '3']);
    const bad = kosliConfig('LIMIT: lots\n');
    declines(['list', 'flows', '--config-file', bad]);
    // an Evident config file sets the global options only (config.ts), which the command reads when it runs
    const evident = path.join(home, 'evident.yml');
    fs.writeFileSync(evident, 'org: o\n');
    await reads(['list', 'flows', '--config', evident]);
  });
});

describe('at random: the fast path agrees with commander or declines (fast-check)', () => {
  // Words drawn from the table and from what a command line may hold: values that parse, values that do not, flags
  // in each form, variables set or not.
  const VALUES = ['5', '1', '0', '100', 'x', 'a=1', 'b=', '=c', 'true', 'false', 'name', 'json', 'markdown', 'table', '', ' ', 'a,b', 'file', 'dir'];

  /** Values a flag takes (most of the time), from what its parser or choices accept. */
  const goodValues = (o: QuickOption): string[] => {
    if (o.choices) return o.choices;
    switch (o.parser?.[0]) {
      case 'int': case 'retries': return ['1', '5', '42'];
      case 'bool': return ['true', 'false', '1', '0'];
      case 'annotate': case 'prefixed': case 'labelled': return ['a=1', 'b=2', 'a=3'];
      case 'path': return ['a.txt', 'a,b'];
      default: return ['v1', 'v2', 'x.json', 'http://h:1'];
    }
  };
  const valueArb = (o: QuickOption) => fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...goodValues(o)) }, { weight: 1, arbitrary: fc.constantFrom(...VALUES) });

  it('for every command of the fast path', async () => {
    const commands = table.commands;
    let read = 0;
    let total = 0;
    const word = fc.constantFrom(...VALUES, '-x', '--', '-', '--help', 'extra', '-Dq');
    const globals = table.globals.filter((g) => g.long !== '--version' && g.long !== '--config' && g.long !== '--config-file');
    const flagArb = (options: readonly QuickOption[]) => fc.constantFrom(...options).chain((option) => fc.record({
      form: fc.oneof({ weight: 12, arbitrary: fc.constantFrom('long', 'eq', 'short') }, { weight: 1, arbitrary: fc.constant('bare') }),
      value: valueArb(option),
    }).map(({ form, value }) => {
      const flag = form === 'short' && option.short ? option.short : option.long ?? option.short!;
      if (option.value === 'none') return form === 'bare' ? [`${flag}=${value}`] : [flag];
      if (form === 'eq' && flag.startsWith('--')) return [`${flag}=${value}`];
      if (form === 'bare') return [flag];
      return [flag, value];
    }));
    const envArb = (c: (typeof commands)[number]) => fc.array(fc.record({
      prefix: fc.constantFrom('EVIDENT_', 'KOSLI_'),
      option: fc.constantFrom(...c.options.filter((o) => o.long), ...globals.filter((g) => ['--host', '--org', '--dry-run'].includes(g.long!))),
    }).chain(({ prefix, option }) => valueArb(option).map((value) => [`${prefix}${option.long!.slice(2).toUpperCase().replace(/-/g, '_')}`, value] as const)),
    { maxLength: 3 }).map((vars) => Object.fromEntries(vars));
    for (const c of commands) {
      const arb = fc.record({
        before: fc.array(flagArb(globals), { maxLength: 2 }),
        positional: fc.oneof({ weight: 5, arbitrary: fc.nat(c.args.length) }, { weight: 1, arbitrary: fc.nat(c.args.length + 1) }),
        flags: fc.array(flagArb([...c.options, ...globals]), { maxLength: 6 }),
        // the mandatory flags, given well-formed most of the time so that many lines are read
        mandatory: fc.oneof({ weight: 5, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
        noise: fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: word }),
        at: fc.nat(8),
        env: envArb(c),
      });
      await fc.assert(
        fc.asyncProperty(arb, async ({ before, positional, flags, mandatory, noise, at, env }) => {
          const args = ['p1', 'p2', 'p3'].slice(0, positional);
          const rest = [...flags.flat(), ...(mandatory ? c.options.filter((o) => o.mandatory).flatMap((o) => [o.long!, 'v']) : []), ...args];
          if (noise !== null) rest.splice(Math.min(at, rest.length), 0, noise);
          const line = [...before.flat(), ...c.words, ...rest];
          total++;
          if (await agree(line, env)) read++;
        }),
        { numRuns: 80, seed: 21 },
      );
    }
    // the property says something only if the fast path reads a good share of the lines
    expect(read / total).toBeGreaterThan(0.3);
  }, 120_000);
});
