import type { Handler } from '../context.js';
import { archiveFlow, getFlow, listFlows, tagFlow } from '../commands/flows.js';

// The commands of the flows bundle the fast path (main-quick.ts) runs without commander, by their path: each the
// very function commander's action calls (test/cli/quick-parse.test.ts checks it). `create flow` adapts its
// options in its action: commander's.
export const QUICK_HANDLERS: Readonly<Record<string, Handler>> = {
  'list flows': listFlows,
  'get flow': getFlow,
  'archive flow': archiveFlow,
  'tag flow': tagFlow,
};
