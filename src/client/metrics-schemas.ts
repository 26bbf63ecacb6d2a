import { Type, type Static } from 'typebox';

/** JSON shapes of DORA metrics (issue #5 item 7, docs/metrics.md). The web UI draws its charts from these. */
const NAME = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const DoraQuery = Type.Object({
  environment: Type.String({ pattern: NAME, description: 'the environment deployed into, e.g. aws-prod' }),
  since: Type.Optional(Type.String({ maxLength: 64, description: 'start of the window (inclusive): RFC 3339 or YYYY-MM-DD (midnight UTC); default 30 days before until' })),
  until: Type.Optional(Type.String({ maxLength: 64, description: 'end of the window (exclusive): RFC 3339 or YYYY-MM-DD; default now' })),
  flow: Type.Optional(Type.String({ pattern: NAME, description: 'only deployments of artifacts reported into this flow' })),
  bucket: Type.Optional(Type.String({ maxLength: 8, description: 'day or week (UTC days, ISO weeks); default day for a window of at most 31 days, else week' })),
  cursor: Type.Optional(Type.String({ maxLength: 1000, description: 'next_cursor of the page before: the deployments list is paged, newest first' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'deployments per page (default 100); the figures always cover the whole window' })),
});
export type DoraQuery = Static<typeof DoraQuery>;

export const DoraStats = Type.Object({
  deployments: Type.Integer(),
  deployments_per_day: Type.Number(),
  lead_time_seconds: Type.Object({
    median: Nullable(Type.Number()), p90: Nullable(Type.Number()),
    count: Type.Integer({ description: 'deployments with a commit time (the others are left out of lead time)' }),
    invalid: Type.Integer({ description: 'deployments whose commit time is later than the deployment (bad data): left out of lead time' }),
  }),
  change_failure_rate: Type.Object({
    non_compliant: Type.Integer(), judged: Type.Integer({ description: 'deployments into a snapshot with at least one policy attached' }), rate: Nullable(Type.Number()),
  }),
  time_to_restore_seconds: Type.Object({
    median: Nullable(Type.Number()), p90: Nullable(Type.Number()),
    count: Type.Integer({ description: 'change failures followed, in a later snapshot of the window, by a compliant deployment of the same flow' }),
    unrestored: Type.Integer({ description: 'change failures with no compliant deployment of their flow after them in the window' }),
  }, { description: 'from each deployment that started non-compliant to the next one of the same flow that started compliant (docs/metrics.md)' }),
});
export type DoraStats = Static<typeof DoraStats>;

export const DoraDeployment = Type.Object({
  flow: Nullable(Type.String()),
  artifact: Type.String(),
  fingerprint: Type.String(),
  git_commit: Nullable(Type.String()),
  commit_time: Nullable(Type.String()),
  deployed_at: Type.String(),
  snapshot: Type.Integer(),
  lead_time_seconds: Nullable(Type.Number()),
  compliant: Nullable(Type.Boolean()),
});
export type DoraDeployment = Static<typeof DoraDeployment>;

export const DoraReport = Type.Object({
  environment: Type.String(),
  since: Type.String(),
  until: Type.String(),
  bucket: Type.Union([Type.Literal('day'), Type.Literal('week')]),
  overall: DoraStats,
  flows: Type.Array(Type.Intersect([Type.Object({ flow: Type.String() }), DoraStats])),
  series: Type.Array(Type.Object({
    start: Type.String(), end: Type.String(), deployments: Type.Integer(), lead_time_median_seconds: Nullable(Type.Number()),
    by_flow: Type.Record(Type.String(), Type.Integer()),
  })),
  deployments: Type.Array(DoraDeployment, { description: "a page of the window's deployments, newest first (by snapshot, then fingerprint and artifact name, descending); the figures cover them all" }),
  // Optional for clients of servers from before the list was paged (they sent every deployment).
  next_cursor: Type.Optional(Nullable(Type.String({ description: 'cursor of the next (older) page of deployments; null on the last page' }))),
});
export type DoraReport = Static<typeof DoraReport>;
