export { main } from './run.js';
export { buildProgram } from './program.js';
export { resolveGlobals, readConfigFile } from './config.js';
export type { GlobalOptions, GlobalFlags } from './config.js';
export { exitCodeFor, EXIT } from './exit.js';
