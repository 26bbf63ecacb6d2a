import { Ajv, type ValidateFunction } from 'ajv';
import { EvidentError } from '../core/index.js';
import { RegexSyntaxError, compileSafeRegex } from '../formats/index.js';

// JSON Schemas of custom attestation types are written by any writer token, and Ajv evaluates their `pattern`
// and `patternProperties` regexes. With JavaScript's backtracking RegExp, `"pattern": "^(a+)+$"` takes 10 s
// at 28 characters of data and doubles with each one, on the event loop (reliability report F2). So Ajv is
// given the project's linear-time engine instead (policy-regex.ts, a Pike VM), through its `code.regExp`
// option, and a pattern the engine cannot run (backreferences, lookaround) is refused when the type is
// created, naming where it is in the schema.

/** Longest string checked against one schema pattern. */
export const SCHEMA_PATTERN_MAX_INPUT = 4096;
/**
 * Pattern work allowed for one validation, in (input characters × program steps): the engine is linear in
 * both, so this bounds the time of a validation whatever the schema and data: about 50 ms at its worst
 * (a 1,750-step program searching 4,000-character strings), far less for ordinary patterns.
 */
export const SCHEMA_PATTERN_BUDGET = 2_000_000;

export interface ProblemPath { path: string; message: string }

/** Every `pattern` and `patternProperties` key in a schema, with its JSON-Pointer-like path. */
function patternsOf(schema: unknown, path: string, out: { path: string; pattern: string }[], depth = 0): void {
  if (depth > 200 || typeof schema !== 'object' || schema === null) return;
  if (Array.isArray(schema)) {
    schema.forEach((item, k) => patternsOf(item, `${path}/${k}`, out, depth + 1));
    return;
  }
  for (const [key, value] of Object.entries(schema as Record<string, unknown>)) {
    const here = `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    if (key === 'pattern' && typeof value === 'string') out.push({ path: here, pattern: value });
    if (key === 'patternProperties' && typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const p of Object.keys(value)) out.push({ path: `${here}/${p.replace(/~/g, '~0').replace(/\//g, '~1')}`, pattern: p });
    }
    patternsOf(value, here, out, depth + 1);
  }
}

/** Throws INVALID_ARGUMENT naming every pattern of the schema the linear-time engine refuses. */
export function checkSchemaPatterns(schema: unknown, root = 'schema'): void {
  const found: { path: string; pattern: string }[] = [];
  patternsOf(schema, root, found);
  const problems: ProblemPath[] = [];
  for (const { path, pattern } of found) {
    try {
      compileSafeRegex(pattern);
    } catch (err) {
      if (!(err instanceof RegexSyntaxError)) throw err;
      problems.push({ path, message: `pattern ${JSON.stringify(pattern)}: ${err.message}` });
    }
  }
  if (problems.length > 0) {
    throw new EvidentError('INVALID_ARGUMENT', `the JSON Schema has patterns Evident cannot run in linear time (no backreferences or lookaround): ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, { details: problems });
  }
}

/** A validator whose pattern matching is linear and bounded per call. */
export type UserSchemaValidator = ValidateFunction;

/**
 * Compiles a user's JSON Schema (strict, every error reported) with linear-time patterns. The returned
 * function throws INVALID_ARGUMENT when the data needs more pattern work than SCHEMA_PATTERN_BUDGET or has
 * a string longer than SCHEMA_PATTERN_MAX_INPUT where a pattern applies.
 */
export function compileUserSchema(schema: unknown): UserSchemaValidator {
  checkDepth(schema);
  // Compiling (Ajv generates code) costs milliseconds of CPU, far more than validating: a type's versions
  // are immutable, so each schema is compiled once and kept (the most recent COMPILED_KEPT of them).
  const key = JSON.stringify(schema);
  const kept = compiled.get(key);
  if (kept) {
    compiled.delete(key);
    compiled.set(key, kept);
    return kept;
  }
  const validator = compileFresh(schema);
  if (compiled.size >= COMPILED_KEPT) compiled.delete(compiled.keys().next().value!);
  compiled.set(key, validator);
  return validator;
}

const COMPILED_KEPT = 256;
/** Nesting of a schema (Ajv and the cache key recurse over it); real schemas nest a dozen levels. */
export const SCHEMA_MAX_DEPTH = 64;

/** Refuses a schema nested deeper than SCHEMA_MAX_DEPTH, without recursion. */
function checkDepth(schema: unknown): void {
  const stack: [unknown, number][] = [[schema, 1]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (depth > SCHEMA_MAX_DEPTH) {
      throw new EvidentError('INVALID_ARGUMENT', `the JSON Schema is nested deeper than ${SCHEMA_MAX_DEPTH} levels`, { details: [{ path: 'schema', message: `nested deeper than ${SCHEMA_MAX_DEPTH} levels` }] });
    }
    for (const child of Object.values(value as Record<string, unknown>)) stack.push([child, depth + 1]);
  }
}
const compiled = new Map<string, UserSchemaValidator>();

function compileFresh(schema: unknown): UserSchemaValidator {
  checkSchemaPatterns(schema);
  const spent = { units: 0 };
  const regExp = Object.assign((pattern: string) => {
    const rx = compileSafeRegex(pattern);
    return {
      // Ajv caches compiled patterns by this string: it must identify the pattern.
      toString: () => `/${pattern}/u`,
      test(input: string): boolean {
        if (input.length > SCHEMA_PATTERN_MAX_INPUT) {
          throw new EvidentError('INVALID_ARGUMENT', `a string checked against the schema pattern ${JSON.stringify(pattern)} is ${input.length} characters long: the limit is ${SCHEMA_PATTERN_MAX_INPUT}`);
        }
        spent.units += (input.length + 1) * rx.size;
        if (spent.units > SCHEMA_PATTERN_BUDGET) {
          throw new EvidentError('INVALID_ARGUMENT', `the data needs more schema pattern matching than the limit (${SCHEMA_PATTERN_BUDGET} character-steps per validation)`);
        }
        return rx.test(input);
      },
    };
  }, { code: 'evidentSafeRegExp' });
  // strict: unknown keywords in a schema are mistakes; allErrors: report every problem with its path.
  const ajv = new Ajv({ strict: true, allErrors: true, validateSchema: true, code: { regExp } });
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema as object);
  } catch (err) {
    if (err instanceof EvidentError) throw err;
    throw new EvidentError('INVALID_ARGUMENT', `the JSON Schema is not valid: ${(err as Error).message}`, { details: [{ path: 'schema', message: (err as Error).message }] });
  }
  const bounded = ((data: unknown) => {
    spent.units = 0;
    const ok = validate(data);
    bounded.errors = validate.errors;
    return ok;
  }) as ValidateFunction;
  return Object.assign(bounded, { schema: validate.schema, schemaEnv: validate.schemaEnv });
}
