import type { Command } from 'commander';
import { addVerbs, baseProgram, type Verbs } from './program-base.js';

// `evident WORD ...` loads only the modules that register WORD (issue #21: every networked command paid
// ~0.4 s to load all fifty command modules and what they import). A word not listed here (the Kosli verbs
// create/get/list/begin/archive/tag, help, none) gets the whole program (program.ts). Each group registers
// exactly what buildProgram registers for its words, so `evident WORD --help` and parsing are the same.

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

/** The command words that load only their own modules. */
export const LAZY_WORDS: readonly string[] = Object.keys(groups);

/** The program for `word` with only its own commands, or undefined when the word needs the whole program. */
export async function programForWord(word: string | undefined, argv: readonly string[], env: NodeJS.ProcessEnv): Promise<Command | undefined> {
  // `evident --version` needs no command at all.
  if (word === undefined && (argv.includes('--version') || argv.includes('-V'))) return baseProgram();
  const group = word === undefined ? undefined : groups[word];
  if (!group) return undefined;
  const program = baseProgram();
  let verbs: Verbs | undefined;
  const [, { applyFlagTable }, { commandConfig }] = await Promise.all([group(program, () => (verbs ??= addVerbs(program))), import('./flag-table.js'), import('./config.js')]);
  return applyFlagTable(program, { env, argv, config: commandConfig(argv, env) });
}
