import type { Command } from 'commander';
import { checkName, checkRole } from '../../core/index.js';
import { action, type Ctx } from '../context.js';

export interface CreateTokenOptions {
  role: string;
  name: string;
  expiresAt?: string;
  dataDir: string;
  databaseUrl?: string;
}

/** Works on the store directly (no server needed): for bootstrapping and automation. */
export async function adminCreateToken(opts: CreateTokenOptions, ctx: Ctx): Promise<void> {
  if (ctx.globals.dryRun) {
    checkName('organisation', ctx.globals.org);
    checkRole(opts.role);
    const plan = { org: ctx.globals.org, role: opts.role, name: opts.name, expires_at: opts.expiresAt ?? null, store: opts.databaseUrl ? 'postgres' : opts.dataDir };
    ctx.printer.info(`dry run: would create a ${opts.role} token "${opts.name}" for organisation ${ctx.globals.org} (nothing written)`);
    ctx.printer.result({ dry_run: true, ...plan }, () => undefined);
    return;
  }
  // Loaded here, not at the top, so that other commands do not load the database drivers.
  const [{ openStore }, { AuthService }] = await Promise.all([import('../../store/index.js'), import('../../services/index.js')]);
  const store = await openStore({ dataDir: opts.dataDir, databaseUrl: opts.databaseUrl });
  try {
    const auth = new AuthService(store);
    // --org is the global flag (flag > EVIDENT_ORG > config file), as for every other command.
    const { org, created } = await auth.ensureOrg(ctx.globals.org);
    if (created) ctx.printer.info(`created organisation ${org.name}`);
    const issued = await auth.issue(org, { name: opts.name, role: opts.role, expiresAt: opts.expiresAt ?? null, createdBy: 'evident admin create-token' });
    ctx.printer.result({ token: issued.secret, id: issued.token.id, org: org.name, role: issued.token.role, expires_at: issued.token.expiresAt }, () =>
      ctx.printer.text(issued.secret),
    );
  } finally {
    await store.close();
  }
}

export interface BackupOptions {
  dataDir: string;
  to: string;
}

/** A consistent copy of a SQLite data directory, taken while the server runs (docs/deploy.md "Backups"). */
export async function adminBackup(opts: BackupOptions, ctx: Ctx): Promise<void> {
  const { backupSqlite } = await import('../../store/index.js');
  const done = await backupSqlite(opts.dataDir, opts.to);
  ctx.printer.result({ to: opts.to, database_bytes: done.databaseBytes, blobs: done.blobs, log_key: done.logKey }, () =>
    ctx.printer.text(`Backed up ${opts.dataDir} to ${opts.to}: database ${done.databaseBytes} bytes, ${done.blobs} evidence files${done.logKey ? ', the log key' : ''}. Restore: start the server with --data-dir ${opts.to}, then evident verify log --full.`),
  );
}

export function registerAdmin(program: Command): void {
  const admin = program.command('admin').description('Administration directly on the store (no server needed)');
  admin
    .command('create-token')
    .description('Create an API token (and the organisation if needed); prints only the token')
    .requiredOption('--role <role>', 'admin | member | reporter | reader')
    .option('--name <name>', 'a label for the token', 'created by evident admin')
    .option('--expires-at <time>', 'ISO-8601 expiry time (default: never)')
    .option('--data-dir <dir>', 'embedded store directory (env EVIDENT_DATA_DIR)', process.env.EVIDENT_DATA_DIR ?? '.evident-data')
    .option('--database-url <url>', 'postgres://… (env EVIDENT_DATABASE_URL)', process.env.EVIDENT_DATABASE_URL)
    .addHelpText('after', '\nThe organisation is the global --org (created if missing).\nExample:\n  export EVIDENT_API_TOKEN=$(evident admin create-token --org acme --role reporter)')
    .action(action<CreateTokenOptions>(adminCreateToken));
  admin
    .command('backup')
    .description('Copy a SQLite data directory (database, evidence files, log key) consistently, while the server runs')
    .requiredOption('--to <dir>', 'new or empty directory for the copy')
    .option('--data-dir <dir>', 'embedded store directory (env EVIDENT_DATA_DIR)', process.env.EVIDENT_DATA_DIR ?? '.evident-data')
    .addHelpText('after', '\nThe database is copied with SQLite\'s online backup API: one consistent moment, however many writes\nhappen meanwhile. PostgreSQL: use pg_dump. After a restore, run evident verify log --full.\nExample:\n  evident admin backup --data-dir /data --to /backups/evident-$(date +%F)')
    .action(action<BackupOptions>(adminBackup));
}
