import Fastify, { type FastifyInstance } from 'fastify';
import { EvidentError } from '../core/index.js';
import { formatConflictSize } from '../ledger/index.js';
import { conflictSize, WitnessService, loadWitnessKey } from '../services/index.js';
import { WitnessStore } from '../store/index.js';
import { statusOf } from './errors.js';
import path from 'node:path';

/** A request body: an old size line, up to 63 proof lines and a checkpoint with its signatures. */
const MAX_BODY = 64 * 1024;

/**
 * The HTTP face of a C2SP tlog-witness: `POST /add-checkpoint` (submission prefix = monitoring prefix = the
 * server root). Answers are text: the cosignature line(s) on 200, `<size>\n` as text/x.tlog.size on 409,
 * the reason on any other refusal.
 */
export function buildWitnessApp(witness: WitnessService, options: { logger?: boolean | object } = {}): FastifyInstance {
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: MAX_BODY });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
  app.post('/add-checkpoint', async (request, reply) => {
    if (typeof request.body !== 'string') throw new EvidentError('INVALID_ARGUMENT', 'the request needs a text body');
    return reply.type('text/plain; charset=utf-8').send(witness.addCheckpoint(request.body));
  });
  app.get('/', async () => ({ verifier_key: witness.verifierKey, logs: witness.logKeys }));
  app.setErrorHandler((raw, request, reply) => {
    const err = raw instanceof EvidentError ? raw : new EvidentError((raw as { statusCode?: number }).statusCode === 413 ? 'PAYLOAD_TOO_LARGE' : 'INVALID_ARGUMENT', (raw as Error).message);
    const size = conflictSize(err);
    if (err.code === 'CONFLICT' && size !== undefined) return reply.code(409).type('text/x.tlog.size').send(formatConflictSize(size));
    request.log.info({ code: err.code }, err.message);
    return reply.code(statusOf(err.code)).type('text/plain; charset=utf-8').send(`${err.message}\n`);
  });
  return app;
}

export interface WitnessServerOptions {
  port: number;
  bind: string;
  dataDir: string;
  /** Witness signer key (PRIVATE+KEY+…, type 0x04) or a file holding one; default <dataDir>/witness-key, created on first start. */
  key?: string;
  /** Name of a newly created key (the witness's name in its cosignature lines). */
  name?: string;
  /** Log verifier keys this witness cosigns for. */
  logs: string[];
  logLevel?: string;
}

export interface RunningWitness {
  url: string;
  verifierKey: string;
  keyFile?: string;
  keyCreated: boolean;
  close(): Promise<void>;
}

export async function startWitness(options: WitnessServerOptions): Promise<RunningWitness> {
  const key = loadWitnessKey({ key: options.key, dataDir: options.dataDir, name: options.name });
  const store = new WitnessStore(path.join(options.dataDir, 'witness.sqlite'));
  try {
    const witness = new WitnessService({ store, cosigner: key.cosigner, logs: options.logs });
    const app = buildWitnessApp(witness, { logger: { level: options.logLevel ?? 'info', stream: process.stderr } });
    await app.listen({ port: options.port, host: options.bind });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : options.port;
    const host = options.bind.includes(':') ? `[${options.bind}]` : options.bind;
    return {
      url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`, verifierKey: witness.verifierKey, keyFile: key.file, keyCreated: key.created,
      async close() {
        await app.close();
        store.close();
      },
    };
  } catch (err) {
    store.close();
    throw err;
  }
}
