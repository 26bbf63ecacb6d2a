export { buildApp, VERSION } from './app.js';
export type { AppOptions } from './app.js';
export type { Services } from './context.js';
export { startServer } from './start.js';
export type { ServerOptions, RunningServer } from './start.js';
export { DEFAULT_LIMITS, resolveLimits } from './limits.js';
export type { ServerLimits } from './limits.js';
export { buildWitnessApp, startWitness } from './witness-app.js';
export type { WitnessServerOptions, RunningWitness } from './witness-app.js';
