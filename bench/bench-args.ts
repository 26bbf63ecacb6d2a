import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';

// The benchmarks read their flags with node:util's parseArgs, strict: an unknown flag throws, `--help` too. Here
// `--help` (or `-h`, before any `--`) prints the usage written in the bench's header comment and exits 0.

/** The usage lines of a bench's header comment: its indented lines (`//   node dist/bench/x.js [--flag N]`). */
export function usageOf(source: string): string {
  const header: string[] = [];
  for (const line of source.split('\n')) {
    if (line.startsWith('#!')) continue;
    if (!line.startsWith('//')) break;
    header.push(line.replace(/^\/\/ ?/, ''));
  }
  const usage = header.filter((l) => /^ {2,}\S/.test(l));
  return `${(usage.length > 0 ? usage : header).join('\n')}\n`;
}

/** parseArgs(config), but `--help` prints the usage of the bench at `moduleUrl` (its `import.meta.url`) and exits 0. */
export function benchArgs<T extends ParseArgsConfig>(moduleUrl: string, config: T): ReturnType<typeof parseArgs<T>> {
  const args = config.args ?? process.argv.slice(2);
  const end = args.indexOf('--');
  if ((end < 0 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h')) {
    process.stdout.write(usageOf(fs.readFileSync(fileURLToPath(moduleUrl), 'utf8')));
    process.exit(0);
  }
  return parseArgs(config);
}
