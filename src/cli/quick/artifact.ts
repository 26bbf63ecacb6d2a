import type { Handler } from '../context.js';
import { getArtifact } from '../commands/get-artifact.js';

// `get artifact` on the fast path (main-quick.ts): the function commander's action calls (test/cli/quick-parse.test.ts).
export const QUICK_HANDLERS: Readonly<Record<string, Handler>> = { 'get artifact': getArtifact };
