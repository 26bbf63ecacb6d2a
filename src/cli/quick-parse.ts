import type { ParserSpec } from './arg-parsers.js';
import { envVarFor, isTrue } from './flag-names.js';
import { configKey } from './config.js';

// The commander-free reading of a command line for the fast bundles (issue #21, docs/performance.md "Ninth round").
// Compiling commander (55 KiB) and building its program was the largest part of what a networked command paid over
// its bare request. The fast bundles now read an ordinary command line themselves, from a table of each command's
// flags that is built from commander's own program when the CLI is built (quick-table.ts: the same options, short
// flags, defaults and parsers, nothing written twice), and follow commander's rules for it: the program's options
// anywhere on the line, then the command's; `--flag value`, `--flag=value`, `-f value`; a repeatable flag from its
// default; then EVIDENT_<FLAG>/KOSLI_<FLAG> (flag-table.ts), then a Kosli config file's key (config.ts), then the
// default. What it does not fully understand it declines, and the command line goes to commander's bundle,
// unchanged: help, --version, `--`, grouped or attached short flags (`-Dq`, `-fNAME`), a value that starts with
// `-`, an unknown flag, a missing value or argument, too many arguments, a value its parser or choices refuse, a
// flag whose parser the table does not know. Commander stays the only source of help text, errors and exit codes
// (test/cli/quick-parse.test.ts compares this reading with commander's, line by line and at random).

/** One flag, as commander's program has it after flag-table.ts (quick-table.ts). */
export interface QuickOption {
  /** `--limit`; absent for a short-only flag (Kosli's hidden `-o`). */
  long?: string;
  short?: string;
  /** The key in the options object (commander's attributeName(); several flags may share one). */
  attr: string;
  /** `none` for a boolean, `required` for `<value>`, `optional` for `[value]`. */
  value: 'none' | 'required' | 'optional';
  /** commander's requiredOption. */
  mandatory?: boolean;
  /** The default (JSON). */
  default?: unknown;
  choices?: string[];
  /** The value parser: a tagged one (arg-parsers.ts), or null for one the fast path does not know. */
  parser?: ParserSpec | null;
}

/** A command the fast path may run: its words (`list flows`, or an alias), its handler's key and what it takes. */
export interface QuickCommand {
  /** The words as typed (`tag flows`). */
  words: readonly string[];
  /** The handler's key (the command's own path: `tag flow`). */
  key: string;
  /** Its positional arguments, in order. */
  args: readonly { required: boolean }[];
  options: readonly QuickOption[];
}

export interface QuickTable {
  /** The program's own options (program-base.ts). */
  globals: readonly QuickOption[];
  commands: readonly QuickCommand[];
}

/** Builds a tagged parser from its spec (quick-parsers.ts); throws for an unknown kind. */
export type ParserFactory = (spec: ParserSpec) => (value: string, previous: unknown) => unknown;

/** What commander's action would get: `this.optsWithGlobals()` and `this.args`, and which command. */
export interface QuickParsed {
  key: string;
  options: Record<string, unknown>;
  args: string[];
}

type Source = 'default' | 'config' | 'cli' | 'env';

/** Thrown inside quickParse when it declines; never escapes it. */
class Decline extends Error {}
const decline = (why: string): never => {
  throw new Decline(why);
};

const isOption = (arg: string) => arg.length > 1 && arg[0] === '-';
/** Words that make commander print help or the version, or change how it reads the rest. */
const NEVER = new Set(['-h', '--help', '-V', '--version', '--']);

function find(options: readonly QuickOption[], flag: string): QuickOption | undefined {
  return options.find((o) => o.long === flag || o.short === flag);
}

/** The values of one command's options, with their sources, as commander keeps them. */
class Values {
  readonly values = new Map<string, unknown>();
  readonly sources = new Map<string, Source>();
  set(attr: string, value: unknown, source: Source): void {
    this.values.set(attr, value);
    this.sources.set(attr, source);
  }
}

/** A parser's result; anything it refuses (its own error, a choice not offered) declines. */
function parse(option: QuickOption, text: string, previous: unknown, parsers: ParserFactory): unknown {
  if (option.choices) return option.choices.includes(text) ? text : decline(`${option.long}: not a choice`);
  if (option.parser === undefined) return text;
  if (option.parser === null) return decline(`${option.long ?? option.short}: a parser the fast path does not know`);
  try {
    return parsers(option.parser)(text, previous);
  } catch {
    return decline(`${option.long ?? option.short}: its parser refused ${JSON.stringify(text)}`);
  }
}

/** commander's handling of one flag given on the command line (Command._registerOption's listener). */
function given(values: Values, option: QuickOption, text: string | null | undefined, parsers: ParserFactory): void {
  // flag-table.ts applyConfig: a flag given on the command line starts from its default, not the config file's value.
  if (values.sources.get(option.attr) === 'config') values.set(option.attr, option.default, 'default');
  let value: unknown = text;
  if (text !== null && text !== undefined && (option.parser !== undefined || option.choices)) value = parse(option, text, values.values.get(option.attr), parsers);
  if (value === null || value === undefined) value = option.value === 'required' ? '' : true;
  values.set(option.attr, value, 'cli');
}

/** Reads the value of the flag at args[i] (`--f v`, `--f=v`, `[v]`); returns the index after it. */
function readFlag(args: readonly string[], i: number, options: readonly QuickOption[], values: Values, parsers: ParserFactory): number | undefined {
  const arg = args[i]!;
  const option = find(options, arg);
  if (option) {
    if (option.value === 'none') given(values, option, undefined, parsers);
    else if (option.value === 'required') {
      const text = args[i + 1];
      if (text === undefined || text.startsWith('-')) decline(`${arg}: no value, or a value that starts with -`);
      given(values, option, text, parsers);
      return i + 2;
    } else {
      // commander: an optional value is the next word unless that looks like a flag
      const next = args[i + 1];
      if (next !== undefined && next.startsWith('-')) {
        if (isOption(next)) given(values, option, null, parsers);
        else decline(`${arg}: followed by -`);
        return i + 1;
      }
      given(values, option, next ?? null, parsers);
      return next === undefined ? i + 1 : i + 2;
    }
    return i + 1;
  }
  if (/^-[^-]./.test(arg)) decline(`${arg}: grouped or attached short flags`);
  const eq = arg.indexOf('=');
  if (arg.startsWith('--') && eq > 2) {
    const withValue = find(options, arg.slice(0, eq));
    if (withValue && withValue.value !== 'none') {
      const text = arg.slice(eq + 1);
      if (text.startsWith('-')) decline(`${arg}: a value that starts with -`);
      given(values, withValue, text, parsers);
      return i + 1;
    }
  }
  return undefined;
}

/** The table's command named by the operands (the longest match), and how many words it took. */
function commandOf(table: QuickTable, operands: readonly string[]): QuickCommand | undefined {
  let best: QuickCommand | undefined;
  for (const c of table.commands) {
    if (c.words.every((w, i) => operands[i] === w) && (!best || c.words.length > best.words.length)) best = c;
  }
  return best;
}

/**
 * The options object and arguments commander's action would get for `argv` (node, script, then the words), or
 * undefined when the fast path declines. `env` is the process's environment (commander reads process.env);
 * `config` the Kosli config file's keys (config.ts commandConfig).
 */
export function quickParse(argv: readonly string[], table: QuickTable, env: NodeJS.ProcessEnv, config: Record<string, unknown>, parsers: ParserFactory): QuickParsed | undefined {
  try {
    return parseOrDecline(argv.slice(2), table, env, config, parsers);
  } catch (err) {
    if (err instanceof Decline) return undefined;
    throw err;
  }
}

/** Why quickParse declines `argv` (for tests and --debug), or undefined when it does not. */
export function declineReason(argv: readonly string[], table: QuickTable, env: NodeJS.ProcessEnv, config: Record<string, unknown>, parsers: ParserFactory): string | undefined {
  try {
    parseOrDecline(argv.slice(2), table, env, config, parsers);
    return undefined;
  } catch (err) {
    if (err instanceof Decline) return err.message;
    throw err;
  }
}

function parseOrDecline(args: readonly string[], table: QuickTable, env: NodeJS.ProcessEnv, config: Record<string, unknown>, parsers: ParserFactory): QuickParsed {
  for (const arg of args) if (NEVER.has(arg) || arg === '-') decline(`${arg}`);

  // The program's pass (commander's parseOptions on the program): its options anywhere; the words before the first
  // other flag are operands (the command, then its arguments), the rest goes to the command.
  const globals = new Values();
  const operands: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < args.length;) {
    const arg = args[i]!;
    if (isOption(arg)) {
      const next = readFlag(args, i, table.globals, globals, parsers);
      if (next !== undefined) {
        i = next;
        continue;
      }
    }
    (rest.length > 0 || isOption(arg) ? rest : operands).push(arg);
    i++;
  }

  const command = commandOf(table, operands) ?? decline(`not a command of this bundle: ${operands.slice(0, 2).join(' ')}`);
  const positional = operands.slice(command.words.length);

  // The command's defaults, then the config file's keys (flag-table.ts applyConfig), in the order of its options.
  const values = new Values();
  for (const o of command.options) if (o.default !== undefined) values.set(o.attr, o.default, 'default');
  for (const o of command.options) {
    if (!o.long) continue;
    const key = configKey(o.long.slice(2));
    if (!(key in config)) continue;
    const raw = config[key];
    const text = Array.isArray(raw) ? raw.join(',') : String(raw);
    values.set(o.attr, o.value === 'none' ? isTrue(text) : parseFrom(o, text, parsers), 'config');
  }

  // The command's pass over the rest: its flags; other words are its arguments.
  for (let i = 0; i < rest.length;) {
    const arg = rest[i]!;
    if (isOption(arg)) {
      const next = readFlag(rest, i, command.options, values, parsers);
      if (next === undefined) decline(`${arg}: not a flag of ${command.key}`);
      i = next!;
      continue;
    }
    positional.push(arg);
    i++;
  }

  // EVIDENT_<FLAG>, else KOSLI_<FLAG> (flag-table.ts bindEnvironment), where the command line did not set it.
  for (const o of command.options) {
    if (!o.long) continue;
    const name = envVarFor(o.long, env);
    if (!name) continue;
    if (o.value === 'none' && !isTrue(env[name])) continue;
    const source = values.sources.get(o.attr);
    if (values.values.get(o.attr) !== undefined && source !== 'default' && source !== 'config' && source !== 'env') continue;
    values.set(o.attr, o.value === 'none' ? true : parseFrom(o, env[name]!, parsers), 'env');
  }

  for (const o of command.options) if (o.mandatory && values.values.get(o.attr) === undefined) decline(`${o.long}: required`);
  const required = command.args.filter((a) => a.required).length;
  if (positional.length < required || positional.length > command.args.length) decline('the wrong number of arguments');

  // optsWithGlobals(): the command's, then the program's over them.
  const options: Record<string, unknown> = {};
  for (const [k, v] of values.values) options[k] = v;
  for (const [k, v] of globals.values) options[k] = v;
  return { key: command.key, options, args: positional };
}

/** flag-table.ts parseFrom: a value from the environment or the config file, through the flag's parser (from its default). */
function parseFrom(option: QuickOption, text: string, parsers: ParserFactory): unknown {
  if (option.choices) return parse(option, text, option.default, parsers);
  return option.parser === undefined ? text : parse(option, text, option.default, parsers);
}
