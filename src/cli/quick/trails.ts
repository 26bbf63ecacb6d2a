import type { Handler } from '../context.js';
import { beginTrail, getTrail, listTrails } from '../commands/trails.js';

// The trails bundle's commands on the fast path (main-quick.ts): the functions commander's actions call
// (test/cli/quick-parse.test.ts checks it).
export const QUICK_HANDLERS: Readonly<Record<string, Handler>> = {
  'begin trail': beginTrail,
  'get trail': getTrail,
  'list trails': listTrails,
};
