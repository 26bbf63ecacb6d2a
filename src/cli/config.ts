import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EvidentError, yamlLib } from '../core/index.js';

/** The global options every command shares (DESIGN.md §6). */
export interface GlobalOptions {
  host: string;
  /** Whether the host was given (flag, environment or config file) rather than the default. */
  hostGiven: boolean;
  org: string;
  apiToken: string | undefined;
  output: 'table' | 'json';
  dryRun: boolean;
  debug: boolean;
  /** Where `evident verify` keeps what it has seen (pinned keys, last checkpoints). */
  stateDir: string;
}

export interface GlobalFlags {
  host?: string;
  org?: string;
  apiToken?: string;
  output?: string;
  dryRun?: boolean;
  debug?: boolean;
  config?: string;
}

const FILE_KEYS = ['host', 'org', 'api_token', 'output', 'debug'] as const;

export function configPath(flags: GlobalFlags, env: NodeJS.ProcessEnv): string {
  return flags.config ?? env.EVIDENT_CONFIG ?? path.join(os.homedir(), '.evident.yml');
}

/** Reads ~/.evident.yml; a missing file is an empty config, a malformed one is an error naming the problem. */
export function readConfigFile(file: string): Record<string, unknown> {
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
  const unknown = Object.keys(value).filter((k) => !(FILE_KEYS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    throw new EvidentError('INVALID_ARGUMENT', `config file ${file}: unknown keys ${unknown.join(', ')} (known: ${FILE_KEYS.join(', ')})`, {
      details: unknown.map((k) => ({ path: `${file}#${k}`, message: 'unknown key' })),
    });
  }
  return value as Record<string, unknown>;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** Precedence: flag > environment variable > config file > default. */
export function resolveGlobals(flags: GlobalFlags, env: NodeJS.ProcessEnv = process.env): GlobalOptions {
  const file = readConfigFile(configPath(flags, env));
  const output = flags.output ?? str(env.EVIDENT_OUTPUT) ?? str(file.output) ?? 'table';
  if (output !== 'table' && output !== 'json') {
    throw new EvidentError('INVALID_ARGUMENT', `--output must be table or json, not ${JSON.stringify(output)}`);
  }
  const host = flags.host ?? str(env.EVIDENT_HOST) ?? str(file.host);
  return {
    host: host ?? 'http://127.0.0.1:8080',
    hostGiven: host !== undefined,
    org: flags.org ?? str(env.EVIDENT_ORG) ?? str(file.org) ?? 'default',
    apiToken: flags.apiToken ?? str(env.EVIDENT_API_TOKEN) ?? str(file.api_token),
    output,
    dryRun: flags.dryRun ?? false,
    debug: flags.debug ?? (env.EVIDENT_DEBUG === 'true' || file.debug === true),
    stateDir: path.join(os.homedir(), '.evident'),
  };
}
