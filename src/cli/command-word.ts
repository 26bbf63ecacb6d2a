// Which command a command line names, read before any command module loads (run.ts, program-lazy.ts):
// its own module so that `evident run`, which needs only the word, does not load program-lazy.ts.

/** Global options that take a value (program-base.ts): the word after one is not the command. */
const GLOBAL_WITH_VALUE = new Set([
  '--host', '-H', '--org', '--api-token', '-a', '--output', '--config', '--config-file', '-c', '--max-api-retries', '-r', '--http-proxy',
]);

/** The index in `argv` (node, script, then global options and the command) of the command word, or -1. */
export function commandIndex(argv: readonly string[]): number {
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i]!;
    if (GLOBAL_WITH_VALUE.has(arg)) i++;
    else if (!arg.startsWith('-')) return i;
  }
  return -1;
}

/** The command word of `argv`, or undefined when there is none. */
export function commandWord(argv: readonly string[]): string | undefined {
  const i = commandIndex(argv);
  return i < 0 ? undefined : argv[i];
}
