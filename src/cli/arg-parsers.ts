// What a flag's parser is, as data (issue #21, docs/performance.md "Ninth round"): the commander-free fast path
// (quick-parse.ts) reads each command's flags from a table built from commander's own program at build time
// (quick-table.ts); a flag's value parser is a function there, so each parser the fast path may call is tagged
// with its kind and arguments here, and the fast path builds the same function from them (quick-parsers.ts).
// A flag whose parser is not tagged is one the fast path does not take: a command line that gives it (on the
// command line, in the environment or the config file) goes to commander. No commander import: the fast bundles
// hold this module.

/** `[kind, ...arguments]`: e.g. `['int', '--limit', 1]` for intFlag('--limit', 1). */
export type ParserSpec = readonly [string, ...(string | number)[]];

const SPECS = new WeakMap<object, ParserSpec>();

/** Marks `fn` as the parser `spec` names; returns `fn`. */
export function tagParser<F extends (...args: never[]) => unknown>(fn: F, spec: ParserSpec): F {
  SPECS.set(fn, spec);
  return fn;
}

/** The spec a parser was tagged with, or undefined (a parser the fast path does not know). */
export function parserSpecOf(fn: unknown): ParserSpec | undefined {
  return typeof fn === 'function' ? SPECS.get(fn) : undefined;
}

/** A repeatable flag collected in order (`--set k=v --set k2=v2`, `-x GLOB`). */
export const collectRepeated = tagParser((value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value], ['repeat']);

/** `-r, --max-api-retries <n>`: an integer 0-99, or undefined (program-base.ts turns that into commander's error). */
export function retriesValue(value: string): number | undefined {
  return /^\d{1,2}$/.test(value) ? Number(value) : undefined;
}
