export { EvidentClient } from './http-client.js';
export type { ClientOptions } from './http-client.js';
export * as schemas from './schemas.js';
export * as recordSchemas from './record-schemas.js';
