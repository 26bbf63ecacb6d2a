import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EvidentError, yamlLib } from '../core/index.js';

/** `json` prints Kosli's shapes where Kosli has the command (docs/kosli.md); `json-evident` Evident's own. */
export type OutputFormat = 'table' | 'json' | 'json-evident' | 'markdown';
/** `markdown` is Kosli's `get trail --output markdown` (a GitHub job summary); other commands refuse it. */
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'json', 'json-evident', 'markdown'];

/** The global options every command shares (DESIGN.md §6). */
export interface GlobalOptions {
  host: string;
  /** Whether the host was given (flag, environment or config file) rather than the default. */
  hostGiven: boolean;
  org: string;
  apiToken: string | undefined;
  output: OutputFormat;
  dryRun: boolean;
  debug: boolean;
  quiet: boolean;
  /** How often a request that could not reach the server is tried again (Kosli's --max-api-retries, default 3). */
  maxApiRetries: number;
  /** Where `evident verify` keeps what it has seen (pinned keys, last checkpoints). */
  stateDir: string;
  /** The config file's witness policy (`witnesses:` list of witness verifier keys, `witness_threshold:`); flags win. */
  witnesses: string[];
  witnessThreshold: number | undefined;
}

export interface GlobalFlags {
  host?: string;
  org?: string;
  apiToken?: string;
  output?: string;
  /** Kosli's `-o FORMAT` on the commands where `-o` is not `--origin-url` (flag-table.ts). */
  o?: string;
  dryRun?: boolean;
  debug?: boolean;
  quiet?: boolean;
  maxApiRetries?: number;
  config?: string;
  configFile?: string;
}

const FILE_KEYS = ['host', 'org', 'api_token', 'output', 'debug', 'witnesses', 'witness_threshold'] as const;

/**
 * One setting from the environment: `EVIDENT_<NAME>`, else Kosli's `KOSLI_<NAME>` (so a Kosli pipeline's
 * variables work unchanged; EVIDENT_ wins when both are set). Empty values count as unset, as in Kosli.
 */
export function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  return str(env[`EVIDENT_${name}`]) ?? str(env[`KOSLI_${name}`]);
}

function home(env: NodeJS.ProcessEnv): string {
  return env.HOME || os.homedir();
}

export interface ConfigSource {
  file: string;
  /** Kosli's format: keys are flag names in any case, `-` or `_` (ORG:, API_TOKEN:, flow:), any flag may be set. */
  kosli: boolean;
}

/**
 * `--config`/`--config-file`/`-c`, EVIDENT_CONFIG, KOSLI_CONFIG_FILE, else ~/.evident.yml, else (when that does
 * not exist) Kosli's ~/.kosli.yml. A file named with Kosli's flag or variable is read in Kosli's format.
 */
export function configSource(flags: GlobalFlags, env: NodeJS.ProcessEnv): ConfigSource {
  if (flags.config) return { file: flags.config, kosli: false };
  if (flags.configFile) return { file: flags.configFile, kosli: true };
  if (str(env.EVIDENT_CONFIG)) return { file: env.EVIDENT_CONFIG!, kosli: false };
  if (str(env.KOSLI_CONFIG_FILE)) return { file: env.KOSLI_CONFIG_FILE!, kosli: true };
  const evident = path.join(home(env), '.evident.yml');
  if (fs.existsSync(evident)) return { file: evident, kosli: false };
  return { file: path.join(home(env), '.kosli.yml'), kosli: true };
}

export function configPath(flags: GlobalFlags, env: NodeJS.ProcessEnv): string {
  return configSource(flags, env).file;
}

/** `API_TOKEN`, `api-token`, `Api_Token` → `api_token`. */
export function configKey(key: string): string {
  return key.toLowerCase().replace(/-/g, '_');
}

/**
 * Reads a config file; a missing file is an empty config, a malformed one is an error naming the problem.
 * Evident's own keys are lower-case and checked; a file in Kosli's format (upper-case keys, or read as Kosli's
 * config file) has its keys normalised, and keys other than the globals set the flag of the same name.
 */
export function readConfigFile(file: string, kosli = false): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new EvidentError('INVALID_ARGUMENT', `cannot read config file ${file}: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = yamlLib().parse(text);
  } catch (err) {
    throw new EvidentError('INVALID_ARGUMENT', `config file ${file} is not valid YAML: ${(err as Error).message}`);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new EvidentError('INVALID_ARGUMENT', `config file ${file} must be a mapping`);
  const keys = Object.keys(value);
  if (kosli || keys.some((k) => k !== k.toLowerCase() || k.includes('-'))) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [configKey(k), v]));
  }
  const unknown = keys.filter((k) => !(FILE_KEYS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    throw new EvidentError('INVALID_ARGUMENT', `config file ${file}: unknown keys ${unknown.join(', ')} (known: ${FILE_KEYS.join(', ')})`, {
      details: unknown.map((k) => ({ path: `${file}#${k}`, message: 'unknown key' })),
    });
  }
  return value as Record<string, unknown>;
}

/** The config file of this invocation. */
export function loadConfig(flags: GlobalFlags, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const source = configSource(flags, env);
  return readConfigFile(source.file, source.kosli);
}

/**
 * The keys of a Kosli config file (--config-file, KOSLI_CONFIG_FILE, ~/.kosli.yml), which set any command's
 * flag of the same name as in Kosli; none when the config is Evident's (it holds the global options only).
 * Read before the command line is parsed, so the config flags are looked for in `argv` here.
 */
export function commandConfig(argv: readonly string[], env: NodeJS.ProcessEnv): Record<string, unknown> {
  const flags: GlobalFlags = {};
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = inline ?? argv[i + 1];
    if (flag === '--config') flags.config = value;
    if (flag === '--config-file' || flag === '-c') flags.configFile = value;
  }
  const source = configSource(flags, env);
  if (!source.kosli || !fs.existsSync(source.file)) return {};
  try {
    return readConfigFile(source.file, true);
  } catch {
    return {}; // resolveGlobals reads it again when the command runs and reports the problem there
  }
}

function str(v: unknown): string | undefined {
  if (typeof v === 'number') return String(v);
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function list(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String);
  return typeof v === 'string' ? v.split(/[\s,]+/).filter((x) => x !== '') : [];
}

function bool(v: unknown): boolean | undefined {
  if (v === true || v === false) return v;
  if (typeof v !== 'string' || v === '') return undefined;
  return ['true', '1', 'yes'].includes(v.toLowerCase());
}

/** Precedence: flag > environment variable (EVIDENT_ then KOSLI_) > config file > default. */
export function resolveGlobals(flags: GlobalFlags, env: NodeJS.ProcessEnv = process.env): GlobalOptions {
  const file = loadConfig(flags, env);
  const output = flags.output ?? flags.o ?? envValue(env, 'OUTPUT') ?? str(file.output) ?? 'table';
  if (!(OUTPUT_FORMATS as readonly string[]).includes(output)) {
    throw new EvidentError('INVALID_ARGUMENT', `--output must be ${OUTPUT_FORMATS.join(', ')}, not ${JSON.stringify(output)}`);
  }
  const apiToken = flags.apiToken ?? envValue(env, 'API_TOKEN') ?? str(file.api_token);
  const retries = flags.maxApiRetries ?? envValue(env, 'MAX_API_RETRIES') ?? str(file.max_api_retries) ?? '3';
  if (!/^\d{1,2}$/.test(String(retries))) throw new EvidentError('INVALID_ARGUMENT', `--max-api-retries must be an integer 0-99, not ${JSON.stringify(retries)}`);
  const debug = flags.debug ?? bool(envValue(env, 'DEBUG')) ?? bool(file.debug) ?? false;
  const host = flags.host ?? envValue(env, 'HOST') ?? str(file.host);
  return {
    host: host ?? 'http://127.0.0.1:8080',
    hostGiven: host !== undefined,
    org: flags.org ?? envValue(env, 'ORG') ?? str(file.org) ?? 'default',
    // Kosli's convention: the token DRY_RUN turns dry-run on (and is never sent).
    apiToken: apiToken === 'DRY_RUN' ? undefined : apiToken,
    output: output as OutputFormat,
    dryRun: (flags.dryRun ?? bool(envValue(env, 'DRY_RUN')) ?? bool(file.dry_run) ?? false) || apiToken === 'DRY_RUN',
    debug,
    quiet: !debug && (flags.quiet ?? bool(envValue(env, 'QUIET')) ?? bool(file.quiet) ?? false),
    maxApiRetries: Number(retries),
    stateDir: path.join(os.homedir(), '.evident'),
    witnesses: list(file.witnesses),
    witnessThreshold: file.witness_threshold === undefined ? undefined : Number(file.witness_threshold),
  };
}
