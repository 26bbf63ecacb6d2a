export { LogService } from './log-service.js';
export { LogTiles } from './log-tiles.js';
export type { TileBytes } from './log-tiles.js';
export type { AppendedEntry, InclusionProofResult, ConsistencyProofResult, LogServiceOptions } from './log-service.js';
export { AuthService, authorize, hashSecret } from './auth.js';
export { WebSessionService, WEB_SESSION_TTL_MS, WEB_SESSIONS_PER_TOKEN, csrfMatches } from './web-sessions.js';
export type { WebSessionInfo, StartedWebSession } from './web-sessions.js';
export type { Principal, Action, IssuedToken } from './auth.js';
export { loadLogKey, loadWitnessKey } from './log-key.js';
export type { LogKeyOptions, LoadedLogKey, LoadedWitnessKey } from './log-key.js';
export { WitnessService, conflictSize } from './witness.js';
export type { WitnessOptions } from './witness.js';
export { WitnessSubmitter, parseWitnessEndpoint } from './witness-submitter.js';
export type { WitnessEndpoint, WitnessSubmitterOptions } from './witness-submitter.js';
export { systemClock } from './clock.js';
export type { Clock } from './clock.js';
export {
  FlowService, TrailService, ArtifactService, AttestationService, AttestationTypeService, EvidenceAttestationService, parseAttestationName,
} from './records/index.js';
export type { EvidenceAttestationInput, SarifAttestationInput } from './records/index.js';
export { FLOW_SORTS, TAG_KEY_PATTERN, TAG_VALUE_MAX, TAGS_MAX, complianceOfArtifact, complianceOfTrail, recordedAttestation, summarizeFlows, templateOf } from './records/index.js';
export type { FlowOverviewQuery, FlowSort, FlowSummary, TagChange } from './records/index.js';
export type {
  CreateFlowInput, BeginTrailInput, ReportArtifactInput, ArtifactView, ComplianceState, AttestationInput, GenericAttestationInput,
  ApprovalInput, PullRequestInput, SearchHit, CustomAttestationInput, CreateAttestationTypeInput, CustomEvaluation,
} from './records/index.js';
export type { Projector } from './log-service.js';
export { createServices } from './bundle.js';
export type { ServiceBundle } from './bundle.js';
export {
  ARTIFACT_TYPES, fingerprint, fingerprintDir, fingerprintDocker, fingerprintFileList, fingerprintFile, fingerprintOci, dockerCredentials, formatReference,
  parseChallenge, parseImageReference, pickRepoDigest, MANIFEST_TYPES,
} from './fingerprint/index.js';
export type {
  ArtifactType, DirFingerprintOptions, DockerOptions, FingerprintOptions, ImageReference, OciOptions, RegistryCredentials,
} from './fingerprint/index.js';
export { VaultService, DEFAULT_MAX_EVIDENCE_BYTES } from './vault.js';
export { CacheService, CACHE_KEY_PATTERN, MAX_CACHE_ENTRY_BYTES, MAX_ENTRIES_PER_KEY, MAX_KEY_IDS_PER_QUERY } from './cache.js';
export type { CacheEntryInput, StoredCacheEntry } from './cache.js';
export { TurboCacheService, TURBO_HASH_PATTERN, TURBO_TAG_PATTERN, MAX_TURBO_QUERY_HASHES } from './turbo-cache.js';
export type { TurboArtifact } from './turbo-cache.js';
export { BazelCacheService, BAZEL_DIGEST_PATTERN } from './bazel-cache.js';
export type { BazelActionResult } from './bazel-cache.js';
export type { VaultOptions, EvidenceItem, EvidencePart, EvidenceDownload } from './vault.js';
export { EnvironmentService, ENVIRONMENT_TYPES, parseSnapshotExpr } from './records/index.js';
export type { CreateEnvironmentInput, EnvironmentEvent, ReportedArtifact, SnapshotView, SnapshotExpr } from './records/index.js';
export { DriftService, assessDrift, diffSnapshots } from './records/index.js';
export type { DiffArtifact, SnapshotDiff } from './records/index.js';
export type { DriftItem, DriftReport, DriftState } from './records/index.js';
export { describeSnapshot, describeSnapshots, ReleasePlanService, planRelease, parseCommitUrl, compareUrl } from './records/index.js';
export type {
  DescribedArtifact, DescribedSnapshot, PlanArtifact, PlanSide, PlanOptions, PlanEnd, ReleasePlan, ReleasePlanItem, ReleasePlanReport, UnchangedFlow,
  InProgressFlow, UnmatchedArtifact, CommitUrl, GitProvider,
} from './records/index.js';
export { PolicyService, parsePolicyRef, policiesAt, AllowanceService, ComplianceService, AssertService, VSA_PREDICATE_TYPE, buildVsa, signVsa, signerPublicKey } from './records/index.js';
export { recheckVsa, parseEvidentUri, checkpointUri, entryUri } from './records/index.js';
export type { VsaRecheck, VsaCheck, VsaLog, EvidentUri } from './records/index.js';
export type {
  CreatePolicyInput, AttachResult, ArtifactComplianceResult, PolicyResult, ShownRuleEvaluation, SnapshotCompliance, AssertArtifactInput, AssertFailure, AssertResult,
  VsaInput, VsaPredicate,
} from './records/index.js';
export { DoraService, DoraFollower, DORA_BUCKETS, aggregateDora, doraWindow, nearestRank } from './records/index.js';
export type { DoraBucket, DoraDeployment, DoraQuery, DoraReport, DoraSeriesPoint, DoraStats, DoraWindow } from './records/index.js';
export * from './reporters/index.js';
export { seedDemo, DEMO_ORG, DEMO_FLOWS, RELEASE_FLOW, demoVersions, PROD_POLICY, ALLOWANCE_REASON } from './demo/index.js';
export type { DemoSeedOptions, DemoSeedResult, DemoFlow, DemoVersion } from './demo/index.js';
export { ParsePool, DEFAULT_PARSE_POOL } from './parse-pool.js';
export type { ParsePoolOptions } from './parse-pool.js';
export { compileUserSchema, checkSchemaPatterns, SCHEMA_PATTERN_BUDGET, SCHEMA_PATTERN_MAX_INPUT } from './user-schema.js';
