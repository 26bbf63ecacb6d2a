import type { Command } from 'commander';
import { EvidentError } from '../../core/index.js';
import { makeWitnessPolicy, type WitnessPolicy, type WitnessPolicyJson } from '../../ledger/index.js';
import { intFlag } from '../context.js';
import type { GlobalOptions } from '../config.js';

export interface WitnessPolicyFlags {
  witness?: string[];
  witnessThreshold?: number;
}

/** Witness verifier keys separated by commas or white space (they contain neither): one flag or one variable may hold several. */
const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), ...value.split(/[\s,]+/).filter((k) => k !== '')];

/** `--witness KEY` (repeatable) and `--witness-threshold K`; the flag table adds EVIDENT_WITNESS and EVIDENT_WITNESS_THRESHOLD. */
export function addWitnessOptions(cmd: Command): Command {
  return cmd
    .option('--witness <verifier-key>', 'a witness whose cosignature counts toward the witness policy (repeatable; env EVIDENT_WITNESS, separated by commas; config file key witnesses)', collect)
    .option('--witness-threshold <k>', 'how many of the --witness keys must have cosigned the checkpoint (env EVIDENT_WITNESS_THRESHOLD; default: all of them)', intFlag('--witness-threshold', 1));
}

export interface ChosenPolicy {
  policy: WitnessPolicy;
  source: 'flags' | 'config' | 'package';
}

/**
 * The witness policy a verifier applies: the user's (flags or environment, else the config file) when given —
 * a package can neither replace nor lower it — else the policy a package says it was made under.
 */
export function chooseWitnessPolicy(flags: WitnessPolicyFlags, globals: Pick<GlobalOptions, 'witnesses' | 'witnessThreshold'>, carried?: WitnessPolicyJson): ChosenPolicy | undefined {
  if (flags.witness?.length) return { policy: makeWitnessPolicy(flags.witness, flags.witnessThreshold ?? globals.witnessThreshold), source: 'flags' };
  if (flags.witnessThreshold !== undefined && globals.witnesses.length === 0) {
    throw new EvidentError('INVALID_ARGUMENT', '--witness-threshold needs witness keys: give them with --witness (or EVIDENT_WITNESS, or witnesses: in the config file)');
  }
  if (globals.witnesses.length > 0) return { policy: makeWitnessPolicy(globals.witnesses, flags.witnessThreshold ?? globals.witnessThreshold), source: 'config' };
  if (carried) return { policy: makeWitnessPolicy(carried.witnesses, carried.threshold), source: 'package' };
  return undefined;
}
