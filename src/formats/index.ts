export { canonicalJson, canonicalJsonBytes } from './canonical-json.js';
export {
  DirAccumulator, FINGERPRINT, IGNORE_FILES, checkExcludePattern, dirFingerprint, fromByteString, goClean, goMatch, isFingerprint,
  nameDigests, parseIgnoreFile, planDirWalk, resolveExcludes, sha256Hex, toByteString, unhashable,
} from './fingerprint.js';
export type { EntryKind, PlanOptions, TreeNode, WalkEntry, WalkPlan } from './fingerprint.js';
export { canonicalMembers, mergeCanonicalMembers } from './canonical-json.js';
export type { CanonicalMembers } from './canonical-json.js';
