// The pipeline layer (DESIGN.md §5): attest.yaml, DAG planning, executor, cache, receipts, provenance.
export type { CacheStatus, FileDigest, RunObserver, RunRecord, StepRecord, StepSpec } from './types.js';

// --- runner: spec, plan, executor, cache (issue #6 items 1-3) ---

// --- attestations: keys, receipts, provenance, in-toto links (issue #6 items 5-7) ---
export { attestationObservers } from './attestations.js';
export type { AttestationOptions } from './attestations.js';
