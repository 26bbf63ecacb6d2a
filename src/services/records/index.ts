export { FlowService } from './flows.js';
export type { CreateFlowInput } from './flows.js';
export { TrailService } from './trails.js';
export type { BeginTrailInput } from './trails.js';
export { ArtifactService } from './artifacts.js';
export type { ReportArtifactInput, ArtifactView, ComplianceState, SearchHit } from './artifacts.js';
export { AttestationService, parseAttestationName } from './attestations.js';
export type { AttestationInput, GenericAttestationInput, ApprovalInput, PullRequestInput, CustomAttestationInput } from './attestations.js';
export { AttestationTypeService } from './attestation-types.js';
export type { CreateAttestationTypeInput, CustomEvaluation } from './attestation-types.js';
export { EvidenceAttestationService } from './evidence-attestations.js';
export type { EvidenceAttestationInput, SarifAttestationInput } from './evidence-attestations.js';
export { EnvironmentService, ENVIRONMENT_TYPES } from './environments.js';
export type { CreateEnvironmentInput, EnvironmentEvent, ReportedArtifact, SnapshotView } from './environments.js';
export { parseSnapshotExpr } from './snapshot-expr.js';
export type { SnapshotExpr } from './snapshot-expr.js';
export { describeSnapshot, describeSnapshots } from './snapshot-artifacts.js';
export { DriftService, assessDrift } from './drift.js';
export { diffSnapshots } from './snapshot-diff.js';
export type { DiffArtifact, SnapshotDiff } from './snapshot-diff.js';
export type { DriftItem, DriftReport, DriftState } from './drift.js';
export type { DescribedArtifact, DescribedSnapshot } from './snapshot-artifacts.js';
export { ReleasePlanService, planRelease, parseCommitUrl, compareUrl } from './release-plan.js';
export type {
  PlanArtifact, PlanSide, PlanOptions, PlanEnd, ReleasePlan, ReleasePlanItem, ReleasePlanReport, UnchangedFlow, InProgressFlow, UnmatchedArtifact, CommitUrl, GitProvider,
} from './release-plan.js';
