import { Type, type Static } from 'typebox';
import { PageOf } from './schemas.js';

/** JSON shapes of flows, trails, artifacts and attestations (snake_case, as Kosli's API). */
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const Annotations = Type.Union([Type.Record(Type.String(), Type.String()), Type.Null()]);
const NAME = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';

export const FlowParams = Type.Object({ org: Type.String({ pattern: NAME }), flow: Type.String({ pattern: NAME }) });
export const TrailParams = Type.Object({ org: Type.String({ pattern: NAME }), flow: Type.String({ pattern: NAME }), trail: Type.String({ pattern: NAME }) });

export const Flow = Type.Object({
  name: Type.String(),
  description: Type.String(),
  template: Nullable(Type.String()),
  created_at: Type.String(),
  archived_at: Nullable(Type.String()),
  entry_index: Type.Integer({ description: 'The log entry that recorded it' }),
  tags: Type.Record(Type.String(), Type.String(), { description: 'Set with `evident tag flow`; read by policy conditions as flow.tags.<key>' }),
});
export type Flow = Static<typeof Flow>;
export const FlowPage = PageOf(Flow);
export type FlowPage = Static<typeof FlowPage>;

export const FlowCreate = Type.Object(
  { name: Type.String({ maxLength: 64 }), description: Type.Optional(Type.String({ maxLength: 4096 })), template: Type.Optional(Nullable(Type.String())) },
  { additionalProperties: false },
);
export type FlowCreate = Static<typeof FlowCreate>;

export const Trail = Type.Object({
  name: Type.String(),
  flow: Type.String(),
  description: Type.String(),
  git_commit: Nullable(Type.String()),
  commit_url: Nullable(Type.String()),
  origin_url: Nullable(Type.String()),
  user_data: Type.Unknown(),
  template: Nullable(Type.String()),
  created_at: Type.String(),
  entry_index: Type.Integer(),
  /** In a flow's trail list: COMPLIANT, NON-COMPLIANT or INCOMPLETE against the template the trail began with. */
  compliance: Type.Optional(Type.String()),
});
export type Trail = Static<typeof Trail>;
export const TrailPage = PageOf(Trail);
export type TrailPage = Static<typeof TrailPage>;

export const TrailCreate = Type.Object(
  {
    name: Type.String({ maxLength: 64 }),
    description: Type.Optional(Type.String({ maxLength: 4096 })),
    git_commit: Type.Optional(Nullable(Type.String())),
    commit_url: Type.Optional(Nullable(Type.String())),
    origin_url: Type.Optional(Nullable(Type.String())),
    user_data: Type.Optional(Type.Unknown()),
    template: Type.Optional(Nullable(Type.String())),
    /** Kosli's `--external-url LABEL=URL`, kept in the trail's entry. */
    external_urls: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 2048 }), { maxProperties: 50 })),
    /** Kosli's `--external-fingerprint LABEL=SHA256`: the digest of what the link of that label points at. */
    external_fingerprints: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 64 }), { maxProperties: 50 })),
  },
  { additionalProperties: false },
);
export type TrailCreate = Static<typeof TrailCreate>;

export const Artifact = Type.Object({
  name: Type.String(),
  display_name: Type.String(),
  fingerprint: Type.String(),
  flow: Type.String(),
  trail: Type.String(),
  git_commit: Nullable(Type.String()),
  commit_url: Nullable(Type.String()),
  build_url: Nullable(Type.String()),
  annotations: Annotations,
  commit_time: Type.Optional(Nullable(Type.String({ description: 'When the commit was made (ISO 8601 UTC): the start of DORA lead time' }))),
  created_at: Type.String(),
  entry_index: Type.Integer(),
});
export type Artifact = Static<typeof Artifact>;
export const ArtifactPage = PageOf(Artifact);
export type ArtifactPage = Static<typeof ArtifactPage>;

export const ArtifactCreate = Type.Object(
  {
    name: Type.String({ maxLength: 64 }),
    fingerprint: Type.String(),
    display_name: Type.Optional(Nullable(Type.String())),
    git_commit: Type.Optional(Nullable(Type.String())),
    commit_url: Type.Optional(Nullable(Type.String())),
    build_url: Type.Optional(Nullable(Type.String())),
    annotations: Type.Optional(Annotations),
    commit_time: Type.Optional(Nullable(Type.String({ maxLength: 64, description: 'RFC 3339 date-time of the commit (git show -s --format=%cI)' }))),
  },
  { additionalProperties: false },
);
export type ArtifactCreate = Static<typeof ArtifactCreate>;

export const Attestation = Type.Object({
  name: Type.String(),
  type: Type.String(),
  flow: Type.String(),
  trail: Type.String(),
  artifact_name: Nullable(Type.String()),
  artifact_fingerprint: Nullable(Type.String()),
  git_commit: Nullable(Type.String()),
  compliant: Type.Boolean(),
  summary: Type.Unknown(),
  description: Type.String(),
  user_data: Type.Unknown(),
  annotations: Annotations,
  evidence: Type.Array(Type.Object({ digest: Type.String(), name: Nullable(Type.String()), size: Type.Integer() })),
  created_at: Type.String(),
  entry_index: Type.Integer(),
});
export type Attestation = Static<typeof Attestation>;

/** What every attestation body may carry besides its own fields: its target, text, data and evidence. */
const AttestationCommon = {
  fingerprint: Type.Optional(Nullable(Type.String())),
  git_commit: Type.Optional(Nullable(Type.String())),
  description: Type.Optional(Type.String({ maxLength: 4096 })),
  user_data: Type.Optional(Type.Unknown()),
  annotations: Type.Optional(Annotations),
  evidence: Type.Optional(Type.Array(Type.String({ pattern: '^[0-9a-f]{64}$' }), { maxItems: 1000, description: 'digests of files uploaded to the evidence vault' })),
};

export const GenericAttestationCreate = Type.Object(
  {
    name: Type.String({ maxLength: 130, description: 'NAME, or ARTIFACT-NAME.NAME for an artifact' }),
    compliant: Type.Boolean(),
    ...AttestationCommon,
  },
  { additionalProperties: false },
);
export type GenericAttestationCreate = Static<typeof GenericAttestationCreate>;

/** One requirement of a flow template, or one attestation it did not ask for (Kosli's attestations_statuses). */
export const AttestationStatus = Type.Object({
  attestation_name: Type.String(),
  attestation_type: Type.String({ description: 'the type required (* for any), or the recorded type of an unexpected attestation' }),
  status: Type.Union([Type.Literal('COMPLETE'), Type.Literal('MISSING')]),
  is_compliant: Type.Union([Type.Boolean(), Type.Null()], { description: 'null when missing' }),
  unexpected: Type.Boolean(),
  attestation_id: Nullable(Type.String({ description: "the attestation's log entry index" })),
});
export type AttestationStatus = Static<typeof AttestationStatus>;

const ComplianceState = Type.Union([Type.Literal('COMPLIANT'), Type.Literal('NON-COMPLIANT'), Type.Literal('INCOMPLETE')]);

/** A trail's or an artifact's state against the template its trail began with. */
export const Compliance = Type.Object({
  state: ComplianceState,
  attestations: Type.Array(AttestationStatus, { description: 'what the template requires, in its order' }),
  unexpected: Type.Array(AttestationStatus, { description: 'recorded but not required (they still count)' }),
});
export type Compliance = Static<typeof Compliance>;

export const TrailCompliance = Type.Object({
  ...Compliance.properties,
  artifacts: Type.Array(Type.Object({
    name: Type.String(),
    fingerprint: Nullable(Type.String({ description: 'null for an artifact the template names that was not reported' })),
    status: Type.Union([Type.Literal('COMPLETE'), Type.Literal('MISSING')]),
    expected: Type.Boolean({ description: 'named by the template' }),
    ...Compliance.properties,
  })),
});
export type TrailCompliance = Static<typeof TrailCompliance>;

export const ArtifactDetail = Type.Object({
  ...Artifact.properties,
  state: Type.String({ description: 'COMPLIANT, NON-COMPLIANT or INCOMPLETE: compliance.state' }),
  compliance: Compliance,
  attestations: Type.Array(Attestation),
  related_attestations: Type.Optional(Type.Array(Attestation, { description: "other trails' attestations that name it (a release's promotion), with those trails' own attestations (its approval)" })),
  history: Type.Array(Type.Object({
    event: Type.String({ description: "the server's wording, for people (seed 002's)" }),
    timestamp: Type.String(),
    // The same event for programs (absent from older servers).
    kind: Type.Optional(Type.Union([
      Type.Literal('created'), Type.Literal('attestation'), Type.Literal('expected'), Type.Literal('started'), Type.Literal('scaled'), Type.Literal('exited'),
    ])),
    environment: Type.Optional(Type.String()),
    snapshot: Type.Optional(Type.Integer({ description: 'started, scaled: the snapshot; exited: the first snapshot without it' })),
    instances: Type.Optional(Type.Integer()),
    previous_instances: Type.Optional(Type.Integer()),
    attestation: Type.Optional(Type.String()),
    expectation: Type.Optional(Type.Integer({ description: 'the deployment expectation\'s number (Deployment #N)' })),
    entry_index: Type.Optional(Type.Integer({ description: 'the log entry: the report, the attestation or the expectation' })),
  })),
  running: Type.Array(Type.String()),
  exited: Type.Array(Type.String()),
});
export type ArtifactDetail = Static<typeof ArtifactDetail>;
export const ArtifactDetails = Type.Object({ items: Type.Array(ArtifactDetail) });
export type ArtifactDetails = Static<typeof ArtifactDetails>;

export const TrailDetail = Type.Object({
  ...Trail.properties, external_urls: Type.Optional(Type.Record(Type.String(), Type.String())), external_fingerprints: Type.Optional(Type.Record(Type.String(), Type.String())), artifacts: Type.Array(Artifact),
  attestations: Type.Array(Attestation, { description: 'one page of the trail\'s attestations, oldest first (limit, cursor); servers before paging sent them all' }),
  compliance: TrailCompliance,
  // Optional: absent from servers before paging (which sent every attestation).
  attestation_count: Type.Optional(Type.Integer({ description: 'attestations in the whole trail, as of its compliance' })),
  next_cursor: Type.Optional(Nullable(Type.String({ description: 'the next page of attestations: pass it back as cursor; null on the last page' }))),
});
export type TrailDetail = Static<typeof TrailDetail>;

export const ApprovalCreate = Type.Object(
  {
    name: Type.String({ maxLength: 130, description: 'NAME, or ARTIFACT-NAME.NAME for an artifact' }),
    decision: Type.Union([Type.Literal('approved'), Type.Literal('rejected')]),
    approver: Type.Optional(Nullable(Type.String({ maxLength: 256 }))),
    comment: Type.Optional(Type.String({ maxLength: 4096 })),
    ...AttestationCommon,
  },
  { additionalProperties: false },
);
export type ApprovalCreate = Static<typeof ApprovalCreate>;

export const SearchResult = Type.Object({
  items: Type.Array(Type.Object({
    ...Artifact.properties,
    matched: Type.String({ description: 'fingerprint or commit' }),
    running: Type.Array(Type.Object({
      environment: Type.String(),
      snapshot: Type.Integer({ description: "the environment's latest snapshot" }),
      since: Type.Integer({ description: 'the snapshot in which its current run began' }),
      since_at: Type.String(),
      instances: Type.Integer(),
    }), { description: 'where it runs now' }),
    exited: Type.Array(Type.Object({
      environment: Type.String(), snapshot: Type.Integer({ description: 'the first snapshot without it' }), at: Type.String(),
    }), { description: 'where it ran and no longer does' }),
  })),
});
export type SearchResult = Static<typeof SearchResult>;

export const PullRequest = Type.Object({
  url: Type.String({ maxLength: 2048 }),
  number: Type.Integer(),
  title: Type.Optional(Type.String({ maxLength: 1024 })),
  state: Type.Optional(Type.String({ maxLength: 64 })),
  author: Type.Optional(Type.String({ maxLength: 256 })),
  merged_at: Type.Optional(Nullable(Type.String())),
});
export type PullRequest = Static<typeof PullRequest>;

export const PullRequestCreate = Type.Object(
  {
    name: Type.String({ maxLength: 130 }),
    provider: Type.Union([Type.Literal('github'), Type.Literal('gitlab'), Type.Literal('bitbucket'), Type.Literal('azure')]),
    repository: Type.String({ maxLength: 256 }),
    pull_requests: Type.Array(PullRequest, { maxItems: 100 }),
    ...AttestationCommon,
  },
  { additionalProperties: false },
);
export type PullRequestCreate = Static<typeof PullRequestCreate>;

export const AttestationType = Type.Object({
  name: Type.String(),
  version: Type.Integer(),
  description: Type.String(),
  schema: Type.Unknown(),
  jq_rules: Type.Array(Type.String()),
  /** Kosli's summary: named jq expressions shown for each attestation of the type (from its signed entry). */
  summary: Type.Optional(Type.Array(Type.Object({ name: Type.String(), expression: Type.String() }))),
  created_at: Type.String(),
  /** When `archive attestation-type` archived it (every version), from its verified entry; null if not archived. */
  archived_at: Type.Optional(Nullable(Type.String())),
  entry_index: Type.Integer(),
});
export type AttestationType = Static<typeof AttestationType>;
export const AttestationTypeList = Type.Object({ items: Type.Array(AttestationType) });
export type AttestationTypeList = Static<typeof AttestationTypeList>;

export const AttestationTypeCreate = Type.Object(
  {
    name: Type.String({ maxLength: 64 }),
    description: Type.Optional(Type.String({ maxLength: 4096 })),
    schema: Type.Record(Type.String(), Type.Unknown()),
    jq_rules: Type.Optional(Type.Array(Type.String({ maxLength: 4096 }), { maxItems: 50 })),
    summary: Type.Optional(Type.Array(Type.Object({ name: Type.String({ minLength: 1, maxLength: 128 }), expression: Type.String({ minLength: 1, maxLength: 4096 }) }, { additionalProperties: false }), { maxItems: 50 })),
  },
  { additionalProperties: false },
);
export type AttestationTypeCreate = Static<typeof AttestationTypeCreate>;

export const CustomAttestationCreate = Type.Object(
  {
    name: Type.String({ maxLength: 130 }),
    type: Type.String({ maxLength: 80, description: 'NAME or NAME@VERSION of a custom attestation type' }),
    data: Type.Unknown(),
    ...AttestationCommon,
  },
  { additionalProperties: false },
);
export type CustomAttestationCreate = Static<typeof CustomAttestationCreate>;

const ReportBody = {
  name: Type.String({ maxLength: 130 }),
  reports: Type.Array(Type.String({ pattern: '^[0-9a-f]{64}$' }), { minItems: 1, maxItems: 1000, description: 'digests of the uploaded report files, parsed by the server' }),
  ...AttestationCommon,
};

export const JUnitCreate = Type.Object(ReportBody, { additionalProperties: false });
export type JUnitCreate = Static<typeof JUnitCreate>;

export const SarifCreate = Type.Object(
  {
    ...ReportBody,
    threshold: Type.Optional(Type.Object({
      level: Type.Optional(Type.Union([Type.Literal('error'), Type.Literal('warning'), Type.Literal('note')])),
      severity: Type.Optional(Type.Union([Type.Literal('critical'), Type.Literal('high'), Type.Literal('medium'), Type.Literal('low')])),
    }, { additionalProperties: false, description: 'non-compliant if any result is at or above this level or severity; default: any error-level result' })),
  },
  { additionalProperties: false },
);
export type SarifCreate = Static<typeof SarifCreate>;

export const ProvenanceCreate = Type.Object(
  {
    name: Type.String({ maxLength: 130, description: 'NAME, or ARTIFACT-NAME.NAME' }),
    envelope: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'digest of the uploaded provenance: a DSSE envelope or a bare in-toto Statement v1 with a SLSA Provenance v1 predicate' }),
    ...AttestationCommon,
  },
  { additionalProperties: false },
);
export type ProvenanceCreate = Static<typeof ProvenanceCreate>;

/** One provenance file, one attestation per artifact it is bound to. */
export const ProvenanceAttestations = Type.Object({ attestations: Type.Array(Attestation) });
export type ProvenanceAttestations = Static<typeof ProvenanceAttestations>;

export const FlowSummary = Type.Object({
  ...Flow.properties,
  latest_trail: Nullable(Type.String()),
  last_deployment: Type.Union([
    Type.Object({ environment: Type.String(), snapshot: Type.Integer(), at: Type.String() }, { description: 'the latest snapshot where one of its artifacts started running' }),
    Type.Null(),
  ]),
  compliance: Type.Union([ComplianceState, Type.Null()], { description: "its latest trail's state; null without trails" }),
});
export type FlowSummary = Static<typeof FlowSummary>;
export const FlowSummaryPage = PageOf(FlowSummary);
export type FlowSummaryPage = Static<typeof FlowSummaryPage>;

export const FlowTagChange = Type.Object(
  {
    set: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 256 }))),
    unset: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 100 })),
  },
  { additionalProperties: false },
);
export type FlowTagChange = Static<typeof FlowTagChange>;

/** Kosli's `tag env|control|repo NAME`: what to change (flows have their own route). */
export const TagRequest = Type.Object(
  {
    kind: Type.Union([Type.Literal('environment'), Type.Literal('control'), Type.Literal('repo')]),
    name: Type.String({ minLength: 1, maxLength: 512 }),
    set: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 256 }))),
    unset: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 100 })),
  },
  { additionalProperties: false },
);
export type TagRequest = Static<typeof TagRequest>;
/** A subject's tags after a change; entry_index null when the change changed nothing (no entry appended). */
export const TagResult = Type.Object({
  kind: Type.String(), name: Type.String(), tags: Type.Record(Type.String(), Type.String()), entry_index: Type.Union([Type.Integer(), Type.Null()]),
});
export type TagResult = Static<typeof TagResult>;
export const TagList = Type.Object({ items: Type.Array(Type.Object({ name: Type.String(), tags: Type.Record(Type.String(), Type.String()) })) });
export type TagList = Static<typeof TagList>;
