import { CommanderError } from 'commander';
import { EvidentError } from '../core/index.js';
import { buildProgram } from './program.js';
import { EXIT, describeError, exitCodeFor } from './exit.js';

/** Runs the CLI; the only place that turns errors into exit codes. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit 0; usage mistakes have already been printed by commander
      return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    const debug = argv.includes('--debug') || process.env.EVIDENT_DEBUG === 'true';
    process.stderr.write(describeError(err, debug) + '\n');
    if (err instanceof EvidentError && Array.isArray(err.details)) {
      for (const d of err.details as { path: string; message: string }[]) process.stderr.write(`  ${d.path}: ${d.message}\n`);
    }
    return exitCodeFor(err);
  }
}

