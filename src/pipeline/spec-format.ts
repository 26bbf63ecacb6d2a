// The fixed vocabulary of attest.yaml (seed 003), shared by the validator (spec.ts) and the JSON Schema
// (schema.ts); kept apart so that running a pipeline does not load the schema builder.

/** Step names are also file names (`.evident/logs/<step>.log`), hence the narrow alphabet. */
export const STEP_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$';
export const ENV_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';
export const MAX_SIZE_PATTERN = '^\\s*[0-9]+(\\.[0-9]+)?\\s*([KMGT]i?B|B)?\\s*$';
export const EVENT_TYPES = [
  'pipeline.started', 'pipeline.completed', 'step.started', 'step.completed', 'step.failed',
  'cache.hit', 'cache.miss', 'signature.created', 'verification.completed', '*',
] as const;
export const COMPRESSIONS = ['none', 'gzip', 'brotli'] as const;
/**
 * Seed 003 §7 isolation levels a step may name: `process` (the default), Evident's `sandbox` (bubblewrap)
 * and `container` (Podman, with `image:`; docs/runner.md). `vm` is refused.
 */
export const ISOLATIONS = ['process', 'sandbox', 'container'] as const;
/** What `run --isolation` applies to every step (a container needs each step's own image). */
export const RUN_ISOLATIONS = ['process', 'sandbox'] as const;
/** `cache.remote`: an Evident server, as `--remote-cache URL` takes it. */
export const REMOTE_URL_PATTERN = '^https?://[^/\\s]+\\S*$';
