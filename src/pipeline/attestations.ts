import type { RunObserver } from './types.js';

/** What `evident run` asks of the attestation writers (issue #6 items 5-7). */
export interface AttestationOptions {
  /** Absolute path of the workspace (the directory holding attest.yaml). */
  workspace: string;
  /** Sign the receipt and provenance with the workspace key: `--sign` or `attestation.sign_all_steps`. */
  sign: boolean;
  /** Write per-artifact provenance under .evident/provenance/ as each artifact's steps succeed. */
  provenance: boolean;
  /** `--in-toto DIR [--layout-key KEY]`: one v0.9 link per step, owner.pub and a signed root.layout. */
  inToto?: { dir: string; layoutKey?: string };
  /** Diagnostics for stderr (never stdout). */
  log?: (line: string) => void;
}

/** The observers that write receipts, provenance and in-toto links for one run. Placeholder until they exist. */
export async function attestationObservers(options: AttestationOptions): Promise<RunObserver[]> {
  void options;
  return [];
}
