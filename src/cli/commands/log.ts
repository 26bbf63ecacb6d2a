import type { Command } from 'commander';
import { EvidentError } from '../../core/index.js';
import { action, intFlag, type Ctx } from '../context.js';

/** `evident log key [--pem]`: the org's verifier key; the PEM is derived here from it, not taken from the server. */
export async function logKey(opts: { pem?: boolean }, ctx: Ctx): Promise<void> {
  // The ledger module is loaded here, not with the command: `log checkpoint` and the proofs do not need it.
  const [key, { verifierKeyPem }] = await Promise.all([ctx.client().logKey(), import('../../ledger/index.js')]);
  const pem = verifierKeyPem(key.verifier_key);
  ctx.printer.result({ verifier_key: key.verifier_key, origin: key.origin, public_key_pem: pem }, () => ctx.printer.text(opts.pem ? pem : key.verifier_key));
}

export async function logCheckpoint(_opts: object, ctx: Ctx): Promise<void> {
  const note = await ctx.client().checkpoint();
  ctx.printer.result({ note }, () => process.stdout.write(note));
}

export interface LogEntriesOptions {
  start: number;
  end?: number;
}

/** Follows the pages until `end` (exclusive; default: the current tree size). */
export async function logEntries(opts: LogEntriesOptions, ctx: Ctx): Promise<void> {
  const client = ctx.client();
  const items: { index: number; leaf_hash: string; entry: string }[] = [];
  let start = opts.start;
  for (;;) {
    const page = await client.logEntries(start, opts.end);
    items.push(...page.items);
    if (page.next_cursor === null || page.items.length === 0) break;
    start = Number(page.next_cursor);
  }
  ctx.printer.result(items, () =>
    ctx.printer.table(
      ['INDEX', 'LEAF HASH', 'TYPE', 'TIME'],
      items.map((e) => {
        const parsed = JSON.parse(e.entry) as { type?: string; time?: string };
        return [e.index, e.leaf_hash, parsed.type, parsed.time];
      }),
    ),
  );
}

export interface InclusionOptions {
  index?: number;
  leafHash?: string;
  size?: number;
}

export async function logProofInclusion(opts: InclusionOptions, ctx: Ctx): Promise<void> {
  if ((opts.index === undefined) === (opts.leafHash === undefined)) {
    throw new EvidentError('INVALID_ARGUMENT', 'give exactly one of --index and --leaf-hash');
  }
  const proof = await ctx.client().inclusionProof({ index: opts.index, leafHash: opts.leafHash, treeSize: opts.size });
  ctx.printer.result(proof, () => {
    ctx.printer.text(`index ${proof.index} in tree of size ${proof.tree_size}\nleaf hash ${proof.leaf_hash}`);
    proof.hashes.forEach((h, i) => ctx.printer.text(`  ${i}: ${h}`));
  });
}

export interface ConsistencyOptions {
  from: number;
  to?: number;
}

export async function logProofConsistency(opts: ConsistencyOptions, ctx: Ctx): Promise<void> {
  const proof = await ctx.client().consistencyProof(opts.from, opts.to);
  ctx.printer.result(proof, () => {
    ctx.printer.text(`consistency of tree size ${proof.from} with tree size ${proof.to}`);
    proof.hashes.forEach((h, i) => ctx.printer.text(`  ${i}: ${h}`));
  });
}

/** Registers `log` and its subcommands; returns the `log` command (`log environment` is added to it elsewhere). */
export function registerLog(program: Command): Command {
  const log = program
    .command('log')
    .description("Read the org's tamper-evident log: key, checkpoint, entries and proofs (for scripts and outside verifiers)");
  log
    .command('key')
    .description("Print the org's log verifier key (C2SP signed-note format; its name is the checkpoint origin)")
    .option('--pem', 'print the Ed25519 public key as SubjectPublicKeyInfo PEM instead (openssl, cosign)')
    .addHelpText('after', '\nExamples:\n  evident log key > log.vkey\n  evident log key --pem > log.pem && openssl pkey -pubin -in log.pem -noout -text')
    .action(action(logKey));
  log.command('checkpoint').description('Print the latest signed checkpoint, verbatim').action(action(logCheckpoint));
  log
    .command('entries')
    .description('Print log entries start <= index < end, each with its leaf hash and exact canonical JSON')
    .option('--start <n>', 'first index', intFlag('--start'), 0)
    .option('--end <n>', 'end index, exclusive (default: the tree size)', intFlag('--end'))
    .addHelpText('after', '\nExample:\n  evident log entries --start 0 --end 10 --output json')
    .action(action<LogEntriesOptions>(logEntries));
  const proof = log.command('proof').description('Print RFC 9162 proofs');
  proof
    .command('inclusion')
    .description('Inclusion proof of one entry in the tree of a given size')
    .option('--index <n>', 'entry index', intFlag('--index'))
    .option('--leaf-hash <hex>', 'find the entry by its leaf hash instead')
    .option('--size <n>', 'tree size (default: the current size)', intFlag('--size', 1))
    .action(action<InclusionOptions>(logProofInclusion));
  proof
    .command('consistency')
    .description('Consistency proof between two tree sizes')
    .requiredOption('--from <n>', 'older tree size', intFlag('--from'))
    .option('--to <n>', 'newer tree size (default: the current size)', intFlag('--to'))
    .action(action<ConsistencyOptions>(logProofConsistency));
  return log;
}
