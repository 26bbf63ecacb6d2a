export { canonicalJson, canonicalJsonBytes } from './canonical-json.js';
export {
  DirAccumulator, FINGERPRINT, IGNORE_FILES, checkExcludePattern, dirFingerprint, fromByteString, goClean, goMatch, isFingerprint,
  nameDigests, parseIgnoreFile, planDirWalk, resolveExcludes, sha256Hex, toByteString, unhashable,
} from './fingerprint.js';
export type { EntryKind, PlanOptions, TreeNode, WalkEntry, WalkPlan } from './fingerprint.js';
export { canonicalMembers, mergeCanonicalMembers } from './canonical-json.js';
export type { CanonicalMembers } from './canonical-json.js';
export { JUNIT_MAX_CHARS, JUNIT_MAX_DEPTH, JUNIT_MAX_FAILED_CASES, junitCompliant, mergeJUnit, parseJUnit } from './junit.js';
export type { JUnitFailedCase, JUnitReport, JUnitSuite, JUnitTotals } from './junit.js';
export { SARIF_MAX_CHARS, SARIF_MAX_TOP, parseSarif, sarifCompliant } from './sarif.js';
export type { SarifLevel, SarifReport, SarifSeverity, SarifThreshold, SarifTopResult } from './sarif.js';
