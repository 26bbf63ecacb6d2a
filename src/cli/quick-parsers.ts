import { collectRepeated, retriesValue, type ParserSpec } from './arg-parsers.js';
import { collectPath } from './attachments.js';
import { intFlag } from './context.js';
import { collectAnnotation, labelled, parseBool, prefixedAnnotation } from './flags.js';

// The value parsers the fast path (quick-parse.ts) may call, rebuilt from their tags (arg-parsers.ts): each kind is
// the same function, or the same factory, that commander's option holds. A kind not here throws, and the fast path
// declines the command line (test/cli/quick-parse.test.ts checks that every kind the table names is here).

type Parse = (value: string, previous: unknown) => unknown;

const KINDS: Record<string, (...args: (string | number)[]) => Parse> = {
  int: (name, min) => intFlag(String(name), Number(min)),
  bool: (flag) => parseBool(String(flag)),
  annotate: () => collectAnnotation as Parse,
  prefixed: (prefix) => prefixedAnnotation(String(prefix)) as Parse,
  labelled: (flag, form) => labelled(String(flag), String(form)) as Parse,
  repeat: () => collectRepeated as Parse,
  path: () => collectPath as Parse,
  // program-base.ts's -r: commander's error for anything else, so the fast path declines it.
  retries: () => (value) => retriesValue(value) ?? fail(`--max-api-retries ${JSON.stringify(value)}`),
};

function fail(what: string): never {
  throw new Error(`not for the fast path: ${what}`);
}

/** The parser a spec names; throws for a kind the fast path does not know. */
export function quickParser(spec: ParserSpec): Parse {
  const [kind, ...args] = spec;
  const make = Object.hasOwn(KINDS, kind) ? KINDS[kind] : undefined;
  return make ? make(...args) : fail(`parser ${kind}`);
}

/** The kinds the fast path knows (tests). */
export const QUICK_PARSER_KINDS: readonly string[] = Object.keys(KINDS);
