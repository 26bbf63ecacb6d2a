import fs from 'node:fs';
import path from 'node:path';
import { EvidentError, yamlLib } from '../core/index.js';
import { STATE_DIR } from './patterns.js';

// `evident config set KEY VALUE` (ATTEST: `attest config set deterministic true`, seed 003 §6.1): the
// workspace's defaults for `evident run`, in .evident/config.yaml beside the cache (ATTEST keeps
// .attest/config.yaml). A flag on the command line wins over the file. Only the keys below exist: each
// is a run flag, so the file can never make a run do something a flag could not; the receipt records
// what the run did either way (deterministic, isolation). An unknown key or a bad value is refused when
// set, and when read (a hand-edited file): never ignored.

export const WORKSPACE_CONFIG_FILE = 'config.yaml';

export interface WorkspaceConfig {
  deterministic?: boolean;
  isolation?: 'process' | 'sandbox';
  jobs?: number;
  keep_going?: boolean;
  sign?: boolean;
  output_logs?: 'full' | 'hash-only' | 'new-only' | 'errors-only' | 'none';
}

type Key = keyof WorkspaceConfig;

const KEYS: Record<Key, { flag: string; parse: (text: string) => unknown; help: string }> = {
  deterministic: { flag: '--deterministic', parse: bool, help: 'true or false' },
  isolation: { flag: '--isolation', parse: oneOf(['process', 'sandbox']), help: 'process or sandbox' },
  jobs: { flag: '--jobs', parse: positiveInt, help: 'an integer >= 1' },
  keep_going: { flag: '--keep-going', parse: bool, help: 'true or false' },
  sign: { flag: '--sign', parse: bool, help: 'true or false' },
  output_logs: { flag: '--output-logs', parse: oneOf(['full', 'hash-only', 'new-only', 'errors-only', 'none']), help: 'full, hash-only, new-only, errors-only or none' },
};

export const WORKSPACE_CONFIG_KEYS = Object.keys(KEYS) as Key[];

function bool(text: string): boolean | undefined {
  return text === 'true' ? true : text === 'false' ? false : undefined;
}

function oneOf(values: readonly string[]) {
  return (text: string) => (values.includes(text) ? text : undefined);
}

function positiveInt(text: string): number | undefined {
  return /^[1-9][0-9]{0,5}$/.test(text) ? Number(text) : undefined;
}

export function workspaceConfigPath(workspace: string): string {
  return path.join(workspace, STATE_DIR, WORKSPACE_CONFIG_FILE);
}

function checkKey(key: string): Key {
  if (!(key in KEYS)) throw new EvidentError('INVALID_ARGUMENT', `unknown config key ${JSON.stringify(key)}; known keys: ${WORKSPACE_CONFIG_KEYS.join(', ')}`);
  return key as Key;
}

/** The value of `key` from its command-line text, or INVALID_ARGUMENT naming what it must be. */
export function parseConfigValue(key: string, text: string): unknown {
  const k = checkKey(key);
  const value = KEYS[k].parse(text);
  if (value === undefined) throw new EvidentError('INVALID_ARGUMENT', `config ${k} must be ${KEYS[k].help}, not ${JSON.stringify(text)}`);
  return value;
}

/** The workspace's config ({} when there is no file); a file with unknown keys or bad values is an error. */
export function readWorkspaceConfig(workspace: string): WorkspaceConfig {
  const file = workspaceConfigPath(workspace);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  let doc: unknown;
  try {
    doc = yamlLib().parse(text);
  } catch (err) {
    throw new EvidentError('INVALID_ARGUMENT', `${file}: not YAML: ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new EvidentError('INVALID_ARGUMENT', `${file}: must be a map of settings (evident config list)`);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc)) {
    try {
      out[key] = parseConfigValue(key, String(value));
    } catch (err) {
      throw new EvidentError('INVALID_ARGUMENT', `${file}: ${(err as Error).message} (fix it with evident config set or unset)`);
    }
  }
  return out as WorkspaceConfig;
}

/** Sets (value defined) or removes one key, writing the file atomically; returns the new config. */
export function updateWorkspaceConfig(workspace: string, key: string, value: unknown): WorkspaceConfig {
  const k = checkKey(key);
  const config: Record<string, unknown> = { ...readWorkspaceConfig(workspace) };
  if (value === undefined) delete config[k];
  else config[k] = value;
  const file = workspaceConfigPath(workspace);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const sorted = Object.fromEntries(WORKSPACE_CONFIG_KEYS.filter((x) => x in config).map((x) => [x, config[x]]));
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `# evident config set KEY VALUE: defaults of evident run in this workspace (docs/runner.md)\n${Object.keys(sorted).length > 0 ? yamlLib().stringify(sorted) : ''}`);
  fs.renameSync(tmp, file);
  return sorted as WorkspaceConfig;
}

/** The run flag a key stands for (for help and messages). */
export function configFlag(key: Key): string {
  return KEYS[key].flag;
}
