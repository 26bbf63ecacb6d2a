import { Type, type Static } from 'typebox';

/** JSON shapes of release plans (issue #4 item 7, seed 001): what moves from one environment to another. */
const NAME = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
const Text = Type.String();
const Maybe = Type.Union([Type.String(), Type.Null()]);

export const ReleasePlanQuery = Type.Object({
  from: Type.String({ pattern: NAME, description: 'the environment to promote from, e.g. aws-beta' }),
  to: Type.String({ pattern: NAME, description: 'the environment to promote to, e.g. aws-prod' }),
  allow_in_progress: Type.Optional(Type.Boolean({ default: false, description: 'also plan flows with a deployment in progress' })),
});
export type ReleasePlanQuery = Static<typeof ReleasePlanQuery>;

/** One item of GitHub Actions' `strategy.matrix.include`, with seed 001's field names. */
export const ReleasePlanItem = Type.Object({
  incoming_name: Text,
  incoming_fingerprint: Text,
  incoming_flow: Text,
  incoming_commit_url: Maybe,
  incoming_repo_name: Maybe,
  incoming_commit_sha: Maybe,
  outgoing_name: Maybe,
  outgoing_fingerprint: Maybe,
  outgoing_flow: Maybe,
  outgoing_commit_url: Maybe,
  outgoing_repo_name: Maybe,
  outgoing_commit_sha: Maybe,
  deployment_diff_url: Maybe,
});
export type ReleasePlanItem = Static<typeof ReleasePlanItem>;

const PlanEnd = Type.Object({ environment: Text, snapshot: Type.Union([Type.Integer(), Type.Null()]), timestamp: Maybe });

export const ReleasePlan = Type.Object({
  from: PlanEnd,
  to: PlanEnd,
  items: Type.Array(ReleasePlanItem),
  unchanged: Type.Array(Type.Object({ flow: Text, name: Text, fingerprint: Text, git_commit: Maybe })),
  in_progress: Type.Array(Type.Object({ flow: Text, environment: Text, fingerprints: Type.Array(Text) })),
  unmatched: Type.Array(Type.Object({ environment: Text, name: Text, fingerprint: Text })),
});
export type ReleasePlan = Static<typeof ReleasePlan>;
