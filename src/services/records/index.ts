export { FlowService } from './flows.js';
export type { CreateFlowInput } from './flows.js';
export { TrailService } from './trails.js';
export type { BeginTrailInput } from './trails.js';
export { ArtifactService } from './artifacts.js';
export type { ReportArtifactInput, ArtifactView, ComplianceState, SearchHit } from './artifacts.js';
export { AttestationService, parseAttestationName } from './attestations.js';
export type { AttestationInput, GenericAttestationInput, ApprovalInput, PullRequestInput } from './attestations.js';
