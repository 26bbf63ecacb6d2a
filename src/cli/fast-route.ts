import { commandIndex } from './command-word.js';

// The common networked commands that start from one CommonJS bundle, dist/cli/evident-fast.cjs, instead of the
// ES entry and its chunks (issue #21, docs/performance.md "Scale, seventh round"). An ES entry starts Node's ES
// module loader (its own modules, an async resolve, read and compile per chunk: 16–20 chunks for these
// commands); a CommonJS file is loaded by the loader already in Node's start-up snapshot. The bundle holds
// everything these commands can reach (their groups of program-lazy.ts, the client and their other dynamic
// imports) but no other group: scripts/build-cli.mjs replaces program-lazy.ts's and run.ts's other dynamic
// imports by a module that throws, so a word sent here whose group is not in the bundle fails loudly (and in
// the tests), never silently. Every other command line goes to the ES entry, unchanged.

/** Command words whose group (program-lazy.ts) is in the bundle: every `log` subcommand. */
export const FAST_WORDS: readonly string[] = ['log'];

/** Kosli's `VERB NOUN`s whose group is in the bundle: the flows group (all its nouns) and get artifact. */
export const FAST_NOUNS: readonly string[] = [
  'create flow', 'get flow', 'list flows', 'archive flow', 'tag flow', 'tag flows',
  'get artifact',
];

/**
 * The modules program-lazy.ts imports for the groups above, as written there: the only ones of its dynamic
 * imports the bundle holds (scripts/build-cli.mjs reads this list from tsc's output).
 */
export const FAST_GROUP_MODULES: readonly string[] = ['./commands/log.js', './commands/log-environment.js', './commands/flows.js', './commands/get-artifact.js'];

/**
 * Whether `argv` starts from the bundle: `evident --version` (no command word), a word of FAST_WORDS, or a
 * noun of FAST_NOUNS right after its verb: the same reading of the command line as program-lazy.ts's.
 */
export function isFastRoute(argv: readonly string[]): boolean {
  const i = commandIndex(argv);
  if (i < 0) return argv.includes('--version') || argv.includes('-V');
  return FAST_WORDS.includes(argv[i]!) || FAST_NOUNS.includes(`${argv[i]} ${argv[i + 1]}`);
}
