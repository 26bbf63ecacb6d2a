export { buildApp, VERSION } from './app.js';
export type { AppOptions } from './app.js';
export type { Services } from './context.js';
export { startServer } from './start.js';
export type { ServerOptions, RunningServer } from './start.js';
