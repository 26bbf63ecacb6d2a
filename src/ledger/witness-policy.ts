import { EvidentError, bytesEqual } from '../core/index.js';
import { checkCosignatures, parseCosignatureVerifierKey, type CosignatureResult, type CosignatureVerifier } from './cosignature.js';

/** "k of these n witnesses": a checkpoint is accepted only with valid cosignatures by at least k of them. */
export interface WitnessPolicy {
  witnesses: CosignatureVerifier[];
  threshold: number;
}

/** The policy as a package or a config file carries it. */
export interface WitnessPolicyJson {
  threshold: number;
  witnesses: string[];
}

/**
 * A policy from witness verifier keys and a threshold (default: all of them). The same public key twice is
 * refused: an Ed25519 cosignature does not commit to the witness name (C2SP tlog-cosignature), so one
 * signature would count twice.
 */
export function makeWitnessPolicy(keys: readonly string[], threshold?: number): WitnessPolicy {
  if (keys.length === 0) throw new EvidentError('INVALID_ARGUMENT', 'a witness policy needs at least one witness key');
  const witnesses: CosignatureVerifier[] = [];
  for (const key of keys) {
    const w = parseCosignatureVerifierKey(key);
    if (witnesses.some((x) => bytesEqual(x.publicKey, w.publicKey))) {
      throw new EvidentError('INVALID_ARGUMENT', `witness key ${w.name} is given twice (the same public key counts once)`);
    }
    witnesses.push(w);
  }
  const k = threshold ?? witnesses.length;
  if (!Number.isSafeInteger(k) || k < 1 || k > witnesses.length) {
    throw new EvidentError('INVALID_ARGUMENT', `the witness threshold must be from 1 to ${witnesses.length} (the number of witness keys), not ${threshold}`);
  }
  return { witnesses, threshold: k };
}

export function witnessPolicyJson(policy: WitnessPolicy): WitnessPolicyJson {
  return { threshold: policy.threshold, witnesses: policy.witnesses.map((w) => w.verifierKey) };
}

export function describeWitnessPolicy(policy: WitnessPolicy): string {
  return `${policy.threshold} of ${policy.witnesses.length} witness${policy.witnesses.length === 1 ? '' : 'es'} (${policy.witnesses.map((w) => w.name).join(', ')})`;
}

export interface WitnessPolicyVerdict {
  valid: number;
  required: number;
  results: CosignatureResult[];
  message: string;
}

/**
 * Counts the note's valid cosignatures by the policy's witnesses (each witness once) and throws
 * VERIFICATION_FAILED, naming how many are valid of how many required, when there are too few.
 */
export function checkWitnessPolicy(note: string, policy: WitnessPolicy): WitnessPolicyVerdict {
  const results = checkCosignatures(note, policy.witnesses);
  const valid = results.filter((r) => r.status === 'valid').length;
  const detail = results.map((r, i) => `${policy.witnesses[i]!.name}: ${r.status}`).join(', ');
  const required = policy.threshold;
  const message = `${valid} valid witness cosignature${valid === 1 ? '' : 's'} of ${required} required (policy ${policy.threshold} of ${policy.witnesses.length}; ${detail})`;
  if (valid < required) {
    throw new EvidentError('VERIFICATION_FAILED', `checkpoint refused: ${message}`, { details: { valid, required, witnesses: results } });
  }
  return { valid, required, results, message };
}
