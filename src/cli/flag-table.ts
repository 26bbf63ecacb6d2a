import { Option, type Command } from 'commander';
import { EvidentError } from '../core/index.js';
import { configKey } from './config.js';
import { envVarFor, isTrue } from './flag-names.js';

// The one declarative table of how every command's flags are also spelled: Kosli's short flags, and an
// environment variable per flag (Kosli: "All CLI flags can be set as environment variables by adding the
// KOSLI_ prefix"). It is applied once to the whole program after the commands are registered, so a command
// gets it by having the flag — no command repeats it (docs/kosli.md).

/** Kosli's short flag of each long flag (kosli-dev/cli cmd/kosli/*.go), where a command has the long flag. */
export const SHORT_FLAGS: Readonly<Record<string, string>> = {
  fingerprint: 'F', flow: 'f', trail: 'T', name: 'n', 'display-name': 'N', commit: 'g', 'git-commit': 'g',
  'build-url': 'b', 'commit-url': 'u', 'user-data': 'u', 'origin-url': 'o', 'artifact-type': 't', exclude: 'x',
  compliant: 'C', 'results-dir': 'R', 'scan-results': 'R', description: 'd', environment: 'e', schema: 's',
  set: 's', unset: 'u', 'template-file': 'f', 'page-limit': 'n', 'show-unchanged': 'u', type: 't', policy: 'p',
  paths: 'p', include: 'i', interval: 'i', 'auto-environment': 'A', kubeconfig: 'k', namespaces: 'n',
  'exclude-namespaces': 'x', 'service-name': 's', cluster: 'C',
};

/** Where a Kosli command spells a flag differently from the table above (null: no short flag there). */
export const SHORT_FLAG_OVERRIDES: Readonly<Record<string, Readonly<Record<string, string | null>>>> = {
  'get artifact': { trail: 't' },
  'get attestation': { trail: 't' },
  'list trails': { 'flow-tag': 't' },
  'list flows': { name: 'N' },
  'begin trail': { flow: null },
  'create flow': { type: null },
};

/** The global short flags (program-base.ts) and commander's own: never given to a command's flag. */
const RESERVED = new Set(['-h', '-V', '-H', '-a', '-c', '-D', '-r', '-q']);

/** The environment's names for flags (their own module, read by the fast path too). */
export { envSuffix, envVarFor } from './flag-names.js';

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function addShortFlags(cmd: Command, path: string): void {
  const taken = new Set(cmd.options.map((o) => o.short).filter((s): s is string => s !== undefined));
  const overrides = SHORT_FLAG_OVERRIDES[path] ?? {};
  for (const option of cmd.options) {
    const name = option.long?.slice(2);
    if (option.short || !name) continue;
    const letter = name in overrides ? overrides[name] : SHORT_FLAGS[name];
    if (!letter) continue;
    const short = `-${letter}`;
    if (taken.has(short) || RESERVED.has(short)) continue;
    option.short = short;
    option.flags = `${short}, ${option.flags}`;
    taken.add(short);
  }
  // Kosli's `-o json` on read commands; on attest/begin trail `-o` is --origin-url (taken above).
  if (!taken.has('-o') && cmd.commands.length === 0) cmd.addOption(new Option('-o <format>', 'same as --output').hideHelp());
}

/** A flag's value from text (a variable or a config file), through the flag's own parser; errors name the source. */
function parseFrom(option: Option, text: string, source: string): unknown {
  if (option.isBoolean()) return isTrue(text);
  try {
    return option.parseArg ? option.parseArg(text, option.defaultValue) : text;
  } catch (err) {
    throw new EvidentError('INVALID_ARGUMENT', `${source}: ${(err as Error).message}`);
  }
}

/**
 * Sets a flag from the environment. Commander reads `option.envVar` after the command line (so a flag wins,
 * and a repeatable flag does not add to the variable's value), but listens for it only on options created
 * with it: the listener is added here.
 */
function bindEnvironment(cmd: Command, env: NodeJS.ProcessEnv): void {
  for (const option of cmd.options) {
    if (!option.long || option.negate || option.envVar) continue;
    const name = envVarFor(option.long, env);
    if (!name) continue;
    // A boolean flag is set by a true value only: KOSLI_DRY_RUN=false leaves it off (commander would turn it on).
    if (option.isBoolean() && !isTrue(env[name])) continue;
    option.envVar = name;
    cmd.on(`optionEnv:${option.name()}`, (text?: string) => {
      cmd.setOptionValueWithSource(option.attributeName(), text === undefined ? true : parseFrom(option, text, name), 'env');
    });
  }
}

/**
 * A Kosli config file's key for a command's flag becomes that flag's value (a variable or the flag wins; a
 * repeatable flag given on the command line replaces the file's value instead of adding to it).
 */
function applyConfig(cmd: Command, config: Record<string, unknown>): void {
  for (const option of cmd.options) {
    if (!option.long || option.negate) continue;
    const key = configKey(option.long.slice(2));
    if (!(key in config)) continue;
    const raw = config[key];
    const attr = option.attributeName();
    cmd.setOptionValueWithSource(attr, parseFrom(option, Array.isArray(raw) ? raw.join(',') : String(raw), `config file key ${key}`), 'config');
    (cmd as unknown as NodeJS.EventEmitter).prependListener(`option:${option.name()}`, () => {
      if (cmd.getOptionValueSource(attr) === 'config') cmd.setOptionValueWithSource(attr, option.defaultValue, 'default');
    });
  }
}

export interface FlagTableOptions {
  env?: NodeJS.ProcessEnv;
  /**
   * The command line: only the commands named in it are given the table (the one that runs, and its
   * parents), so that start-up does not pay for the other hundred (docs/performance.md "CLI start-up").
   */
  argv?: readonly string[];
  /** The config file's keys (config.ts loadConfig): only a Kosli-format file sets a command's flags. */
  config?: Record<string, unknown>;
}

/** Applies the table to every command under `program` (the program's own global flags are config.ts's). */
export function applyFlagTable(program: Command, options: FlagTableOptions = {}): Command {
  const env = options.env ?? process.env;
  const words = options.argv ? new Set(options.argv) : undefined;
  const walk = (cmd: Command): void => {
    // The server's and the witness's flags have their own variables (EVIDENT_PORT...) and no Kosli counterpart.
    if (cmd.parent === program && (cmd.name() === 'server' || cmd.name() === 'witness')) return;
    if (cmd !== program) {
      addShortFlags(cmd, commandPath(cmd));
      bindEnvironment(cmd, env);
      if (options.config) applyConfig(cmd, options.config);
    }
    for (const sub of cmd.commands) if (!words || words.has(sub.name()) || sub.aliases().some((a) => words.has(a))) walk(sub);
  };
  walk(program);
  return program;
}
