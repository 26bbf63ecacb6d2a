import { Type, type Static } from 'typebox';
import { ArtifactCompliance, PolicySet } from './policy-schemas.js';

/** JSON shapes of environments and snapshots (issue #4; Kosli's field names). */
const NAME = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
export const EnvParams = Type.Object({ org: Type.String({ pattern: NAME }), env: Type.String({ pattern: NAME }) });

export const Environment = Type.Object({
  name: Type.String(),
  type: Type.String(),
  description: Type.String(),
  included_environments: Type.Union([Type.Array(Type.String()), Type.Null()]),
  include_scaling: Type.Boolean(),
  created_at: Type.String(),
  entry_index: Type.Integer(),
  latest_snapshot: Type.Union([Type.Integer(), Type.Null()]),
  archived_at: Type.Union([Type.String(), Type.Null()]),
  /** Its tags (Kosli's `tag env`), replayed from its verified `environment.tagged` log entries. */
  tags: Type.Optional(Type.Record(Type.String(), Type.String())),
  /** Kosli's: the time of the latest log entry about the environment itself, and of its latest snapshot. */
  last_modified_at: Type.Optional(Type.String()),
  last_changed_at: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  /** `get environment` only: the latest snapshot's compliance against the policies attached now (null: never reported). */
  compliant: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  policies: Type.Optional(PolicySet),
});
export type Environment = Static<typeof Environment>;
export const EnvironmentList = Type.Object({ items: Type.Array(Environment) });
export type EnvironmentList = Static<typeof EnvironmentList>;

export const EnvironmentCreate = Type.Object(
  {
    name: Type.String({ maxLength: 64 }),
    type: Type.Union(['k8s', 'ecs', 'docker', 'lambda', 's3', 'server', 'azure-apps', 'logical'].map((t) => Type.Literal(t))),
    description: Type.Optional(Type.String({ maxLength: 4096 })),
    included_environments: Type.Optional(Type.Array(Type.String({ pattern: NAME }), { maxItems: 100 })),
    include_scaling: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type EnvironmentCreate = Static<typeof EnvironmentCreate>;

export const SnapshotReport = Type.Object(
  {
    artifacts: Type.Array(
      Type.Object({ name: Type.String({ maxLength: 512 }), fingerprint: Type.String(), instances: Type.Integer({ minimum: 1 }), started_at: Type.Optional(Type.Unknown()) }),
      { maxItems: 100_000 },
    ),
  },
  { additionalProperties: false },
);
export type SnapshotReport = Static<typeof SnapshotReport>;

export const SnapshotArtifact = Type.Object({
  name: Type.String(),
  fingerprint: Type.String(),
  flow: Type.Union([Type.String(), Type.Null()]),
  git_commit: Type.Union([Type.String(), Type.Null()]),
  commit_url: Type.Union([Type.String(), Type.Null()]),
  instances: Type.Integer(),
  running_since: Type.String(),
  /** Against each policy attached at this snapshot (issue #5). */
  compliance: Type.Optional(ArtifactCompliance),
});

export const Snapshot = Type.Object({
  environment: Type.String(),
  index: Type.Union([Type.Integer(), Type.Null()]),
  timestamp: Type.Union([Type.String(), Type.Null()]),
  entry_index: Type.Union([Type.Integer(), Type.Null()]),
  artifacts: Type.Array(SnapshotArtifact),
  /** Iff every artifact is compliant (allowed ones count as compliant). */
  compliant: Type.Optional(Type.Boolean()),
  /** The policies in force at this snapshot. */
  policies: Type.Optional(PolicySet),
});
export type Snapshot = Static<typeof Snapshot>;

export const SnapshotReported = Type.Object({ created: Type.Boolean(), index: Type.Union([Type.Integer(), Type.Null()]), entry_index: Type.Union([Type.Integer(), Type.Null()]) });
export type SnapshotReported = Static<typeof SnapshotReported>;

export const SnapshotPage = Type.Object({
  items: Type.Array(Type.Object({ index: Type.Integer(), timestamp: Type.String(), entry_index: Type.Integer() })),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});
export type SnapshotPage = Static<typeof SnapshotPage>;

/**
 * An artifact's verdict in one snapshot, as `get snapshot ENV#N` gives it: against the policies attached at
 * that snapshot (`no-policy` when none was), `allowed` when an exemption makes it compliant.
 */
export const SnapshotVerdict = Type.Union([Type.Literal('compliant'), Type.Literal('non-compliant'), Type.Literal('allowed'), Type.Literal('no-policy')]);
export type SnapshotVerdict = Static<typeof SnapshotVerdict>;

export const EnvironmentEvents = Type.Object({
  items: Type.Array(Type.Object({
    snapshot: Type.Integer(), timestamp: Type.String(), type: Type.String(), name: Type.String(), fingerprint: Type.String(),
    instances: Type.Integer(), previous_instances: Type.Optional(Type.Integer()),
    /** The artifact's verdict in this snapshot (started, scaled); null for an exit (it no longer runs there). Absent from older servers. */
    compliance: Type.Optional(Type.Union([SnapshotVerdict, Type.Null()])),
  })),
  /**
   * Each snapshot of the page, oldest first, with the policies attached at it and the artifacts running in
   * it that are not compliant (`non_compliant`) or are compliant only by an exemption (`allowed`); every
   * other artifact running in it is compliant, or has no policy when `policies` is empty. Absent from older servers.
   */
  snapshots: Type.Optional(Type.Array(Type.Object({
    index: Type.Integer(), timestamp: Type.String(), entry_index: Type.Integer(),
    policies: Type.Array(Type.Object({ name: Type.String(), version: Type.Integer() })),
    compliant: Type.Union([Type.Boolean(), Type.Null()]),
    non_compliant: Type.Array(Type.String()), allowed: Type.Array(Type.String()),
  }))),
  /** The next (older) page of snapshots' events; null at the first snapshot. Absent from servers before keyset pages. */
  next_cursor: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});
export type EnvironmentEvents = Static<typeof EnvironmentEvents>;

export const Expectation = Type.Object({
  environment: Type.String(), number: Type.Integer(), fingerprint: Type.String(), description: Type.String(), created_at: Type.String(), entry_index: Type.Integer(),
});
export type Expectation = Static<typeof Expectation>;
export const ExpectationList = Type.Object({ items: Type.Array(Expectation) });
export const ExpectationCreate = Type.Object({ fingerprint: Type.String(), description: Type.Optional(Type.String({ maxLength: 4096 })) }, { additionalProperties: false });
export type ExpectationCreate = Static<typeof ExpectationCreate>;

const DiffArtifact = Type.Object({
  name: Type.String(), fingerprint: Type.String(), flow: Type.Union([Type.String(), Type.Null()]), commit_url: Type.Union([Type.String(), Type.Null()]),
  instance_count: Type.Integer(), most_recent_timestamp: Type.String(), instance_count_1: Type.Optional(Type.Integer()), instance_count_2: Type.Optional(Type.Integer()),
});
export const SnapshotDiff = Type.Object({
  snappish1: Type.Object({ snapshot_id: Type.String(), artifacts: Type.Array(DiffArtifact) }),
  snappish2: Type.Object({ snapshot_id: Type.String(), artifacts: Type.Array(DiffArtifact) }),
  changed: Type.Object({ artifacts: Type.Array(DiffArtifact) }),
  'not-changed': Type.Object({ artifacts: Type.Array(DiffArtifact) }),
});
export type SnapshotDiff = Static<typeof SnapshotDiff>;

/** `evident get environment E --expected`: the latest expectation per flow against what runs now. */
export const Drift = Type.Object({
  environment: Type.String(),
  snapshot: Type.Union([Type.Integer(), Type.Null()]),
  in_sync: Type.Boolean({ description: 'every expected artifact runs and nothing else does' }),
  items: Type.Array(Type.Object({
    state: Type.Union([Type.Literal('running'), Type.Literal('not-running'), Type.Literal('superseded-still-running'), Type.Literal('never-expected')]),
    name: Type.String(), fingerprint: Type.String(), flow: Type.Union([Type.String(), Type.Null()]), instances: Type.Integer(),
    expectation: Type.Union([Type.Object({ number: Type.Integer(), description: Type.String(), expected_at: Type.String() }), Type.Null()]),
  })),
});
export type Drift = Static<typeof Drift>;
