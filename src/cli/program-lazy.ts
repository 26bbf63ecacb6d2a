import type { Command } from 'commander';
import { commandIndex } from './command-word.js';
import { commandConfig } from './config.js';
import { applyFlagTable } from './flag-table.js';
import { addVerbs, baseProgram, type Verbs } from './program-base.js';

// `evident WORD ...` loads only the modules that register WORD (issue #21: every networked command paid
// ~0.4 s to load all fifty command modules and what they import), and `evident VERB NOUN ...` (Kosli's
// create/get/list/begin/archive/tag) only the modules that register that noun. A word not listed here (a
// verb alone or with an option before its noun, help, none) gets the whole program (program.ts). Each group
// registers exactly what buildProgram registers for its words, so `evident WORD --help` and parsing are the
// same (test/cli/program-lazy.test.ts); a group may register more than its word (a module's other commands).

type Group = (program: Command, verbs: () => Verbs) => Promise<void>;

const groups: Record<string, Group> = {
  server: async (p) => (await import('./commands/server.js')).registerServer(p),
  witness: async (p) => (await import('./commands/witness.js')).registerWitness(p),
  admin: async (p) => (await import('./commands/admin-create-token.js')).registerAdmin(p),
  // The whole program's environments.ts adds `log environment` to the log command; here only that command
  // is loaded (the environment commands and their modules are not, issue #21).
  log: async (p) => {
    const [log, logEnvironment] = await Promise.all([import('./commands/log.js'), import('./commands/log-environment.js')]);
    logEnvironment.registerLogEnvironment(log.registerLog(p));
  },
  verify: async (p) => {
    const [v, prove, run, vsa] = await Promise.all([
      import('./commands/verify-log.js'), import('./commands/prove-artifact.js'), import('./commands/verify-run.js'), import('./commands/verify-vsa.js'),
    ]);
    const verify = v.registerVerify(p);
    prove.registerProveArtifact(verify, p);
    run.registerVerifyRun(verify);
    vsa.registerVerifyVsa(verify);
  },
  keys: async (p) => void (await import('./commands/keys.js')).registerKeys(p),
  fingerprint: async (p) => (await import('./commands/fingerprint.js')).registerFingerprint(p),
  pipeline: async (p) => {
    const [pipeline, exporter, show] = await Promise.all([import('./commands/pipeline.js'), import('./commands/pipeline-export.js'), import('./commands/pipeline-show.js')]);
    pipeline.registerPipeline(p);
    exporter.registerPipelineExport(p);
    show.registerPipelineShow(p);
  },
  cache: async (p) => (await import('./commands/cache.js')).registerCache(p),
  audit: async (p) => (await import('./commands/audit.js')).registerAudit(p),
  config: async (p) => (await import('./commands/workspace-config.js')).registerConfig(p),
  attest: async (p, verbs) => {
    const [attest, types] = await Promise.all([import('./commands/attest.js'), import('./commands/attestation-types.js')]);
    const { create, get, list, archive } = verbs();
    types.registerAttestationTypes(create, get, list, attest.registerAttest(p), archive);
  },
  snapshot: async (p, verbs) => {
    const { create, get, list, archive } = verbs();
    (await import('./commands/environments.js')).registerEnvironmentCommands(p, create, get, list, archive);
  },
  search: async (p, verbs) => (await import('./commands/search.js')).registerSearch(p, verbs().list),
  release: async (p) => (await import('./commands/release.js')).registerReleaseCommands(p),
  assert: async (p) => (await import('./commands/assert.js')).registerAssertCommands(p),
  metrics: async (p) => (await import('./commands/metrics.js')).registerMetricsCommands(p),
};
groups.export = groups.verify!;

// The Kosli verbs' nouns: each registrar below adds its nouns to every verb it is handed.
const flows: Group = async (p, verbs) => {
  const m = await import('./commands/flows.js');
  const { create, get, list, archive, tag } = verbs();
  m.registerFlowCommands(create, get, list, archive);
  m.registerTagFlow(tag);
};
const trails: Group = async (_p, verbs) => {
  const { begin, get, list } = verbs();
  (await import('./commands/trails.js')).registerTrailCommands(begin, get, list);
};
const tags: Group = async (_p, verbs) => (await import('./commands/tags.js')).registerTagCommands(verbs().tag);
const policies: Group = async (p, verbs) => {
  const { create, get, list } = verbs();
  (await import('./commands/policies.js')).registerPolicyCommands(p, create, get, list);
};
const environments = groups.snapshot!;
const attestationTypes = groups.attest!;

/** `VERB NOUN` → the group that registers it (every name and alias the whole program gives the noun). */
const nouns: Record<string, Group> = {
  'create flow': flows, 'get flow': flows, 'list flows': flows, 'archive flow': flows, 'tag flow': flows, 'tag flows': flows,
  'begin trail': trails, 'get trail': trails, 'list trails': trails,
  'get artifact': async (_p, verbs) => (await import('./commands/get-artifact.js')).registerGetArtifact(verbs().get),
  'get attestation': async (_p, verbs) => (await import('./commands/get-attestation.js')).registerGetAttestation(verbs().get),
  'list artifacts': groups.search!,
  'list allowed-artifacts': async (p, verbs) => (await import('./commands/allow.js')).registerAllowCommands(p, verbs().list),
  'create environment': environments, 'get environment': environments, 'list environments': environments, 'archive environment': environments,
  'get snapshot': environments, 'list snapshots': environments,
  'create attestation-type': attestationTypes, 'get attestation-type': attestationTypes, 'list attestation-types': attestationTypes,
  'archive attestation-type': attestationTypes,
  'create policy': policies, 'get policy': policies, 'list policies': policies,
  'tag env': tags, 'tag environment': tags, 'tag environments': tags, 'tag control': tags, 'tag controls': tags, 'tag repo': tags, 'tag repos': tags,
};

/** Every `VERB NOUN` that loads only its own modules. */
export const LAZY_NOUNS: readonly string[] = Object.keys(nouns);

/** The group for the command line's word, or for its verb and the noun right after it. */
function groupOf(argv: readonly string[]): Group | undefined {
  const i = commandIndex(argv);
  if (i < 0) return undefined;
  if (Object.hasOwn(groups, argv[i]!)) return groups[argv[i]!];
  // Only the word right after the verb: with an option between them, the verb's own parsing (and its help after
  // an error, which lists every noun) is the whole program's.
  const noun = `${argv[i]} ${argv[i + 1]}`;
  return Object.hasOwn(nouns, noun) ? nouns[noun] : undefined;
}

/** The command words that load only their own modules. */
export const LAZY_WORDS: readonly string[] = Object.keys(groups);

/** The program for `word` with only its own commands, or undefined when the word needs the whole program. */
export async function programForWord(word: string | undefined, argv: readonly string[], env: NodeJS.ProcessEnv): Promise<Command | undefined> {
  // `evident --version` needs no command at all.
  if (word === undefined && (argv.includes('--version') || argv.includes('-V'))) return baseProgram();
  const group = word === undefined ? undefined : groupOf(argv);
  if (!group) return undefined;
  const program = baseProgram();
  let verbs: Verbs | undefined;
  await group(program, () => (verbs ??= addVerbs(program)));
  return applyFlagTable(program, { env, argv, config: commandConfig(argv, env) });
}
