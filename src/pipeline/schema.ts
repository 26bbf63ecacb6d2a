import { Type, type TSchema } from 'typebox';
import { COMPRESSIONS, ENV_NAME_PATTERN, EVENT_TYPES, ISOLATIONS, MAX_SIZE_PATTERN, REMOTE_URL_PATTERN, STEP_NAME_PATTERN } from './spec-format.js';

// The JSON Schema of attest.yaml, for editors (e.g. the YAML extension of VS Code: `# yaml-language-server:
// $schema=…`). The file format is seed 003 §2.1, §3.4, §6.2 and §10.2. The runner does not validate with this
// schema: spec.ts walks the document itself so that every problem gets a path and a line, and a test checks
// that the two agree on a corpus of documents. `schemas/attest.schema.json` is this schema, committed.

export const SCHEMA_ID = 'https://evident.dev/schemas/attest.schema.json';

export { COMPRESSIONS, ENV_NAME_PATTERN, EVENT_TYPES, MAX_SIZE_PATTERN, STEP_NAME_PATTERN } from './spec-format.js';

const closed = { additionalProperties: false } as const;
const text = (description: string) => Type.String({ minLength: 1, description });
const paths = (description: string) => Type.Array(Type.String({ minLength: 1 }), { description });

const EnvMap = Type.Record(
  Type.String({ pattern: ENV_NAME_PATTERN }),
  Type.Union([Type.String(), Type.Number(), Type.Boolean()]),
  { ...closed, description: 'Environment variables (numbers and booleans are written as text)' },
);

const PassEnv = Type.Array(Type.String({ pattern: ENV_NAME_PATTERN }), { description: 'Process environment variables passed to the step(s); their values are in the cache key (by digest)' });

const Step = Type.Object(
  {
    run: text('The command, run with /bin/sh -c in the workspace'),
    inputs: Type.Optional(paths('Files, directories (all files under them) and globs the step reads; part of the cache key')),
    outputs: Type.Optional(paths('Files, directories and globs the step writes: cached, restored on a hit, attested')),
    needs: Type.Optional(Type.Array(Type.String({ pattern: STEP_NAME_PATTERN }), { description: 'Steps that must succeed first' })),
    env: Type.Optional(EnvMap),
    pass_env: Type.Optional(PassEnv),
    allow_outside_symlinks: Type.Optional(Type.Boolean({ description: 'Input symbolic links may point outside the workspace (refused by default)' })),
    cache: Type.Optional(Type.Boolean({ description: 'false: always run this step (default true)' })),
    attestation: Type.Optional(Type.Object({
      reproducible: Type.Optional(Type.Boolean({ description: 'This step must be reproducible' })),
      type: Type.Optional(text('ATTEST: what the step attests (build, test, lint, …); recorded in the receipt')),
      generate_slsa: Type.Optional(Type.Literal(true, { description: 'ATTEST: SLSA provenance for the outputs (Evident always writes it; false is refused)' })),
      verify_chain: Type.Optional(Type.Boolean({ description: 'ATTEST: verify_dependencies for this step' })),
    }, closed)),
    isolation: Type.Optional(Type.Union(ISOLATIONS.map((i) => Type.Literal(i)), { description: 'process (default); sandbox: bubblewrap, read-only file system except the outputs, no network; container: the same in the step\'s image under Podman (vm is refused)' })),
    image: Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9][A-Za-z0-9._\\-/:@]*$', description: 'ATTEST: the container image the step runs in (isolation: container, implied); resolved to its image ID, which is in the cache key' })),
    working_dir: Type.Optional(Type.String({ minLength: 1, pattern: '^[^*?\\[\\]\\\\]+$', description: 'ATTEST: directory (workspace-relative) the command runs in; inputs and outputs stay workspace-relative' })),
    timeout_secs: Type.Optional(Type.Integer({ minimum: 1, description: 'ATTEST: kill the command (its whole process group) after this many seconds; the step fails with exit code 124' })),
  },
  closed,
);

const FileHandler = Type.Object(
  {
    type: Type.Literal('file'),
    path: text('File the events are appended to, one JSON object per line'),
    events: Type.Optional(Type.Array(Type.Union(EVENT_TYPES.map((e) => Type.Literal(e))), { description: 'Event types ("*" for all; default all)' })),
  },
  closed,
);

const WebhookHandler = Type.Object(
  {
    type: Type.Literal('webhook'),
    url: Type.String({ pattern: '^https?://', description: 'URL the events are POSTed to' }),
    secret_env: Type.Optional(Type.String({ pattern: ENV_NAME_PATTERN, description: 'Environment variable holding the HMAC-SHA256 key of the X-Evident-Signature header' })),
    retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 10, description: 'Retries after a failed POST, with exponential backoff (default 3)' })),
    events: Type.Optional(Type.Array(Type.Union(EVENT_TYPES.map((e) => Type.Literal(e))), { description: 'Event types ("*" for all; default all)' })),
  },
  closed,
);

export const AttestSchema: TSchema = Type.Object(
  {
    schema_version: Type.Optional(Type.Literal(1, { description: "ATTEST's attest.yaml format version (absent: 1); with it, version is the pipeline's own version" })),
    version: Type.String({ minLength: 1, description: 'Schema version: "0.1" (quoted); any pipeline version when schema_version is given' }),
    name: Type.Optional(text('Human-readable pipeline name (default: the workspace directory name)')),
    env: Type.Optional(EnvMap),
    pass_env: Type.Optional(PassEnv),
    global_inputs: Type.Optional(paths('Files every step depends on (in every key); default: the lockfiles present and attest.yaml')),
    env_mode: Type.Optional(Type.Union([Type.Literal('loose'), Type.Literal('strict')], { description: 'strict: steps see only declared variables (env, pass_env) and PATH, HOME, TMPDIR, USER, LOGNAME, SHELL; loose (default): the whole process environment' })),
    allow_outside_symlinks: Type.Optional(Type.Boolean({ description: 'Input symbolic links may point outside the workspace, for every step (refused by default)' })),
    attestation: Type.Optional(
      Type.Object(
        {
          sign_all_steps: Type.Optional(Type.Boolean({ description: 'Sign receipts and provenance without --sign (default false)' })),
          verify_dependencies: Type.Optional(Type.Boolean({ description: 'Verify the outputs of needed steps before a step runs (default false)' })),
          require_reproducible: Type.Optional(Type.Boolean({ description: 'Every step must be reproducible (default false)' })),
        },
        closed,
      ),
    ),
    cache: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean({ description: 'Use the local cache (default true)' })),
          max_size: Type.Optional(Type.Union([Type.String({ pattern: MAX_SIZE_PATTERN }), Type.Integer({ minimum: 0 })], { description: 'e.g. "10GB", "500MB" (decimal units; KiB/MiB/GiB binary), or bytes (default "10GB")' })),
          compression: Type.Optional(Type.Union([Type.Boolean(), ...COMPRESSIONS.map((c) => Type.Literal(c))], { description: 'true = gzip (default false)' })),
          retention_days: Type.Optional(Type.Integer({ minimum: 1, description: 'Drop entries unused for this many days (default 30)' })),
          remote: Type.Optional(Type.String({ pattern: REMOTE_URL_PATTERN, description: 'The remote cache: an Evident server URL, as --remote-cache URL (the flag and EVIDENT_REMOTE_CACHE win)' })),
        },
        closed,
      ),
    ),
    events: Type.Optional(Type.Object({ handlers: Type.Array(Type.Union([FileHandler, WebhookHandler])) }, closed)),
    steps: Type.Record(Type.String({ pattern: STEP_NAME_PATTERN }), Step, { ...closed, minProperties: 1 }),
  },
  // Without schema_version, version is the format version "0.1" (seed 003); with it, the user's (ATTEST).
  { ...closed, if: { not: { required: ['schema_version'] } }, then: { properties: { version: { const: '0.1' } } } },
);

/** The schema as published: draft-07 (what editors support best), stable formatting. */
export function attestJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: SCHEMA_ID,
    title: 'attest.yaml (Evident pipeline)',
    description: 'A pipeline for `evident run`: steps with their commands, inputs, outputs and needs. See docs/runner.md.',
    ...JSON.parse(JSON.stringify(AttestSchema)),
  };
}

export function attestJsonSchemaText(): string {
  return JSON.stringify(attestJsonSchema(), null, 2) + '\n';
}
