import { Command, Option } from 'commander';
import { VERSION } from '../core/index.js';
import { registerServer } from './commands/server.js';
import { registerAdmin } from './commands/admin-create-token.js';
import { registerLog } from './commands/log.js';
import { registerVerify } from './commands/verify-log.js';
import { registerVerifyRun } from './commands/verify-run.js';
import { registerKeys } from './commands/keys.js';
import { registerFingerprint } from './commands/fingerprint.js';
import { registerRun } from './commands/run.js';
import { registerPipeline } from './commands/pipeline.js';
import { registerCache } from './commands/cache.js';
import { registerAudit } from './commands/audit.js';
import { registerPipelineExport } from './commands/pipeline-export.js';
import { registerFlowCommands, registerTagFlow } from './commands/flows.js';
import { registerTrailCommands } from './commands/trails.js';
import { registerAttest } from './commands/attest.js';
import { registerGetArtifact } from './commands/get-artifact.js';
import { registerProveArtifact } from './commands/prove-artifact.js';
import { registerSearch } from './commands/search.js';
import { registerEnvironmentCommands } from './commands/environments.js';
import { registerGetAttestation } from './commands/get-attestation.js';
import { registerAttestationTypes } from './commands/attestation-types.js';
import { registerReleaseCommands } from './commands/release.js';
import { registerPolicyCommands } from './commands/policies.js';
import { registerAllowCommands } from './commands/allow.js';
import { registerAssertCommands } from './commands/assert.js';
import { registerMetricsCommands } from './commands/metrics.js';

export function buildProgram(): Command {
  const program = new Command('evident')
    .description('Evident: a tamper-evident record of how software gets from a commit to production')
    .version(VERSION)
    .option('--host <url>', 'Evident server URL (env EVIDENT_HOST; default http://127.0.0.1:8080)')
    .option('--org <name>', 'organisation (env EVIDENT_ORG; default "default")')
    .option('--api-token <token>', 'API token (env EVIDENT_API_TOKEN)')
    .addOption(new Option('--output <format>', 'output format (env EVIDENT_OUTPUT)').choices(['table', 'json']))
    .option('--dry-run', 'show what would be sent without changing anything')
    .option('--debug', 'print requests and stack traces on stderr')
    .option('--config <file>', 'config file (env EVIDENT_CONFIG; default ~/.evident.yml)')
    .showHelpAfterError()
    // Set before the commands are added so that every subcommand inherits it: main() decides exit codes.
    .exitOverride()
    .addHelpText('after', '\nPrecedence: flag > environment variable > ~/.evident.yml (keys: host, org, api_token, output, debug).\nExit status: 0 ok, 1 failed (not compliant, verification failed, not found), 2 usage, 3 server or network, 4 auth.');
  registerServer(program);
  registerAdmin(program);
  registerLog(program);
  const verify = registerVerify(program);
  registerProveArtifact(verify, program);
  registerVerifyRun(verify);
  registerKeys(program);
  registerFingerprint(program);
  registerRun(program);
  registerPipeline(program);
  registerCache(program);
  registerPipelineExport(program);
  registerAudit(program);
  // Kosli's verb-noun commands: evident create flow, evident get artifact, evident list trails...
  const create = program.command('create').description('Create a flow or an attestation type');
  const get = program.command('get').description('Show one flow, trail, artifact or attestation');
  const list = program.command('list').description('List flows, trails or artifacts');
  const begin = program.command('begin').description('Begin a trail');
  const archive = program.command('archive').description('Archive a flow');
  registerFlowCommands(create, get, list, archive);
  registerTagFlow(program.command('tag').description('Tag a flow'));
  registerTrailCommands(begin, get, list);
  registerGetArtifact(get);
  registerGetAttestation(get);
  registerSearch(program, list);
  registerEnvironmentCommands(program, create, get, list, archive);
  const attest = registerAttest(program);
  registerAttestationTypes(create, get, list, attest);
  registerReleaseCommands(program);
  registerPolicyCommands(program, create, get, list);
  registerAllowCommands(program, list);
  registerAssertCommands(program);
  registerMetricsCommands(program);
  return program;
}
