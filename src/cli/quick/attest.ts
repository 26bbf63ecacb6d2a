import type { Handler } from '../context.js';
import { attestApproval, attestArtifact, attestGeneric } from '../commands/attest.js';
import { attestJUnit, attestProvenance } from '../commands/attest-reports.js';

// The attest bundle's commands on the fast path (main-quick.ts): the functions commander's actions call
// (test/cli/quick-parse.test.ts checks it). `attest snyk|sarif|pullrequest` and the attestation types adapt their
// options in their actions: commander's.
export const QUICK_HANDLERS: Readonly<Record<string, Handler>> = {
  'attest artifact': attestArtifact,
  'attest generic': attestGeneric,
  'attest approval': attestApproval,
  'attest junit': attestJUnit,
  'attest provenance': attestProvenance,
};
