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
}

export async function serverCommand(opts: ServerCommandOptions, ctx: Ctx): Promise<void> {
  // Loaded here, not at the top: every other command would pay for Fastify and the database drivers.
  const { startServer } = await import('../../server/index.js');
  const server = await startServer({
    port: opts.port, bind: opts.bind, dataDir: opts.dataDir, databaseUrl: opts.databaseUrl,
    logKey: opts.logKey, defaultOrg: opts.defaultOrg, logLevel: opts.logLevel,
    maxEvidenceBytes: opts.maxEvidenceMb * 1024 * 1024, blobStore: opts.blobStore, insecureLocal: opts.insecureLocal,
    demo: opts.demo && process.env.EVIDENT_NO_DEMO !== '1',
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
  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

export function registerServer(program: Command): void {
  program
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
    .addOption(new Option('--blob-store <kind>', 'where evidence files are kept (default: filesystem with SQLite, database with PostgreSQL)').choices(['filesystem', 'database']))
    .addHelpText('after', '\nOn first start it creates the default organisation and prints its first admin API token once,\nand seeds the demo organisation cyber-dojo (unless --no-demo) with its own admin token.\nExample:\n  evident server --port 8080 --data-dir ./.evident-data')
    .action(action<ServerCommandOptions>(serverCommand));
}
