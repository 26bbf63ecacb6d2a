// The pipeline layer (DESIGN.md §5): attest.yaml, DAG planning, executor, cache, receipts, provenance.
export type { CacheStatus, FileDigest, RunObserver, RunRecord, StepRecord, StepSpec } from './types.js';

// --- runner: spec, plan, executor, cache (issue #6 items 1-3) ---
export { DEFAULT_MAX_SIZE, DEFAULT_RETENTION_DAYS, loadSpec, parseSize, parseSpec, validateSpec } from './spec.js';
export type { Compression, EventHandlerSpec, EventType, LoadedSpec, PipelineSpec } from './spec.js';
export { formatProblem } from './spec-walk.js';
export type { SpecProblem } from './spec-walk.js';
// The JSON Schema is built with TypeBox (hundreds of modules): loaded on demand, so that `evident run` and
// the CLI's start-up do not pay for it (docs/performance.md).
export const loadAttestSchema = (): Promise<typeof import('./schema.js')> => import('./schema.js');
export { closureOf, dependentsOf, planPipeline } from './plan.js';
export { gitChangedFiles, parseFilter, selectSteps, stepsChangedSince } from './select.js';
export type { Filter, Selection, SelectOptions } from './select.js';
export { dryRun } from './dry-run.js';
export { missingDeclaredInputs, verifyingSpec } from './run-verify.js';
export { WORKSPACE_CONFIG_KEYS, configFlag, parseConfigValue, readWorkspaceConfig, updateWorkspaceConfig, workspaceConfigPath } from './workspace-config.js';
export type { WorkspaceConfig } from './workspace-config.js';
export type { DryPlan, DryStep } from './dry-run.js';
export { pipelineDot, pipelineMermaid } from './graph-formats.js';
export type { Bottleneck, CriticalPath, Plan, PlanInput } from './plan.js';
export { cacheKey, encodeKeyComponents } from './cache-key.js';
export type { KeyComponents } from './cache-key.js';
export { describeChange, diffKeyComponents, missReason } from './explain.js';
export type { KeyChange } from './explain.js';
export { explainStep } from './cache-explain.js';
export type { KeyExplanation } from './cache-explain.js';
export { LocalCache } from './cache.js';
export type { CacheOptions, CacheStats } from './cache.js';
export { cacheRootOf, openCache, runPipeline } from './run.js';
export type { RunEvent, RunOptions, RunResult } from './run.js';
export { REMOTE_ENTRY_VERSION, remoteEntrySigningBytes, signRemoteEntry, verifyRemoteEntry } from './remote-cache.js';
export type { EntryVerdict, RemoteCacheStore, RemoteEntry } from './remote-cache.js';
export { RemoteTier } from './remote-tier.js';
export type { RemoteCacheOptions } from './remote-tier.js';
export { readDurations } from './step-history.js';
export { formatDuration, resultLine, runSummary } from './lines.js';
export { tryReplay } from './replay.js';
export type { ReplayResult } from './replay.js';
export type { StepOutcome } from './lines.js';
export { ProgressDisplay } from './progress.js';

// --- attestations: keys, receipts, provenance, in-toto links (issue #6 items 5-7) ---
export { attestationObservers, evidentVersion } from './attestations.js';
export type { AttestationOptions } from './attestations.js';
export {
  defaultKeyName, generateWorkspaceKey, loadOrCreateWorkspaceSigner, keysDir, loadSignerFromFile, loadWorkspaceSigner, parsePublicKeyText, publicKeyInfo,
  readPublicKeyFile, trustPublicKey, trustedKeys,
} from './keys.js';
export type { KeySigner, PublicKeyInfo, TrustedKey } from './keys.js';
export { RECEIPT_PAYLOAD_TYPE, buildReceipt, formatReceipt, parseReceiptText, receiptSigningBytes, signReceipt } from './receipt.js';
export type { Receipt, ReceiptStep } from './receipt.js';
export { verifyReceiptFile } from './receipt-verify.js';
export { pruneReceipts } from './receipt-prune.js';
export type { ReceiptPruneOptions } from './receipt-prune.js';
export type { ReceiptCheck, ReceiptReport, VerifyReceiptOptions } from './receipt-verify.js';
export { BUILDER_ID, artifactStatements, provenanceFile, stepClosure, writeDirectoryProvenance, writeStepProvenance } from './provenance.js';
export { verifyAttestationFile } from './provenance-verify.js';
export type { AttestationCheck, AttestationReport } from './provenance-verify.js';
export { LAYOUT_FILE, OWNER_KEY_FILE, linkFileName, runLayout, stepLink } from './in-toto.js';

// --- the rest of seed 003 (issue #6 item 9): deterministic mode, reproducibility, events, audit, export, sandbox ---
export { deterministicEnv, sortedEnv } from './deterministic.js';
export type { Deterministic } from './deterministic.js';
export { differingOutputs, notReproducible } from './reproducible.js';
export { DEFAULT_WEBHOOK_RETRIES, EventDispatcher, SIGNATURE_HEADER, signatureObserver, signatureOf } from './events.js';
export type { EventName, EventOptions, PipelineEventBody } from './events.js';
export { analyze, readReceipts, receiptsDir } from './audit.js';
export type { AuditReport, StepFigures } from './audit.js';
export { EXPORT_FORMATS, exportPipeline, jobId } from './export.js';
export type { ExportFormat } from './export.js';
export { NO_BWRAP, findBwrap, sandboxPrefix, sandboxUsable, writableDirs } from './sandbox.js';
export { ISOLATIONS, RUN_ISOLATIONS } from './spec-format.js';
