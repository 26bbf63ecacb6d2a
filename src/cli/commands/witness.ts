import type { Command } from 'commander';
import { EvidentError } from '../../core/index.js';
import { action, intFlag, type Ctx } from '../context.js';

export interface WitnessCommandOptions {
  port: number;
  bind: string;
  dataDir: string;
  key?: string;
  name?: string;
  log?: string[];
  logLevel: string;
}

/** Verifier keys separated by commas or white space (they contain neither). */
export function splitKeys(text: string): string[] {
  return text.split(/[\s,]+/).filter((k) => k !== '');
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), ...splitKeys(value)];

export async function witnessCommand(opts: WitnessCommandOptions, ctx: Ctx): Promise<void> {
  const logs = opts.log ?? splitKeys(process.env.EVIDENT_WITNESS_LOGS ?? '');
  if (logs.length === 0) throw new EvidentError('INVALID_ARGUMENT', 'give the verifier key of each log to witness with --log (env EVIDENT_WITNESS_LOGS): `evident log key --org ORG` prints it');
  // Loaded here: every other command would pay for Fastify and SQLite.
  const { startWitness } = await import('../../server/index.js');
  const witness = await startWitness({ port: opts.port, bind: opts.bind, dataDir: opts.dataDir, key: opts.key, name: opts.name, logs, logLevel: opts.logLevel });
  const info = { url: witness.url, verifier_key: witness.verifierKey, logs, key_file: witness.keyFile ?? null, key_created: witness.keyCreated };
  ctx.printer.result(info, () => {
    ctx.printer.text(`Witness listening on ${witness.url} (POST ${witness.url}/add-checkpoint, C2SP tlog-witness)`);
    ctx.printer.text(`Witness verifier key: ${witness.verifierKey}${witness.keyCreated ? `  (new key written to ${witness.keyFile})` : ''}`);
    ctx.printer.text(`Cosigning for ${logs.length} log${logs.length === 1 ? '' : 's'}: ${logs.map((l) => l.split('+')[0]).join(', ')}`);
  });
  const stop = () => void witness.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

export function registerWitness(program: Command): void {
  program
    .command('witness')
    .description('Run a C2SP tlog-witness: cosign the checkpoints of the given logs that provably extend the last one it cosigned')
    .option('--port <n>', 'TCP port to listen on (env EVIDENT_WITNESS_PORT)', intFlag('--port'), Number(process.env.EVIDENT_WITNESS_PORT ?? 8081))
    .option('--bind <address>', 'address to listen on (env EVIDENT_WITNESS_BIND)', process.env.EVIDENT_WITNESS_BIND ?? '127.0.0.1')
    .option('--data-dir <dir>', 'directory of the witness database and key (env EVIDENT_WITNESS_DATA_DIR)', process.env.EVIDENT_WITNESS_DATA_DIR ?? '.evident-witness')
    .option('--key <key-or-file>', 'witness signing key (PRIVATE+KEY+…, type 0x04) or a file holding it (env EVIDENT_WITNESS_KEY); default <data-dir>/witness-key, created on first start', process.env.EVIDENT_WITNESS_KEY)
    .option('--name <name>', 'name of a newly created key, e.g. witness.example.com/w1 (it names the cosignature lines)')
    .option('--log <verifier-key>', 'verifier key of a log to witness (repeatable; env EVIDENT_WITNESS_LOGS, separated by commas); its name is the log\'s origin', collect)
    .option('--log-level <level>', 'log level (fatal, error, warn, info, debug)', 'info')
    .addHelpText('after', [
      '',
      'It keeps, per log (origin and key), the last checkpoint it cosigned in <data-dir>/witness.sqlite and answers',
      'POST /add-checkpoint as C2SP tlog-witness specifies: 200 with a cosignature/v1 line (C2SP tlog-cosignature),',
      '409 with the size it knows, 404 for an unknown origin, 403 for a bad log signature, 422 for a bad proof.',
      'Give its verifier key to the Evident server (--witness URL=KEY) and to clients (--witness KEY). docs/log.md "Witnesses".',
      'Example:',
      '  evident witness --port 8081 --name witness.example.com/w1 --log "$(evident log key)"',
    ].join('\n'))
    .action(action<WitnessCommandOptions>(witnessCommand));
}
