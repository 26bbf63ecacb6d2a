export { EvidentClient } from './http-client.js';
export type { ClientOptions } from './http-client.js';
export * as schemas from './schemas.js';
export * as recordSchemas from './record-schemas.js';
export * as evidenceSchemas from './evidence-schemas.js';
export { expandEvidenceFiles, evidenceDestination, writeVerified } from './evidence-files.js';
export type { EvidenceFile } from './evidence-files.js';
export * as environmentSchemas from './environment-schemas.js';
export * as releaseSchemas from './release-schemas.js';
