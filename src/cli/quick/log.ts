import type { Handler } from '../context.js';
import { logCheckpoint, logEntries, logKey, logProofConsistency, logProofInclusion } from '../commands/log.js';
import { logEnvironment } from '../commands/log-environment.js';

// The commands of the `log` bundle the fast path (main-quick.ts) runs without commander, by their path: each the
// very function commander's action calls (test/cli/quick-parse.test.ts checks it).
export const QUICK_HANDLERS: Readonly<Record<string, Handler>> = {
  'log checkpoint': logCheckpoint,
  'log key': logKey,
  'log entries': logEntries,
  'log proof inclusion': logProofInclusion,
  'log proof consistency': logProofConsistency,
  'log environment': logEnvironment,
};
