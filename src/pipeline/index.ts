// The pipeline layer (DESIGN.md §5): attest.yaml, DAG planning, executor, cache, receipts, provenance.
export type { CacheStatus, FileDigest, RunObserver, RunRecord, StepRecord, StepSpec } from './types.js';

// --- runner: spec, plan, executor, cache (issue #6 items 1-3) ---
export { DEFAULT_MAX_SIZE, DEFAULT_RETENTION_DAYS, loadSpec, parseSize, parseSpec, validateSpec } from './spec.js';
export type { Compression, EventHandlerSpec, EventType, LoadedSpec, PipelineSpec } from './spec.js';
export { formatProblem } from './spec-walk.js';
export type { SpecProblem } from './spec-walk.js';
export { AttestSchema, attestJsonSchema, attestJsonSchemaText } from './schema.js';
export { closureOf, dependentsOf, planPipeline } from './plan.js';
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
export { readDurations } from './step-history.js';
export { formatDuration, resultLine } from './lines.js';
export type { StepOutcome } from './lines.js';
export { ProgressDisplay } from './progress.js';

// --- attestations: keys, receipts, provenance, in-toto links (issue #6 items 5-7) ---
export { attestationObservers, evidentVersion } from './attestations.js';
export type { AttestationOptions } from './attestations.js';
export {
  defaultKeyName, generateWorkspaceKey, keysDir, loadSignerFromFile, loadWorkspaceSigner, parsePublicKeyText, publicKeyInfo,
  readPublicKeyFile, trustPublicKey, trustedKeys,
} from './keys.js';
export type { KeySigner, PublicKeyInfo, TrustedKey } from './keys.js';
export { RECEIPT_PAYLOAD_TYPE, buildReceipt, formatReceipt, parseReceiptText, receiptSigningBytes, signReceipt } from './receipt.js';
export type { Receipt, ReceiptStep } from './receipt.js';
export { verifyReceiptFile } from './receipt-verify.js';
export type { ReceiptCheck, ReceiptReport, VerifyReceiptOptions } from './receipt-verify.js';
export { BUILDER_ID, artifactStatements, provenanceFile, stepClosure, writeStepProvenance } from './provenance.js';
export { verifyAttestationFile } from './provenance-verify.js';
export type { AttestationCheck, AttestationReport } from './provenance-verify.js';
export { LAYOUT_FILE, OWNER_KEY_FILE, linkFileName, runLayout, stepLink } from './in-toto.js';
