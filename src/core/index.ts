export { EvidentError, isEvidentError, assertNoProblems } from './errors.js';
export type { ErrorCode, ProblemDetail, ErrorOptions } from './errors.js';
export { isValidName, checkName, checkRole, ROLES } from './names.js';
export type { Role } from './names.js';
export { toHex, fromHex, toBase64, fromBase64, bytesEqual } from './encoding.js';
export { DIGEST_PATTERN, isDigest, checkDigest, sanitiseEvidenceName } from './evidence.js';
export { VERSION } from './version.js';
export { xmlLib, yamlLib } from './lazy-modules.js';
