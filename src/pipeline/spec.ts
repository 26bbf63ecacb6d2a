import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { EvidentError } from '../core/index.js';
import type { StepSpec } from './types.js';
import { COMPRESSIONS, EVENT_TYPES, MAX_SIZE_PATTERN, REMOTE_URL_PATTERN } from './spec-format.js';
import { checkEnvFields, readStep } from './spec-step.js';
import { Checker, describe, type Json } from './spec-checks.js';
import { checkNeeds, cycleProblems, findCycles, outputOverlaps } from './spec-graph.js';
import { joinPath, locate, parseYaml, type SpecProblem } from './spec-walk.js';
import { patternProblem } from './patterns.js';
import { Sealer } from './seal.js';

// attest.yaml, exactly as seed 003 writes it (§2.1 the file, §3.4 cache, §6.2 reproducible, §10.2 event
// handlers), validated once: every problem is collected with its path and line, unknown keys are errors.

export type Compression = (typeof COMPRESSIONS)[number];
export type EventType = (typeof EVENT_TYPES)[number];

export type EventHandlerSpec = { type: 'file'; path: string; events: EventType[] } | { type: 'webhook'; url: string; events: EventType[]; secretEnv?: string; retries?: number };

export interface PipelineSpec {
  /** `"0.1"`, or with `schema_version: 1` (ATTEST's later files) the pipeline's own version, any text. */
  version: string;
  /** ATTEST's attest.yaml format version (absent: 1). */
  schemaVersion?: 1;
  /** As written; when absent (ATTEST makes it optional) the workspace directory's name (loadSpec). */
  name: string;
  /** As written: `${VAR}` references are expanded when a run starts (env-expand.ts). */
  env: Record<string, string>;
  /** Process variables passed to every step whose values are keyed (by digest). */
  passEnv: string[];
  /**
   * Files every step depends on (in every key). Undefined: the default set, DEFAULT_GLOBAL_INPUTS that
   * exist plus attest.yaml itself.
   */
  globalInputs?: string[];
  /** `strict`: steps see only declared variables (env, pass_env) and STRICT_BASE_ENV; `loose` (default): the whole process env. */
  envMode: 'loose' | 'strict';
  attestation: { signAllSteps: boolean; verifyDependencies: boolean; requireReproducible: boolean };
  /** `remote`: the remote cache's URL (an Evident server), as `--remote-cache URL` gives it (the flag wins). */
  cache: { enabled: boolean; maxSize: string; maxSizeBytes: number; compression: Compression; retentionDays: number; remote?: string };
  events: EventHandlerSpec[];
  /** In declaration order. */
  steps: Map<string, StepSpec>;
}

export interface LoadedSpec {
  spec: PipelineSpec;
  /** Absolute path of attest.yaml. */
  file: string;
  /** The directory holding attest.yaml. */
  workspace: string;
  /** Hex SHA-256 of the file's bytes (RunRecord.pipelineHash). */
  hash: string;
}

export const DEFAULT_MAX_SIZE = '10GB';
export const DEFAULT_RETENTION_DAYS = 30;
const TOP_KEYS = ['schema_version', 'version', 'name', 'env', 'pass_env', 'global_inputs', 'env_mode', 'allow_outside_symlinks', 'attestation', 'cache', 'events', 'steps'] as const;
/** The lockfiles that, when present, are global inputs of every step by default (with attest.yaml itself). */
export const DEFAULT_GLOBAL_INPUTS = [
  'package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lock', 'bun.lockb', 'Cargo.lock', 'go.sum',
  'poetry.lock', 'uv.lock', 'Pipfile.lock', 'Gemfile.lock', 'composer.lock',
] as const;

const UNITS: Record<string, number> = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40 };

/** "10GB" → 10e9; decimal units (KB = 1000), binary with an i (KiB = 1024); a bare number is bytes. */
export function parseSize(text: string): number | undefined {
  if (!new RegExp(MAX_SIZE_PATTERN).test(text)) return undefined;
  const m = /([0-9.]+)\s*([A-Za-z]*)/.exec(text.trim())!;
  return Math.floor(Number(m[1]) * UNITS[m[2] || 'B']!);
}

function readEvents(c: Checker, value: unknown): EventHandlerSpec[] {
  const events = c.mapping(value, 'events', ['handlers']);
  if (!events) return [];
  if (events.handlers === undefined) return [];
  if (!Array.isArray(events.handlers)) {
    c.add('events.handlers', `must be a list of handlers, not ${describe(events.handlers)}`);
    return [];
  }
  const out: EventHandlerSpec[] = [];
  events.handlers.forEach((item, i) => {
    const at = joinPath('events.handlers', i);
    const type = (item as Json | null)?.type;
    if (type !== 'file' && type !== 'webhook') {
      c.mapping(item, at);
      c.add(joinPath(at, 'type'), type === undefined ? 'is required: file or webhook' : `must be file or webhook, not ${describe(type)}`);
      return;
    }
    const h = c.mapping(item, at, type === 'file' ? ['type', 'path', 'events'] : ['type', 'url', 'events', 'secret_env', 'retries']);
    if (!h) return;
    let kinds: EventType[] = ['*'];
    if (h.events !== undefined) {
      const names = c.strings(h.events, joinPath(at, 'events'));
      names?.forEach((name, k) => {
        if (!(EVENT_TYPES as readonly string[]).includes(name)) c.add(joinPath(joinPath(at, 'events'), k), `unknown event "${name}"; known: ${EVENT_TYPES.join(', ')}`);
      });
      kinds = (names ?? []).filter((n): n is EventType => (EVENT_TYPES as readonly string[]).includes(n));
    }
    if (type === 'file') {
      const file = h.path === undefined ? (c.add(joinPath(at, 'path'), 'is required for a file handler'), undefined) : c.string(h.path, joinPath(at, 'path'), { nonEmpty: true });
      if (file !== undefined) out.push({ type, path: file, events: kinds });
    } else {
      const url = h.url === undefined ? (c.add(joinPath(at, 'url'), 'is required for a webhook handler'), undefined) : c.string(h.url, joinPath(at, 'url'), { nonEmpty: true });
      if (url !== undefined && !/^https?:\/\/[^/\s]+/.test(url)) c.add(joinPath(at, 'url'), `"${url}" is not an http:// or https:// URL`);
      else if (url !== undefined) out.push({ type, url, events: kinds, ...webhookExtras(c, h, at) });
    }
  });
  return out;
}

/** The webhook's secret is named, never written in attest.yaml: `secret_env: EVIDENT_WEBHOOK_SECRET`. */
function webhookExtras(c: Checker, h: Json, at: string): { secretEnv?: string; retries?: number } {
  const extras: { secretEnv?: string; retries?: number } = {};
  if (h.secret_env !== undefined) {
    const name = c.string(h.secret_env, joinPath(at, 'secret_env'), { nonEmpty: true });
    if (name !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) c.add(joinPath(at, 'secret_env'), `must name an environment variable, not ${describe(name)}`);
    else if (name !== undefined) extras.secretEnv = name;
  }
  if (h.retries !== undefined) {
    if (Number.isSafeInteger(h.retries) && (h.retries as number) >= 0 && (h.retries as number) <= 10) extras.retries = h.retries as number;
    else c.add(joinPath(at, 'retries'), `must be a whole number from 0 to 10, not ${describe(h.retries)}`);
  }
  return extras;
}

function readCache(c: Checker, value: unknown): PipelineSpec['cache'] {
  const cache: PipelineSpec['cache'] = { enabled: true, maxSize: DEFAULT_MAX_SIZE, maxSizeBytes: parseSize(DEFAULT_MAX_SIZE)!, compression: 'none', retentionDays: DEFAULT_RETENTION_DAYS };
  const m = value === undefined ? undefined : c.mapping(value, 'cache', ['enabled', 'max_size', 'compression', 'retention_days', 'remote']);
  if (!m) return cache;
  if (m.enabled !== undefined) cache.enabled = c.boolean(m.enabled, 'cache.enabled') ?? true;
  if (typeof m.max_size === 'number' && Number.isSafeInteger(m.max_size) && m.max_size >= 0) [cache.maxSize, cache.maxSizeBytes] = [`${m.max_size}B`, m.max_size];
  else if (m.max_size !== undefined) {
    const bytes = typeof m.max_size === 'string' ? parseSize(m.max_size) : undefined;
    if (bytes === undefined) c.add('cache.max_size', `must be a size such as "10GB", "500MB", "2GiB" or a number of bytes, not ${describe(m.max_size)}`);
    else [cache.maxSize, cache.maxSizeBytes] = [(m.max_size as string).trim(), bytes];
  }
  if (m.compression === true) cache.compression = 'gzip';
  else if (m.compression === false) cache.compression = 'none';
  else if (m.compression !== undefined) {
    if ((COMPRESSIONS as readonly unknown[]).includes(m.compression)) cache.compression = m.compression as Compression;
    else c.add('cache.compression', `must be true, false, "gzip", "brotli" or "none", not ${describe(m.compression)}`);
  }
  if (m.retention_days !== undefined) {
    if (Number.isSafeInteger(m.retention_days) && (m.retention_days as number) >= 1) cache.retentionDays = m.retention_days as number;
    else c.add('cache.retention_days', `must be a whole number of days >= 1, not ${describe(m.retention_days)}`);
  }
  if (m.remote !== undefined) {
    const url = c.string(m.remote, 'cache.remote', { nonEmpty: true });
    if (url !== undefined && !new RegExp(REMOTE_URL_PATTERN).test(url)) c.add('cache.remote', `"${url}" is not an http:// or https:// URL`);
    else if (url !== undefined) cache.remote = url;
  }
  return cache;
}

/** Validates a parsed document; returns the spec only when there is no problem at all. */
export function validateSpec(value: unknown, defaultName = 'pipeline'): { spec?: PipelineSpec; problems: SpecProblem[] } {
  const c = new Checker();
  const top = c.mapping(value, '', TOP_KEYS);
  if (!top) return { problems: c.problems };
  // ATTEST (src/pipeline/parser.rs): `schema_version` is the file format (absent = 1, newer refused with
  // an upgrade message) and then `version` is the user's own pipeline version; without it, seed 003's
  // `version: "0.1"` is the format version and must be exactly that.
  let schemaVersion: 1 | undefined;
  if (top.schema_version !== undefined) {
    if (top.schema_version === 1) schemaVersion = 1;
    else if (Number.isSafeInteger(top.schema_version) && (top.schema_version as number) > 1) c.add('schema_version', `is ${top.schema_version as number}, but this Evident reads attest.yaml schema_version 1: upgrade Evident to use this file`);
    else c.add('schema_version', `must be the whole number 1, not ${describe(top.schema_version)}`);
  }
  let version: string | undefined;
  if (top.version === undefined) c.add('version', 'is required: version: "0.1"');
  else if (schemaVersion !== undefined) version = c.string(top.version, 'version', { nonEmpty: true });
  else if (top.version === 0.1) c.add('version', 'must be the string "0.1": quote it (version: "0.1")');
  else if (top.version !== '0.1') c.add('version', `unsupported version ${describe(top.version)}; supported: "0.1" (or any pipeline version with schema_version: 1)`);
  else version = '0.1';
  const name = top.name === undefined ? defaultName : c.string(top.name, 'name', { nonEmpty: true });
  const env = top.env === undefined ? {} : c.env(top.env, 'env');
  const passEnv = top.pass_env === undefined ? [] : c.strings(top.pass_env, 'pass_env') ?? [];
  checkEnvFields(c, env, passEnv, '');
  let globalInputs: string[] | undefined;
  if (top.global_inputs !== undefined) {
    globalInputs = c.strings(top.global_inputs, 'global_inputs') ?? [];
    globalInputs.forEach((item, i) => {
      const problem = patternProblem(item);
      if (problem) c.add(joinPath('global_inputs', i), `"${item}" ${problem}`);
    });
  }
  let envMode: PipelineSpec['envMode'] = 'loose';
  if (top.env_mode !== undefined) {
    if (top.env_mode === 'strict' || top.env_mode === 'loose') envMode = top.env_mode;
    else c.add('env_mode', `must be loose or strict, not ${describe(top.env_mode)}`);
  }
  const allowOutside = top.allow_outside_symlinks === undefined ? false : c.boolean(top.allow_outside_symlinks, 'allow_outside_symlinks') ?? false;
  const attestation = { signAllSteps: false, verifyDependencies: false, requireReproducible: false };
  if (top.attestation !== undefined) {
    const a = c.mapping(top.attestation, 'attestation', ['sign_all_steps', 'verify_dependencies', 'require_reproducible']);
    const flag = (key: string) => (a?.[key] === undefined ? false : c.boolean(a[key], joinPath('attestation', key)) ?? false);
    Object.assign(attestation, { signAllSteps: flag('sign_all_steps'), verifyDependencies: flag('verify_dependencies'), requireReproducible: flag('require_reproducible') });
  }
  const cache = readCache(c, top.cache);
  const events = top.events === undefined ? [] : readEvents(c, top.events);
  const steps = new Map<string, StepSpec>();
  if (top.steps === undefined) c.add('steps', 'is required: at least one step');
  else {
    const declared = c.mapping(top.steps, 'steps');
    if (declared && Object.keys(declared).length === 0) c.add('steps', 'must declare at least one step');
    for (const [stepName, stepValue] of Object.entries(declared ?? {})) {
      const step = readStep(c, stepName, stepValue, attestation.requireReproducible);
      if (step) steps.set(stepName, { ...step, allowOutsideSymlinks: step.allowOutsideSymlinks ?? allowOutside });
    }
    const { problems, edges } = checkNeeds(steps, new Set(Object.keys(declared ?? {})));
    c.problems.push(...problems, ...cycleProblems(steps, findCycles([...steps.keys()], edges)), ...outputOverlaps(steps));
  }
  if (c.problems.length > 0 || !version || name === undefined) return { problems: c.problems };
  return { spec: { version, ...(schemaVersion ? { schemaVersion } : {}), name, env, passEnv, ...(globalInputs ? { globalInputs } : {}), envMode, attestation, cache, events, steps }, problems: [] };
}

/** Parses and validates attest.yaml text; problems carry lines and columns. */
export function parseSpec(text: string, defaultName?: string): { spec?: PipelineSpec; problems: SpecProblem[]; value?: unknown } {
  const parsed = parseYaml(text);
  if (parsed.syntax.length > 0) return { problems: parsed.syntax };
  const result = validateSpec(parsed.value, defaultName);
  // Top to bottom and left to right, as a reader goes through the file.
  if (result.problems.length === 0) return { ...result, value: parsed.value };
  const positions = parsed.positions();
  const located = result.problems.map((p) => locate(p, positions));
  return { ...result, problems: located.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0)) };
}

/**
 * The parsed tree of the last valid attest.yaml, keyed by the file's SHA-256: parsing YAML was the largest
 * part of a warm run's own work (~200 ms for 200 steps, docs/performance.md "The runner"); validation
 * still runs on every load. Written only where a run has made `.evident/cache`, read only when the hash
 * and the format version match; any problem with it means parsing the file as usual.
 */
const PARSED_CACHE_VERSION = 1;

function parsedCacheFile(workspace: string): string {
  return path.join(workspace, '.evident', 'cache', 'attest-parsed.json');
}

function readParsedCache(workspace: string, hash: string, sealer: Sealer | undefined): unknown {
  if (!sealer) return undefined;
  try {
    // Sealed (seal.ts): the file says which commands run; anyone who can write .evident/cache/ could
    // otherwise run theirs, with or without --no-cache. The hash of attest.yaml's bytes is inside the seal.
    const body = sealer.open('parsed-spec', fs.readFileSync(parsedCacheFile(workspace), 'utf8'));
    if (body === undefined) return undefined;
    const cached = JSON.parse(body) as { v?: number; hash?: string; value?: unknown };
    return cached.v === PARSED_CACHE_VERSION && cached.hash === hash ? cached.value : undefined;
  } catch {
    return undefined;
  }
}

/** Only trees that JSON keeps exactly: strings, finite numbers, booleans, null, lists and plain mappings. */
function jsonExact(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value) && !Object.is(value, -0);
  if (Array.isArray(value)) return value.every(jsonExact);
  if (typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return false;
  return Object.entries(value as Record<string, unknown>).every(([k, v]) => k !== '__proto__' && jsonExact(v));
}

function writeParsedCache(workspace: string, hash: string, value: unknown, sealer: Sealer | undefined): void {
  if (!sealer || !fs.existsSync(path.dirname(parsedCacheFile(workspace))) || !jsonExact(value)) return;
  const temp = `${parsedCacheFile(workspace)}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(temp, sealer.seal('parsed-spec', JSON.stringify({ v: PARSED_CACHE_VERSION, hash, value })));
    fs.renameSync(temp, parsedCacheFile(workspace));
  } catch {
    fs.rmSync(temp, { force: true });
  }
}

/** Reads, hashes and validates attest.yaml; INVALID_ARGUMENT with every problem in `details`. */
export function loadSpec(file: string): LoadedSpec {
  const absolute = path.resolve(file);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(absolute);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new EvidentError(code === 'ENOENT' ? 'NOT_FOUND' : 'INVALID_ARGUMENT', `cannot read ${file}: ${code === 'ENOENT' ? 'no such file (give the pipeline with -f FILE)' : (err as Error).message}`, { cause: err });
  }
  const hash = createHash('sha256').update(bytes).digest('hex');
  const workspace = path.dirname(absolute);
  // The seal key exists once a run has made the cache (run.ts openCache); a key that cannot be used
  // (wrong mode) only means parsing the file.
  let sealer: Sealer | undefined;
  try {
    sealer = Sealer.forWorkspace(workspace, { create: false });
  } catch {
    sealer = undefined;
  }
  const cached = readParsedCache(workspace, hash, sealer);
  const defaultName = path.basename(workspace);
  const fromCache = cached === undefined ? undefined : validateSpec(cached, defaultName).spec;
  const { spec, problems, value } = fromCache ? { spec: fromCache, problems: [], value: undefined } : parseSpec(bytes.toString('utf8'), defaultName);
  if (!spec) {
    throw new EvidentError('INVALID_ARGUMENT', `${file} is invalid: ${problems.length} problem${problems.length === 1 ? '' : 's'}`, { details: problems });
  }
  if (value !== undefined) writeParsedCache(workspace, hash, value, sealer);
  return { spec, file: absolute, workspace, hash };
}

/**
 * The global inputs of a run: `global_inputs` as written (each must exist), or by default the lockfiles
 * of DEFAULT_GLOBAL_INPUTS that exist and attest.yaml itself (`attestFile`, relative to the workspace).
 */
export function globalInputPatterns(spec: PipelineSpec, attestFile: string): { patterns: string[]; optional: boolean } {
  return spec.globalInputs ? { patterns: spec.globalInputs, optional: false } : { patterns: [...DEFAULT_GLOBAL_INPUTS, attestFile], optional: true };
}
