export { LogService } from './log-service.js';
export type { AppendedEntry, InclusionProofResult, ConsistencyProofResult, LogServiceOptions } from './log-service.js';
export { AuthService, authorize, hashSecret } from './auth.js';
export type { Principal, Action, IssuedToken } from './auth.js';
export { loadLogKey } from './log-key.js';
export type { LogKeyOptions, LoadedLogKey } from './log-key.js';
export { systemClock } from './clock.js';
export type { Clock } from './clock.js';
