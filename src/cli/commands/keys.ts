import path from 'node:path';
import type { Command } from 'commander';
import {
  generateWorkspaceKey, keysDir, loadWorkspaceSigner, readPublicKeyFile, trustPublicKey, trustedKeys,
} from '../../pipeline/index.js';
import { publicKeyPem } from '../../ledger/index.js';
import { action, type Ctx } from '../context.js';

// `evident keys generate|list|trust` (seed 003 §4.3 and §9.3): the Ed25519 keys `evident run --sign` signs
// receipts, provenance and in-toto links with, and the public keys `verify receipt --trusted-only` trusts.

interface WorkspaceFlag {
  workspace?: string;
}

const workspaceOf = (opts: WorkspaceFlag): string => path.resolve(opts.workspace ?? '.');

async function generate(opts: WorkspaceFlag & { name?: string; force?: boolean }, ctx: Ctx): Promise<void> {
  const workspace = workspaceOf(opts);
  const key = generateWorkspaceKey(workspace, { name: opts.name, force: opts.force });
  const dir = keysDir(workspace);
  const result = {
    key_id: key.keyId, name: key.name, public_key: key.text,
    private_key_file: path.join(dir, 'private.key'), public_key_file: path.join(dir, 'public.key'), trusted_as: key.name,
  };
  ctx.printer.result(result, () => {
    ctx.printer.text(`Keys generated at ${dir}/`);
    ctx.printer.text(`key id:     ${key.keyId}`);
    ctx.printer.text(`public key: ${key.text}`);
    ctx.printer.text(`trusted as: ${key.name}`);
  });
}

async function list(opts: WorkspaceFlag & { trusted?: boolean; pem?: boolean }, ctx: Ctx): Promise<void> {
  const workspace = workspaceOf(opts);
  const own = loadWorkspaceSigner(workspace);
  const trusted = trustedKeys(workspace);
  const pem = (hex: string) => publicKeyPem(new Uint8Array(Buffer.from(hex, 'hex')));
  const rows = trusted.map((t) => ({
    key_id: t.keyId, name: t.name, public_key: t.text, public_key_pem: pem(t.publicHex), trusted: true, workspace_key: t.keyId === own?.keyId,
  }));
  if (own && !rows.some((r) => r.workspace_key) && !opts.trusted) {
    rows.unshift({ key_id: own.keyId, name: '', public_key: own.text, public_key_pem: pem(own.publicHex), trusted: false, workspace_key: true });
  }
  ctx.printer.result(rows, () => {
    if (rows.length === 0) return ctx.printer.info(`No keys in ${keysDir(workspace)}: run evident keys generate`);
    if (opts.pem) {
      for (const r of rows) ctx.printer.text(`# ${r.name || 'workspace key'} (key id ${r.key_id})\n${r.public_key_pem}`);
      return;
    }
    ctx.printer.table(
      ['KEY ID', 'NAME', 'TRUSTED', 'WORKSPACE KEY'],
      rows.map((r) => [r.key_id, r.name || '-', r.trusted ? 'yes' : 'no', r.workspace_key ? 'yes' : '']),
    );
  });
}

async function trust(opts: WorkspaceFlag & { name?: string }, ctx: Ctx, args: string[]): Promise<void> {
  const file = args[0]!;
  const workspace = workspaceOf(opts);
  const key = readPublicKeyFile(file);
  const name = opts.name ?? path.basename(file).replace(/\.(pub|pem|key|json)$/, '').replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  const result = trustPublicKey(workspace, key, name || 'key');
  ctx.printer.result({ key_id: key.keyId, name: result.name, public_key: key.text, added: result.added }, () =>
    ctx.printer.text(result.added ? `Trusted ${key.keyId} as "${result.name}"` : `Already trusted as "${result.name}": ${key.keyId}`),
  );
}

export function registerKeys(program: Command): Command {
  const keys = program
    .command('keys')
    .description('Manage the Ed25519 keys that sign run receipts, provenance and in-toto links, and the keys you trust')
    .addHelpText(
      'after',
      `
Files (in the workspace):
  .evident/keys/private.key         the signing key, PKCS#8 PEM, mode 0600 (a group/world-readable key is refused)
  .evident/keys/public.key          its public key, "ed25519:<hex>"
  .evident/keys/trusted/NAME.pub    one trusted public key per file, "ed25519:<hex>"
A key id is the in-toto/securesystemslib key id (hex SHA-256 of the key's canonical JSON): the same id
appears in receipts, DSSE signatures and in-toto link file names. See docs/receipts.md.`,
    );
  const workspaceOption = ['--workspace <dir>', 'the workspace holding .evident/ (default: the current directory)'] as const;
  keys
    .command('generate')
    .description('Create the workspace signing key (and trust its public key)')
    .option('--name <name>', 'name to trust it under (default: this host name)')
    .option('--force', 'replace an existing key (receipts it signed stay verifiable by its public key)')
    .option(...workspaceOption)
    .addHelpText('after', '\nExamples:\n  evident keys generate --name ci-runner-1\n  cat .evident/keys/public.key     # safe to share')
    .action(action(generate));
  keys
    .command('list')
    .description('List the workspace key and the trusted keys: key id, name, trusted')
    .option('--trusted', 'only the trusted keys')
    .option('--pem', 'print each public key as SubjectPublicKeyInfo PEM (openssl, cosign), after a "# name (key id)" line')
    .option(...workspaceOption)
    .addHelpText('after', '\nExamples:\n  evident keys list\n  evident keys list --trusted --output json\n  evident keys list --pem')
    .action(action(list));
  keys
    .command('trust')
    .description("Trust a public key: receipts it signed pass `evident verify receipt --trusted-only`")
    .argument('<PUBFILE>', 'public key file: "ed25519:<hex>", securesystemslib JSON (in-toto .pub) or PEM')
    .option('--name <name>', 'name for the key (default: the file name without extension)')
    .option(...workspaceOption)
    .addHelpText('after', '\nExamples:\n  evident keys trust team-member.pub --name alice\n  evident keys trust /path/to/other/.evident/keys/public.key --name build-server')
    .action(action(trust));
  return keys;
}
