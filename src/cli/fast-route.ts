import { commandIndex } from './command-word.js';

// The common networked commands start from CommonJS bundles, dist/cli/evident-fast-NAME.cjs, one per group of
// commands, instead of the ES entry and its chunks (issue #21, docs/performance.md "Scale, seventh round",
// "Eighth round"). An ES entry starts Node's ES module loader (its own modules, an async resolve, read and
// compile per chunk: 16–20 chunks for these commands); a CommonJS file is loaded by the loader already in
// Node's start-up snapshot. esbuild does not split CommonJS, so each bundle holds everything its commands can
// reach and is compiled whole at every start: one bundle per group keeps each to its own commands (a pipeline
// step's `attest junit` does not compile the flows group, nor `list flows` the attest group). Each holds, of
// program-lazy.ts's dynamic imports, only its group's modules: scripts/build-cli.mjs replaces the others by a
// module that throws, so a word sent to the wrong bundle fails loudly (and in the tests), never silently.
// Every other command line goes to the ES entry, unchanged. Since the ninth round each bundle is two files: the fast
// one the launcher loads, without commander (main-quick.ts), and dist/cli/evident-cmd-NAME.cjs with commander, which
// the fast one loads for any command line it does not read itself (help, usage errors ...).

/** One CommonJS bundle: the command words and Kosli `VERB NOUN`s it runs, and the modules of their group. */
export interface FastBundle {
  /** dist/cli/evident-fast-NAME.cjs */
  readonly name: string;
  /** Command words whose whole group (program-lazy.ts) is in the bundle. */
  readonly words: readonly string[];
  /** `VERB NOUN`s whose group is in the bundle: every noun program-lazy.ts maps to that group. */
  readonly nouns: readonly string[];
  /** The modules program-lazy.ts imports for them, as written there (scripts/build-cli.mjs reads this from tsc's output). */
  readonly modules: readonly string[];
  /**
   * The answers (src/client/answers.ts) its common commands read, whose checks the bundle holds; any other is
   * required from dist/cli/answers/NAME.cjs on first use (scripts/answer-checks.mjs). A name missing here costs
   * a file's load, not a check.
   */
  readonly answers: readonly string[];
}

const ATTESTATION_TYPE_NOUNS = ['create attestation-type', 'get attestation-type', 'list attestation-types', 'archive attestation-type'];

export const FAST_BUNDLES: readonly FastBundle[] = [
  // `evident --version`: no group at all.
  { name: 'version', words: [], nouns: [], modules: [], answers: [] },
  // `log checkpoint` reads its answer without the client (fast-checkpoint.ts).
  { name: 'log', words: ['log'], nouns: [], modules: ['./commands/log.js', './commands/log-environment.js'], answers: ['LogKey'] },
  {
    name: 'flows',
    words: [],
    nouns: ['create flow', 'get flow', 'list flows', 'archive flow', 'tag flow', 'tag flows'],
    modules: ['./commands/flows.js'],
    answers: ['FlowSummaryPage', 'Flow'],
  },
  { name: 'artifact', words: [], nouns: ['get artifact'], modules: ['./commands/get-artifact.js'], answers: ['ArtifactDetails'] },
  { name: 'trails', words: [], nouns: ['begin trail', 'get trail', 'list trails'], modules: ['./commands/trails.js'], answers: ['Trail', 'TrailDetail', 'TrailPage'] },
  // Every `attest` subcommand (artifact, generic, junit, snyk, sarif, provenance, pullrequest ...) and the
  // attestation types, which program-lazy.ts registers with them. The CLI parses no report itself (the server
  // does); what only one subcommand needs (fingerprinting a path, reading a provenance file) is a file of its own
  // beside the bundle, required when that subcommand runs (scripts/build-cli.mjs, SIDE).
  {
    name: 'attest',
    words: ['attest'],
    nouns: ATTESTATION_TYPE_NOUNS,
    modules: ['./commands/attest.js', './commands/attestation-types.js'],
    answers: ['Artifact', 'Attestation', 'EvidenceUploaded'],
  },
];

/** Every command word sent to a bundle. */
export const FAST_WORDS: readonly string[] = FAST_BUNDLES.flatMap((b) => b.words);

/** Every `VERB NOUN` sent to a bundle. */
export const FAST_NOUNS: readonly string[] = FAST_BUNDLES.flatMap((b) => b.nouns);

/**
 * The bundle `argv` starts from (its name), or undefined for the ES entry: `evident --version` (no command
 * word), a word of a bundle, or a noun of a bundle right after its verb: the same reading of the command line
 * as program-lazy.ts's.
 */
export function fastBundleOf(argv: readonly string[]): string | undefined {
  const i = commandIndex(argv);
  if (i < 0) return argv.includes('--version') || argv.includes('-V') ? 'version' : undefined;
  const noun = `${argv[i]} ${argv[i + 1]}`;
  return FAST_BUNDLES.find((b) => b.words.includes(argv[i]!) || b.nouns.includes(noun))?.name;
}

/** Whether `argv` starts from a CommonJS bundle. */
export function isFastRoute(argv: readonly string[]): boolean {
  return fastBundleOf(argv) !== undefined;
}
