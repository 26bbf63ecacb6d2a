import { Command, InvalidArgumentError, Option } from 'commander';
import { VERSION } from '../core/index.js';
import { retriesValue, tagParser } from './arg-parsers.js';

/** `-r, --max-api-retries <n>`: commander's error for anything but 0-99. */
const retriesFlag = tagParser((v: string): number => {
  const n = retriesValue(v);
  if (n === undefined) throw new InvalidArgumentError('an integer 0-99');
  return n;
}, ['retries']);

// The program with its global options and no commands: buildProgram (program.ts) adds every command;
// `evident run` adds only its own (run.ts), so that a warm run does not load the other fifty command
// modules (docs/performance.md "The runner").

export function baseProgram(): Command {
  return new Command('evident')
    .description('Evident: a tamper-evident record of how software gets from a commit to production')
    .version(VERSION)
    .option('-H, --host <url>', 'Evident server URL (env EVIDENT_HOST or KOSLI_HOST; default http://127.0.0.1:8080)')
    .option('--org <name>', 'organisation (env EVIDENT_ORG or KOSLI_ORG; default "default")')
    .option('-a, --api-token <token>', 'API token (env EVIDENT_API_TOKEN or KOSLI_API_TOKEN); DRY_RUN turns on --dry-run')
    .addOption(new Option('--output <format>', 'output format: json is Kosli\'s shapes, json-evident Evident\'s, markdown for get trail (env EVIDENT_OUTPUT)').choices(['table', 'json', 'json-evident', 'markdown']))
    .option('-D, --dry-run', 'show what would be sent without changing anything; errors exit 0 (env EVIDENT_DRY_RUN or KOSLI_DRY_RUN=true)')
    .option('--debug', 'print requests and stack traces on stderr')
    .option('-q, --quiet', 'print no warnings')
    .option('-r, --max-api-retries <n>', 'how often to retry a request that could not reach the server (default 3)', retriesFlag)
    .option('--http-proxy <url>', 'send every request through this HTTP proxy, e.g. http://proxy:3128 (https:// servers through a CONNECT tunnel; env EVIDENT_HTTP_PROXY or KOSLI_HTTP_PROXY)')
    .option('--config <file>', 'config file (env EVIDENT_CONFIG; default ~/.evident.yml, else ~/.kosli.yml)')
    .option('-c, --config-file <file>', "a config file in Kosli's format (env KOSLI_CONFIG_FILE): ORG:, API_TOKEN:, HOST:, any flag")
    .showHelpAfterError()
    // Set before the commands are added so that every subcommand inherits it: main() decides exit codes.
    .exitOverride()
    .addHelpText('after', '\nPrecedence: flag > environment variable > config file (~/.evident.yml keys: host, org, api_token, output, debug).\nEvery flag FLAG-NAME can also be set by EVIDENT_FLAG_NAME or, as in Kosli, KOSLI_FLAG_NAME (EVIDENT_ wins).\nExit status: 0 ok, 1 failed (not compliant, verification failed, not found), 2 usage, 3 server or network, 4 auth;\nKosli\'s 1 on every error when started as `kosli` (a symlink) or with EVIDENT_EXIT_CODES=kosli.');
}

/** Kosli's verb-noun command groups (evident create flow, evident get artifact, evident list trails...). */
export interface Verbs {
  create: Command;
  get: Command;
  list: Command;
  begin: Command;
  archive: Command;
  tag: Command;
}

export function addVerbs(program: Command): Verbs {
  return {
    create: program.command('create').description('Create a flow or an attestation type'),
    get: program.command('get').description('Show one flow, trail, artifact or attestation'),
    list: program.command('list').description('List flows, trails or artifacts'),
    begin: program.command('begin').description('Begin a trail'),
    archive: program.command('archive').description('Archive a flow'),
    tag: program.command('tag').description('Tag a flow, environment, control or repository (key=value labels, each change a log entry)'),
  };
}
