import type { Handler } from '../context.js';

// The commands the fast path (main-quick.ts) runs without commander, by the key quick-table.ts gives them: here
// none (`evident --version` is main-quick.ts's own).
export const QUICK_HANDLERS: Readonly<Record<string, Handler>> = {};
