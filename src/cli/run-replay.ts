import fs from 'node:fs';
import path from 'node:path';
import { evidentVersion, resultLine, runSummary, tryReplay } from '../pipeline/index.js';
import { configPath } from './config.js';
import { EXIT } from './exit.js';

// `evident run` with nothing changed since the last run: replayed before the command-line parser and the
// runner are even loaded (pipeline/replay.ts says what a replay checks and does). Only the plain forms
// qualify — `run` with -f/--file, -j/--jobs, -k/--keep-going and no global options, no config file (nor a
// workspace .evident/config.yaml), no
// EVIDENT_OUTPUT=json, EVIDENT_DEBUG or EVIDENT_REMOTE_CACHE — because everything else changes what a run
// prints or does; those, and every run the replay turns down, go through the full CLI. The output is the
// full run's: one result line per step on stdout, the receipt and summary lines on stderr.
// EVIDENT_NO_REPLAY=1 turns replays off.

/** The attest.yaml of a plain `evident run ...` command line (argv without node and script), else undefined. */
export function replayableArgs(args: readonly string[]): { file: string } | undefined {
  if (args[0] !== 'run') return undefined;
  let file = 'attest.yaml';
  for (let i = 1; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.indexOf('=');
    const [flag, inline] = arg.startsWith('--') && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    if (flag === '-k' || flag === '--keep-going') {
      if (inline !== undefined) return undefined;
      continue;
    }
    if (flag !== '-f' && flag !== '--file' && flag !== '-j' && flag !== '--jobs') return undefined;
    const value = inline ?? args[++i];
    if (value === undefined || value === '' || value.startsWith('-')) return undefined;
    if (flag === '-f' || flag === '--file') file = value;
    else if (!/^[1-9][0-9]{0,5}$/.test(value)) return undefined; // commander reports a bad --jobs
  }
  return { file };
}

function plainEnvironment(env: NodeJS.ProcessEnv): boolean {
  if (env.EVIDENT_NO_REPLAY === '1' || env.EVIDENT_NO_REPLAY === 'true') return false;
  if (env.EVIDENT_OUTPUT && env.EVIDENT_OUTPUT !== 'table') return false;
  if (env.EVIDENT_DEBUG === 'true' || env.EVIDENT_REMOTE_CACHE) return false;
  // A config file may set the output or debug; reading it would need the YAML parser.
  return !fs.existsSync(configPath({}, env));
}

/** The exit code of a replayed run, or undefined when the full CLI must run the command. */
export function replayRun(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): number | undefined {
  const args = replayableArgs(argv.slice(2));
  if (!args || !plainEnvironment(env)) return undefined;
  // `evident config set` defaults (.evident/config.yaml) change what a run does: the full CLI reads them.
  if (fs.existsSync(path.join(path.dirname(path.resolve(args.file)), '.evident', 'config.yaml'))) return undefined;
  let result;
  try {
    result = tryReplay(args.file, evidentVersion());
  } catch {
    // e.g. the receipt could not be written: the full run does it again and reports what goes wrong.
    return undefined;
  }
  if (!result.replayed) return undefined;
  const { record } = result;
  process.stdout.write(record.steps.map((s) => resultLine(s.name, { status: 'ok', detail: 'cache hit' }, s.durationSecs) + '\n').join(''));
  process.stderr.write(`receipt: ${result.receiptFile} (unsigned)\n`);
  const steps = record.steps.length;
  process.stderr.write(runSummary({ steps, hits: steps, failed: 0, skipped: 0, totalSecs: record.totalDurationSecs, evicted: result.evicted }) + '\n');
  return EXIT.OK;
}
