import { Option, type Command } from 'commander';
import { action, intFlag, type Ctx } from '../context.js';

export interface ServerCommandOptions {
  port: number;
  bind: string;
  dataDir: string;
  databaseUrl?: string;
  logKey?: string;
  defaultOrg: string;
  logLevel: string;
  maxEvidenceMb: number;
  blobStore?: 'filesystem' | 'database';
  insecureLocal?: boolean;
  /** False with --no-demo (or EVIDENT_NO_DEMO=1). */
  demo: boolean;
  trustProxy?: string;
  failedAuthPerMinute?: number;
  replaceLogKey?: boolean;
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  bodyIdleTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  maxRequestsPerSocket?: number;
  maxConnectionsPerAddress?: number;
  maxConnections?: number;
  maxJsonDepth?: number;
  parseWorkers?: number;
  parseQueue?: number;
  parseTimeoutMs?: number;
  parseHeapMb?: number;
  shutdownTimeoutMs?: number;
  witness?: string[];
  witnessTimeoutMs?: number;
}

const collectWitness = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), ...value.split(/[\s,]+/).filter((w) => w !== '')];

/** The connection and request limits: flag, else environment variable (EVIDENT_ + the flag in upper case), else the default. */
const LIMIT_FLAGS = [
  ['headersTimeoutMs', '--headers-timeout-ms', 'time to receive the request headers, in ms', 1],
  ['requestTimeoutMs', '--request-timeout-ms', 'time to receive a whole request, headers and body, in ms', 1],
  ['bodyIdleTimeoutMs', '--body-idle-timeout-ms', 'longest pause while a request body arrives before the connection is cut, in ms', 1],
  ['keepAliveTimeoutMs', '--keep-alive-timeout-ms', 'how long an idle keep-alive connection stays open, in ms', 1],
  ['maxRequestsPerSocket', '--max-requests-per-socket', 'requests served on one keep-alive connection (0: no limit)', 0],
  ['maxConnectionsPerAddress', '--max-connections-per-address', 'open connections from one client address (0: no limit; raise it behind a proxy)', 0],
  ['maxConnections', '--max-connections', 'open connections in all (0: no limit)', 0],
  ['maxJsonDepth', '--max-json-depth', 'deepest nesting of arrays and objects in a JSON body', 1],
] as const;

/** Report parsing in worker threads (JUnit, SARIF, provenance): the same flag > env > default rule. */
const PARSE_FLAGS = [
  ['parseWorkers', 'workers', '--parse-workers', 'worker threads that parse report files (0: parse on the main thread)', 0, 'one per core beyond the first, 1 to 4'],
  ['parseQueue', 'maxQueue', '--parse-queue', 'report parses waiting for a worker before 503', 0, 16],
  ['parseTimeoutMs', 'timeoutMs', '--parse-timeout-ms', 'longest one report parse may run before 422, in ms', 1, 60_000],
  ['parseHeapMb', 'heapMb', '--parse-heap-mb', 'heap one report parse may use before 422, in MiB', 16, 1024],
] as const;

const envName = (flag: string) => 'EVIDENT_' + flag.slice(2).replace(/-/g, '_').toUpperCase();

/** `--trust-proxy`: true, false, a hop count, or proxy addresses/CIDRs separated by commas. */
export function parseTrustProxy(value: string | undefined): boolean | number | string | undefined {
  if (value === undefined || value === '' || value === 'false') return value === undefined ? undefined : false;
  if (value === 'true') return true;
  if (/^\d{1,3}$/.test(value)) return Number(value);
  return value;
}

export async function serverCommand(opts: ServerCommandOptions, ctx: Ctx): Promise<void> {
  // Loaded here, not at the top: every other command would pay for Fastify and the database drivers.
  const { startServer } = await import('../../server/index.js');
  const server = await startServer({
    port: opts.port, bind: opts.bind, dataDir: opts.dataDir, databaseUrl: opts.databaseUrl,
    logKey: opts.logKey, defaultOrg: opts.defaultOrg, logLevel: opts.logLevel,
    maxEvidenceBytes: opts.maxEvidenceMb * 1024 * 1024, blobStore: opts.blobStore, insecureLocal: opts.insecureLocal,
    demo: opts.demo && process.env.EVIDENT_NO_DEMO !== '1',
    replaceLogKey: opts.replaceLogKey,
    witnesses: opts.witness ?? collectWitness(process.env.EVIDENT_WITNESSES ?? '', []),
    witnessTimeoutMs: opts.witnessTimeoutMs ?? envInt('--witness-timeout-ms', 1),
    trustProxy: parseTrustProxy(opts.trustProxy ?? process.env.EVIDENT_TRUST_PROXY),
    failedAuthPerMinute: opts.failedAuthPerMinute ?? envInt('--failed-auth-per-minute', 1),
    limits: Object.fromEntries(LIMIT_FLAGS.map(([key, flag, , min]) => [key, opts[key] ?? envInt(flag, min)])),
    parsing: Object.fromEntries(PARSE_FLAGS.map(([key, option, flag, , min]) => [option, opts[key] ?? envInt(flag, min)])),
  });
  const out = ctx.printer;
  const store = opts.databaseUrl ? 'PostgreSQL' : `SQLite in ${opts.dataDir}`;
  const demo = server.demo
    ? { org: server.demo.org, token: server.demo.token, ui_url: `${server.url}/`, log_entries: server.demo.entries, seed_millis: server.demo.millis }
    : null;
  const info = { url: server.url, store, verifier_key: server.verifierKey, first_admin: server.bootstrap ?? null, demo };
  out.result(info, () => {
    out.text(`Evident is listening on ${server.url} (store: ${store})`);
    out.text(`Log verifier key of organisation ${opts.defaultOrg}: ${server.verifierKey}${server.keyCreated ? `  (new key written to ${server.keyFile})` : ''}`);
    out.text('(each organisation\'s log key is named after its checkpoint origin: evident log key --org ORG prints it)');
    const witnesses = opts.witness ?? [];
    if (witnesses.length > 0) out.text(`Submitting each new checkpoint to ${witnesses.length} witness${witnesses.length === 1 ? '' : 'es'}; GET log/checkpoint serves it with their cosignatures`);
    if (opts.insecureLocal) out.text('WARNING: --insecure-local: requests from this machine without a token act as admin.');
    if (server.bootstrap) {
      out.text('');
      out.text(`First start: created organisation "${server.bootstrap.org}" and its first admin API token.`);
      out.text('It is shown only this once; keep it somewhere safe:');
      out.text('');
      out.text(`  export EVIDENT_HOST=${server.url} EVIDENT_ORG=${server.bootstrap.org} EVIDENT_API_TOKEN=${server.bootstrap.token}`);
      out.text('');
      out.text('Then try: evident log checkpoint   and   evident verify log');
    }
    if (demo) {
      out.text('');
      out.text(`Demo: organisation "${demo.org}" holds six weeks of cyber-dojo's pipelines and environments (docs/demo.md).`);
      out.text(`Open ${demo.ui_url} in a browser and sign in by pasting this token (admin of ${demo.org}, shown only this once):`);
      out.text('');
      out.text(`  ${demo.token}`);
      out.text('');
      out.text('or use it from the CLI:');
      out.text('');
      out.text(`  export EVIDENT_HOST=${server.url} EVIDENT_ORG=${demo.org} EVIDENT_API_TOKEN=${demo.token}`);
      out.text('');
      out.text('Then try: evident list flows   evident release plan aws-beta aws-prod   evident assert snapshot aws-prod');
    }
  });
  handleShutdown(server, opts.shutdownTimeoutMs ?? envInt('--shutdown-timeout-ms', 1) ?? 25_000);
}

/**
 * SIGTERM (what a container runtime, systemd or Kubernetes sends) and SIGINT (Ctrl-C) shut down gracefully:
 * stop accepting, finish the requests in flight, commit what they queued, close the database, exit 0.
 * Exit 1 if that fails or takes longer than `timeoutMs`; a second signal exits at once (130 / 143).
 */
function handleShutdown(server: { close(): Promise<void> }, timeoutMs: number): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(signal === 'SIGINT' ? 130 : 143);
    stopping = true;
    process.stderr.write(`evident server: ${signal}: finishing the requests in flight, then exiting (a second ${signal} exits at once)\n`);
    const timer = setTimeout(() => {
      process.stderr.write(`evident server: shutdown took longer than ${timeoutMs} ms; exiting without finishing\n`);
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`evident server: shutdown failed: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

function envInt(flag: string, min: number): number | undefined {
  const value = process.env[envName(flag)];
  return value === undefined || value === '' ? undefined : intFlag(envName(flag), min)(value);
}

export function registerServer(program: Command): void {
  const command = program
    .command('server')
    .description('Run the Evident server (HTTP API) on the embedded SQLite store or on PostgreSQL')
    .option('--port <n>', 'TCP port to listen on (env EVIDENT_PORT)', intFlag('--port'), Number(process.env.EVIDENT_PORT ?? 8080))
    .option('--bind <address>', 'address to listen on (env EVIDENT_BIND)', process.env.EVIDENT_BIND ?? '127.0.0.1')
    .option('--data-dir <dir>', 'directory of the embedded store and the log key (env EVIDENT_DATA_DIR)', process.env.EVIDENT_DATA_DIR ?? '.evident-data')
    .option('--database-url <url>', 'postgres://… to use PostgreSQL instead of SQLite (env EVIDENT_DATABASE_URL)', process.env.EVIDENT_DATABASE_URL)
    .option('--log-key <key-or-file>', 'log signing key (PRIVATE+KEY+…) or a file holding it (env EVIDENT_LOG_KEY); default <data-dir>/log-key, created on first start', process.env.EVIDENT_LOG_KEY)
    .option('--default-org <name>', 'organisation created on first start', 'default')
    .option('--log-level <level>', 'server log level (fatal, error, warn, info, debug)', 'info')
    .option('--max-evidence-mb <n>', 'largest evidence file accepted, in MiB', intFlag('--max-evidence-mb', 1), 100)
    .option('--no-demo', 'on first start, do not seed the demo organisation cyber-dojo (env EVIDENT_NO_DEMO=1)')
    .option('--insecure-local', 'let requests without a token from this machine act as admin (only with --bind 127.0.0.1; for trying Evident out)')
    .option('--replace-log-key', "make this server's log key the one the database's checkpoints are signed with (a deliberate key change: the servers sharing the database refuse to start with any other key)")
    .option('--trust-proxy <proxies>', 'take the client address from X-Forwarded-For when the request comes through these proxies: true (any), a hop count, or addresses/CIDRs separated by commas (env EVIDENT_TRUST_PROXY; default: false)')
    .option('--failed-auth-per-minute <n>', 'failed authentications per (token prefix, client address) per minute before 429 (env EVIDENT_FAILED_AUTH_PER_MINUTE; default 60)', intFlag('--failed-auth-per-minute', 1))
    .option('--shutdown-timeout-ms <n>', 'on SIGTERM/SIGINT, how long the requests in flight get to finish before the server exits 1 (env EVIDENT_SHUTDOWN_TIMEOUT_MS; default 25000)', intFlag('--shutdown-timeout-ms', 1))
    .option('--witness <url=key>', 'a witness to submit each new checkpoint to, as URL=VERIFIER_KEY (repeatable; env EVIDENT_WITNESSES, separated by commas); the checkpoint served then carries their cosignatures', collectWitness)
    .option('--witness-timeout-ms <n>', 'longest wait for one witness answer, in ms; a VSA waits at most this + 1 s for its checkpoint\'s cosignatures (env EVIDENT_WITNESS_TIMEOUT_MS; default 5000)', intFlag('--witness-timeout-ms', 1))
    .addOption(new Option('--blob-store <kind>', 'where evidence files are kept (default: filesystem with SQLite, database with PostgreSQL)').choices(['filesystem', 'database']))
    .addHelpText('after', '\nOn first start it creates the default organisation and prints its first admin API token once,\nand seeds the demo organisation cyber-dojo (unless --no-demo) with its own admin token.\nExample:\n  evident server --port 8080 --data-dir ./.evident-data')
    .action(action<ServerCommandOptions>(serverCommand));
  for (const [, flag, description, min] of LIMIT_FLAGS) {
    const key = flag.slice(2) as keyof typeof DEFAULT_LIMIT_TEXT;
    command.option(`${flag} <n>`, `${description} (env ${envName(flag)}; default ${DEFAULT_LIMIT_TEXT[key]})`, intFlag(flag, min));
  }
  for (const [, , flag, description, min, fallback] of PARSE_FLAGS) {
    command.option(`${flag} <n>`, `${description} (env ${envName(flag)}; default ${fallback})`, intFlag(flag, min));
  }
}

/** The defaults as --help shows them (the server's DEFAULT_LIMITS; not imported, so --help does not load the server). */
const DEFAULT_LIMIT_TEXT = {
  'headers-timeout-ms': 10_000, 'request-timeout-ms': 300_000, 'body-idle-timeout-ms': 15_000, 'keep-alive-timeout-ms': 10_000,
  'max-requests-per-socket': 1000, 'max-connections-per-address': 128, 'max-connections': 8192, 'max-json-depth': 256,
};
