import type { Command, Option } from 'commander';
import { parserSpecOf } from './arg-parsers.js';
import { programForWord } from './program-lazy.js';
import { commandWord } from './command-word.js';
import type { QuickCommand, QuickOption, QuickTable } from './quick-parse.js';

// The fast path's table (quick-parse.ts), read from commander's own program: the commands a fast bundle runs
// without commander (src/cli/quick/NAME.ts), each with its options as program-lazy.ts builds them and
// flag-table.ts completes them (Kosli's short flags, the hidden -o). scripts/build-cli.mjs writes it into the
// bundle when the CLI is built; the tests build it the same way. Nothing here is written by hand: a flag added
// to a command is in the table at the next build. A command or option that uses something the fast path does not
// follow (negated or variadic flags, implied or conflicting options, preset values, variadic arguments or
// arguments with parsers, unknown options or excess arguments allowed, an option on a verb) is left out of the
// table, and its command lines go to commander.

/** No environment, no config file: the table is the program's shape only (their values are read at run time). */
const NO_ENV = { HOME: '/nonexistent/evident-quick-table' };

interface CommanderInternals {
  _allowUnknownOption: boolean;
  _allowExcessArguments: boolean;
  _passThroughOptions: boolean;
  _enablePositionalOptions: boolean;
  registeredArguments: readonly { required: boolean; variadic: boolean; parseArg?: unknown; defaultValue?: unknown; argChoices?: unknown }[];
}

function optionOf(o: Option): QuickOption | undefined {
  const { implied, conflictsWith } = o as unknown as { implied?: unknown; conflictsWith?: unknown[] };
  if (o.negate || o.variadic || o.presetArg !== undefined || o.envVar || implied !== undefined || (conflictsWith?.length ?? 0) > 0) return undefined;
  const q: QuickOption = { attr: o.attributeName(), value: o.required ? 'required' : o.optional ? 'optional' : 'none' };
  if (o.long) q.long = o.long;
  if (o.short) q.short = o.short;
  if (o.mandatory) q.mandatory = true;
  if (o.defaultValue !== undefined) {
    // The table is JSON in the bundle: a default that does not survive it is not the fast path's.
    if (JSON.stringify(JSON.parse(JSON.stringify(o.defaultValue))) !== JSON.stringify(o.defaultValue)) return undefined;
    q.default = o.defaultValue;
  }
  if (o.argChoices) q.choices = [...o.argChoices];
  else if (o.parseArg) q.parser = parserSpecOf(o.parseArg) ?? null;
  return q;
}

function plain(cmd: Command): boolean {
  const c = cmd as unknown as CommanderInternals;
  return !c._allowUnknownOption && !c._allowExcessArguments && !c._passThroughOptions && !c._enablePositionalOptions;
}

/** The table's entries for one command (its name and each alias), or none when it is not the fast path's. */
function commandEntries(program: Command, key: string): QuickCommand[] {
  const words = key.split(' ');
  let cmd: Command = program;
  for (const w of words) {
    const next = cmd.commands.find((c) => c.name() === w);
    if (!next) throw new Error(`quick-table: ${key} is not a command of the program`);
    // a verb with options of its own (none today) would read flags between the words
    if (cmd !== program && (cmd.options.length > 0 || !plain(cmd))) return [];
    cmd = next;
  }
  if (!plain(cmd) || cmd.commands.length > 0) return [];
  const args = (cmd as unknown as CommanderInternals).registeredArguments;
  if (args.some((a) => a.variadic || a.parseArg || a.defaultValue !== undefined || a.argChoices)) return [];
  const options = cmd.options.map(optionOf);
  if (options.some((o) => o === undefined)) return [];
  const entry = { key, args: args.map((a) => ({ required: a.required })), options: options as QuickOption[] };
  return [cmd.name(), ...cmd.aliases()].map((name) => ({ ...entry, words: [...words.slice(0, -1), name] }));
}

/** The fast path's table for the commands `keys` (their paths: `list flows`, `log checkpoint`). */
export async function quickTable(keys: readonly string[]): Promise<QuickTable> {
  let globals: QuickOption[] | undefined;
  const commands: QuickCommand[] = [];
  for (const key of keys) {
    const argv = ['node', 'evident', ...key.split(' ')];
    const program = await programForWord(commandWord(argv), argv, NO_ENV);
    if (!program) throw new Error(`quick-table: ${key} is not a command program-lazy.ts loads on its own`);
    if (!globals) {
      const all = program.options.map(optionOf);
      if (all.some((o) => o === undefined) || !plain(program)) throw new Error('quick-table: the program has options the fast path does not follow');
      globals = all as QuickOption[];
    }
    commands.push(...commandEntries(program, key));
  }
  return { globals: globals ?? [], commands };
}
