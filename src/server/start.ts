import { EvidentError } from '../core/index.js';
import type { FastifyInstance } from 'fastify';
import { openStore, recordLogKey, type BlobStoreKind, type Store } from '../store/index.js';
import { DEMO_ORG, DoraFollower, createServices, loadLogKey, parseWitnessEndpoint, seedDemo, type ParsePoolOptions } from '../services/index.js';
import { buildApp } from './app.js';
import { resolveLimits, type ServerLimits } from './limits.js';

export interface ServerOptions {
  port: number;
  bind: string;
  dataDir: string;
  databaseUrl?: string;
  /** Signer key string or key file (else <dataDir>/log-key, created on first start). */
  logKey?: string;
  /** Name of the organisation created on first start. */
  defaultOrg?: string;
  logLevel?: string;
  /** Where evidence bytes go (default: filesystem on SQLite, the database on PostgreSQL). */
  blobStore?: BlobStoreKind;
  /** Largest evidence file accepted, in bytes (default 100 MiB). */
  maxEvidenceBytes?: number;
  /** Requests without a token from loopback act as admin; refused unless listening on loopback. */
  insecureLocal?: boolean;
  /** On first start, also seed the demo organisation (cyber-dojo, docs/demo.md). Off unless asked for. */
  demo?: boolean;
  /** Whom to believe in X-Forwarded-For (AppOptions.trustProxy). */
  trustProxy?: boolean | number | string;
  /** Failed authentications per (token prefix, client address) per minute (default 60). */
  failedAuthPerMinute?: number;
  /** Connection and request limits (default DEFAULT_LIMITS). */
  limits?: Partial<ServerLimits>;
  /** Report parsing in worker threads (default DEFAULT_PARSE_POOL). */
  parsing?: ParsePoolOptions;
  /** Make this server's log key the database's, replacing the recorded one (a deliberate key change). */
  replaceLogKey?: boolean;
  /** Witnesses to submit each new checkpoint to, as `URL=VERIFIER_KEY` (docs/log.md "Witnesses"). */
  witnesses?: string[];
  /** Longest wait for one witness answer, in ms (default 5000). */
  witnessTimeoutMs?: number;
  /**
   * Logs of at least this many entries have their subject map loaded and verified right after the server
   * starts listening, rather than at their first append (default PRELOAD_MAPS_FROM).
   */
  preloadMapsFrom?: number;
  /**
   * DORA's ledgers (issue #21, tenth round) are kept current as snapshots commit; at start, those of logs of at
   * least this many entries are built in the background after the subject maps (default PRELOAD_MAPS_FROM).
   */
  preloadDoraFrom?: number;
}

/**
 * Loading a log's subject map is O(subjects) (docs/performance.md, issue #21: seconds at hundreds of thousands);
 * below this many entries it is quick enough for the first append to pay, and a server with small logs (every
 * test) starts no map thread before it is needed.
 */
export const PRELOAD_MAPS_FROM = 50_000;

/** `name+hexid` of a verifier key `name+hexid+base64` (C2SP signed-note key ID). */
const keyIdOf = (verifierKey: string) => verifierKey.split('+').slice(0, 2).join('+');

export interface RunningServer {
  app: FastifyInstance;
  store: Store;
  url: string;
  /** The verifier key of the default org's log (each org's key is named after its origin: `evident log key`). */
  verifierKey: string;
  keyFile?: string;
  keyCreated: boolean;
  /** Set on first start only: the default org and its first admin token, to be shown once. */
  bootstrap?: { org: string; token: string };
  /** Set on first start with `demo`: the demo organisation, its admin token (shown once) and how long seeding took. */
  demo?: { org: string; token: string; entries: number; millis: number };
  /** Settles when the background loads of the start (subject maps, then DORA's ledgers) are done (benchmarks, tests). */
  preloaded: Promise<void>;
  /** Settles when the subject maps' load at start is done (the first half of `preloaded`). */
  mapsPreloaded: Promise<void>;
  close(): Promise<void>;
}

/** Opens the store (running migrations), loads or creates the log key, bootstraps, then listens. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  if (options.insecureLocal && !['127.0.0.1', '::1', 'localhost'].includes(options.bind)) {
    throw new EvidentError('INVALID_ARGUMENT', `--insecure-local needs the server to listen on loopback only (--bind 127.0.0.1), not ${options.bind}`);
  }
  resolveLimits(options.limits); // bad limits are refused before anything is opened
  const witnesses = (options.witnesses ?? []).map(parseWitnessEndpoint);
  const key = loadLogKey({ key: options.logKey, dataDir: options.dataDir });
  const store = await openStore({ dataDir: options.dataDir, databaseUrl: options.databaseUrl, blobs: options.blobStore });
  try {
    const { key: recorded, unchecked } = await recordLogKey(store, key.signer.verifierKey, new Date().toISOString(), options.replaceLogKey ?? false);
    if (recorded !== key.signer.verifierKey) {
      throw new EvidentError('CONFLICT',
        `this database's checkpoints are signed with log key ${keyIdOf(recorded)}, but this server's log key is ${keyIdOf(key.signer.verifierKey)}: ` +
        'every server sharing a database must use the same --log-key (to change the key on purpose, start one server with --replace-log-key; clients that remember the old key will then refuse the new checkpoints)');
    }
    const services = createServices(store, key.signer, {
      evidence: { maxBytes: options.maxEvidenceBytes }, parsing: options.parsing, witnesses,
      witnessing: { timeoutMs: options.witnessTimeoutMs, warn: (message) => process.stderr.write(`evident: ${message}\n`) },
    });
    const { auth } = services;
    let bootstrap: RunningServer['bootstrap'];
    let demo: RunningServer['demo'];
    if (!(await auth.hasOrgs())) {
      const { org, created } = await auth.ensureOrg(options.defaultOrg ?? 'default');
      if (created) {
        const issued = await auth.issue(org, { name: 'first admin', role: 'admin', createdBy: 'evident server (first start)' });
        bootstrap = { org: org.name, token: issued.secret };
        // Seeded only by the process that created the first organisation, so a restart never seeds again.
        if (options.demo && org.name !== DEMO_ORG) demo = await seedDemo(store, key.signer);
      }
    }
    const app = await buildApp({
      services, insecureLocal: options.insecureLocal, defaultOrg: options.defaultOrg, logger: { level: options.logLevel ?? 'info', stream: process.stderr },
      trustProxy: options.trustProxy, failedAuthPerMinute: options.failedAuthPerMinute, limits: options.limits,
    });
    if (unchecked) {
      app.log.warn({ keyId: keyIdOf(recorded) },
        `recorded log key ${keyIdOf(recorded)} for a database that already holds log entries (made before log keys were recorded, or --replace-log-key): ` +
        'nothing stored shows which key signed its earlier checkpoints; clients that remember a checkpoint signed by another key will refuse the new ones');
    }
    await app.listen({ port: options.port, host: options.bind });
    const dora = new DoraFollower(services.dora, services.environments, store, (org, env, err) => {
      app.log.warn({ org: org.name, environment: env, err }, `DORA's ledger of ${org.name}/${env} could not be extended in the background (its next DORA request will say why): ${(err as Error).message}`);
    });
    services.log.onCommit((org, entries) => dora.committed(org, entries));
    // In the background: reads are served meanwhile, and an append to an org being loaded waits for its load.
    // DORA's ledgers next: they read the database a step at a time, and no append waits for them.
    const loadStart = performance.now();
    const mapsPreloaded = services.log.preloadMaps(options.preloadMapsFrom ?? PRELOAD_MAPS_FROM, (org, err) => {
      app.log.warn({ org: org.name, err }, `the subject map of ${org.name}'s log could not be loaded at start (its next append will say why): ${(err as Error).message}`);
    }).then(
      // Seconds on a log of millions of entries, with the CPU it takes from requests: operators (and
      // bench:verify, which waits for it) are told when it is over.
      () => app.log.info({ ms: Math.round(performance.now() - loadStart) }, 'subject maps loaded'),
      (err: unknown) => app.log.warn({ err }, `loading the subject maps at start failed: ${(err as Error).message}`),
    );
    const preloaded = mapsPreloaded
      .then(() => dora.preload(options.preloadDoraFrom ?? PRELOAD_MAPS_FROM))
      .catch((err: unknown) => app.log.warn({ err }, `building DORA's ledgers at start failed: ${(err as Error).message}`));
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : options.port;
    const host = options.bind.includes(':') ? `[${options.bind}]` : options.bind;
    return {
      app, store, url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`, verifierKey: services.log.verifierKeyFor({ name: options.defaultOrg ?? 'default' }),
      keyFile: key.file, keyCreated: key.created, bootstrap, demo, preloaded, mapsPreloaded,
      async close() {
        services.witnesses?.close();
        // Stops accepting (new requests on kept-alive connections get 503) and waits for those in flight;
        // then whatever they queued for the group commit is committed before the database is closed.
        await app.close();
        await services.log.settled();
        await dora.close();
        await services.witnesses?.idle();
        await services.parser.close();
        await store.close();
      },
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}
