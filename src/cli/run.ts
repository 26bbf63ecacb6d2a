import { CommanderError } from 'commander';
import type { Command } from 'commander';
import { baseProgram } from './program-base.js';
import { commandWord } from './command-word.js';
import { programForWord } from './program-lazy.js';
import { EXIT, describeError, exitCodesOf, reportFailure, type ExitCodes } from './exit.js';

export { EXIT };

/**
 * `evident run` gets a program with only its own command: its warm run is measured against turbo's
 * (docs/performance.md "The runner"), and the other commands' modules cost it ~90 ms to load.
 */
async function programFor(argv: string[]): Promise<Command> {
  if (commandWord(argv) === 'run') {
    const { registerRun } = await import('./commands/run.js');
    const program = baseProgram();
    registerRun(program);
    return program;
  }
  return (await programForWord(commandWord(argv), argv, process.env)) ?? (await import('./program.js')).buildProgram();
}

/**
 * Runs the CLI; the only place that turns errors into exit codes: Evident's, or Kosli's 1 on every error when
 * started as `kosli` or with EVIDENT_EXIT_CODES=kosli (exit.ts).
 */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let codes: ExitCodes = 'evident';
  try {
    codes = exitCodesOf(argv, env);
  } catch (err) {
    process.stderr.write(describeError(err, false) + '\n');
    return EXIT.USAGE;
  }
  const program = await programFor(argv);
  try {
    await program.parseAsync(attestAliases(program, argv));
    return EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit 0; usage mistakes have already been printed by commander
      return err.exitCode === 0 ? EXIT.OK : codes === 'kosli' ? EXIT.FAILED : EXIT.USAGE;
    }
    return reportFailure(err, argv, codes);
  }
}

/**
 * ATTEST's spelling `attest verify receipt_….yaml` (seed 003 §5.3): `evident verify FILE`, where FILE is
 * not one of verify's subcommands, is `evident verify receipt FILE`. Only right after the command name,
 * so nothing else is reinterpreted.
 */
export function attestAliases(program: { commands: readonly { name(): string; commands: readonly { name(): string }[] }[] }, argv: string[]): string[] {
  if (argv[2] !== 'verify' || argv[3] === undefined || argv[3].startsWith('-')) return argv;
  const verify = program.commands.find((c) => c.name() === 'verify');
  if (!verify || verify.commands.some((c) => c.name() === argv[3]) || argv[3] === 'help') return argv;
  return [...argv.slice(0, 3), 'receipt', ...argv.slice(3)];
}
