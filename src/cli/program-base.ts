import { Command, Option } from 'commander';
import { VERSION } from '../core/index.js';

// The program with its global options and no commands: buildProgram (program.ts) adds every command;
// `evident run` adds only its own (run.ts), so that a warm run does not load the other fifty command
// modules (docs/performance.md "The runner").

export function baseProgram(): Command {
  return new Command('evident')
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
}
