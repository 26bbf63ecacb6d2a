import fs from 'node:fs';
import type { Command } from 'commander';
import { EvidentError } from '../../core/index.js';
import { parseVerifierKey, verifierFromPublicKey, type NoteVerifier } from '../../ledger/index.js';
import { recheckVsa, type VsaRecheck } from '../../services/index.js';
import { action, type Ctx } from '../context.js';
import { trustedLogKey } from '../verify/pinned-key.js';
import { checkRememberedCheckpoint, printConflict, type CheckpointConflict } from '../verify/remembered.js';
import { VerifierState } from '../verify/state.js';
import { addWitnessOptions, chooseWitnessPolicy, type WitnessPolicyFlags } from '../verify/witness-policy.js';
import { checkWitnessed } from '../verify/witnessed.js';

// `evident verify vsa FILE`: re-derives a VSA's verdict offline from what it carries (docs/log.md "VSA"):
// the DSSE signature, the checkpoint note, each named entry's digest, leaf hash and inclusion proof, then the
// policy evaluation over the entries. Exit 1 when a check fails or the recomputed verdict is not the signed one.

const MAX_FILE = 256 * 1024 * 1024;

/**
 * The log key: a note verifier key (`name+hash+base64`, as `verify log --key`), or `ed25519:<hex>` (as `assert
 * --vsa` prints), whose note key name is then read from the checkpoint's signature lines.
 */
function keyOf(text: string, file: unknown): NoteVerifier {
  const raw = /^ed25519:([0-9a-f]{64})$/.exec(text);
  if (!raw) return parseVerifierKey(text);
  const note = (file as { evidentLog?: { checkpoint?: unknown } } | null)?.evidentLog?.checkpoint;
  const pub = Buffer.from(raw[1]!, 'hex');
  // C2SP signed-note signature lines: "— <name> base64(4-byte key ID ‖ signature)".
  for (const m of typeof note === 'string' ? note.matchAll(/^\u2014 (\S+) (\S+)$/gmu) : []) {
    const v = verifierFromPublicKey(m[1]!, pub);
    const sig = Buffer.from(m[2]!, 'base64');
    if (sig.length >= 4 && sig.readUInt32BE(0) === v.keyId >>> 0) return v;
  }
  // No signature line by this key: the re-check reports the file (malformed, or a checkpoint not signed by it).
  return verifierFromPublicKey('evident', pub);
}

/** Each org's checkpoints are signed by the log key under the org's origin as key name (docs/log.md). */
function checkpointVerifier(verifier: NoteVerifier, origin: string): NoteVerifier {
  if (verifier.name === origin) return verifier;
  const raw = Buffer.from(verifier.verifierKey.split('+').slice(2).join('+'), 'base64');
  return verifierFromPublicKey(origin, raw.subarray(1));
}

/**
 * The VSA's checkpoint against the one this client remembers for its log (as every verifier command does,
 * docs/log.md "Every verifier command remembers checkpoints"): an older one must be a prefix of what was
 * seen, a newer one extends it. Consistency proofs come from the host when one is given for this log.
 */
async function remembered(ctx: Ctx, opts: WitnessPolicyFlags & { offline?: boolean }, verifier: NoteVerifier, note: string, report: VsaRecheck): Promise<CheckpointConflict | null> {
  const origin = report.checkpoint!.origin;
  const cpVerifier = checkpointVerifier(verifier, origin);
  let source: ReturnType<Ctx['client']> | undefined;
  if (ctx.globals.hostGiven && !opts.offline) {
    const client = ctx.client();
    // Proofs only from the host that serves this very log: another log's proofs would look like a fork.
    const served = await client.logKey().then((k) => k.origin, (err: unknown) => {
      // The VSA is checked offline; a host that cannot be reached only means no proof for a newer size.
      if (err instanceof EvidentError && err.code === 'UNAVAILABLE') return null;
      throw err;
    });
    if (served === origin) source = client;
    else ctx.printer.info(`Note: ${served === null ? `${ctx.globals.host} cannot be reached` : `${ctx.globals.host} serves another log than ${origin}`}; checking against the last checkpoint seen offline.`);
  }
  const chosen = chooseWitnessPolicy(opts, ctx.globals);
  // A VSA carries the checkpoint it was decided at, which witnesses may not have cosigned yet: with a host, the
  // host's witnessed checkpoint stands in for it once it is proven a prefix of it (witnessed.ts).
  const witnessed = (checkpoint: Parameters<typeof checkWitnessed>[0]['checkpoint']) => checkWitnessed({ chosen, note, checkpoint, verifier: cpVerifier, origin, source });
  const seen = await checkRememberedCheckpoint({ state: new VerifierState(ctx.globals.stateDir), origin, verifier: cpVerifier, note, source, served: false, witnessed });
  if (seen.witness) report.checks.push(seen.witness);
  report.checks.push(seen.check);
  if (!seen.check.ok) {
    report.ok = false;
    if (seen.conflict) return seen.conflict;
  }
  return null;
}

async function verifyVsa(opts: WitnessPolicyFlags & { key?: string; offline?: boolean }, ctx: Ctx, [file]: string[]): Promise<void> {
  let text: string;
  try {
    if (fs.statSync(file!).size > MAX_FILE) throw new EvidentError('INVALID_ARGUMENT', `${file} is larger than ${MAX_FILE} bytes`);
    text = fs.readFileSync(file!, 'utf8');
  } catch (err) {
    if (err instanceof EvidentError) throw err;
    throw new EvidentError('INVALID_ARGUMENT', `cannot read ${file}: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new EvidentError('INVALID_ARGUMENT', `${file} is not JSON: ${(err as Error).message}`);
  }
  const keyText = opts.key ?? (await trustedLogKey(ctx)).keyText;
  const verifier = keyOf(keyText, value);
  const report = recheckVsa(value, verifier);
  const note = (value as { evidentLog?: { checkpoint?: string } }).evidentLog?.checkpoint;
  const conflict = report.ok && report.checkpoint && note ? await remembered(ctx, opts, verifier, note, report) : null;
  ctx.printer.result({ ...report, conflict }, () => {
    for (const c of report.checks) ctx.printer.text(`${c.ok ? '[OK]' : '[FAIL]'} ${c.message}`);
    for (const s of report.subjects) ctx.printer.text(`  ${s.compliant ? 'COMPLIANT' : 'NON-COMPLIANT'}  ${s.name}  ${s.fingerprint}`);
    if (conflict) printConflict(ctx.printer, keyText, conflict);
  });
  if (!report.ok) {
    const first = report.checks.find((c) => !c.ok);
    throw new EvidentError(report.malformed ? 'INVALID_ARGUMENT' : 'VERIFICATION_FAILED', `VSA verification failed: ${first?.message ?? 'unknown'}`);
  }
}

export function registerVerifyVsa(verify: Command): void {
  const vsa = verify
    .command('vsa')
    .description('Re-check a VSA written by assert --vsa offline: signature, checkpoint, entries and proofs, and its verdict recomputed')
    .argument('<FILE>', 'the VSA file (DSSE envelope with its evidentLog), e.g. app.vsa.json')
    .option('--key <key>', 'the log key: a verifier key name+hash+base64 (as verify log --key) or ed25519:<hex> (as assert --vsa prints); default: EVIDENT_VERIFIER_KEY, else the key pinned for this server and org')
    .option('--offline', 'do not ask the host for a consistency proof between the VSA\'s checkpoint and the last one this client saw')
    .addHelpText(
      'after',
      `
Checks, one line each:
  [OK] Signed by the log key               DSSE signature over the in-toto Statement (SLSA VSA v1)
  [OK] Checkpoint ... as the VSA names it  the carried signed note is the checkpoint the statement names
  [OK] N input entries carried             each named entry is carried, matches its digest and leaf hash,
                                           and its inclusion proof leads to the checkpoint's root
  [OK] Verdict recomputed ...              the policies re-run over the entries give the signed verdict
  [OK] ... checkpoint seen before          the VSA's checkpoint is consistent with the last one this client
                                           saw for that log (~/.evident/checkpoints; a proof from the host
                                           when one is given), else both signed notes are printed
  [OK] Witnessed: ...                      with a witness policy (--witness KEY repeated, --witness-threshold K,
                                           or EVIDENT_WITNESS / the config file): the checkpoint, or the host's
                                           witnessed checkpoint that proves it a prefix, has k valid cosignatures
Exit status: 0 verified, 1 a check failed (an input left out, a proof or signature that does not check,
a verdict that differs, too few witness cosignatures), 2 not a VSA file. The format: docs/log.md "VSA".

Examples:
  evident assert artifact --fingerprint $FP --environment production --vsa app.vsa.json
  evident verify vsa app.vsa.json --key ed25519:3b6a27bc...`,
    );
  addWitnessOptions(vsa).action(action(verifyVsa));
}
