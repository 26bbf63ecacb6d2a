import { Type, type Static } from 'typebox';

/** JSON shapes of environment policies, exemptions, compliance and gates (issue #5; Kosli's field names where they exist). */
const NAME = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
const FP = '^[0-9a-f]{64}$';
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const PolicyParams = Type.Object({ org: Type.String({ pattern: NAME }), policy: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}(@[1-9][0-9]{0,8})?$' }) });

export const PolicyCreate = Type.Object(
  { name: Type.String({ maxLength: 64 }), source: Type.String({ maxLength: 256 * 1024 }), description: Type.Optional(Type.String({ maxLength: 4096 })) },
  { additionalProperties: false },
);
export type PolicyCreate = Static<typeof PolicyCreate>;

export const Policy = Type.Object({
  name: Type.String(),
  version: Type.Integer(),
  description: Type.String(),
  digest: Type.String(),
  definition: Type.Unknown(),
  source: Type.String(),
  created_at: Type.String(),
  entry_index: Type.Integer(),
  /** False when the source equals the latest version's: nothing was logged. */
  created: Type.Optional(Type.Boolean()),
  versions: Type.Optional(Type.Integer()),
});
export type Policy = Static<typeof Policy>;
export const PolicyList = Type.Object({ items: Type.Array(Policy) });

export const PolicyAttach = Type.Object({ policy: Type.String({ maxLength: 80 }) }, { additionalProperties: false });
export const PolicyRef = Type.Object({ name: Type.String(), version: Type.Integer() });
export const AttachResult = Type.Object({
  environment: Type.String(),
  changed: Type.Boolean(),
  snapshot: Nullable(Type.Integer()),
  policies: Type.Array(PolicyRef),
});
export type AttachResult = Static<typeof AttachResult>;
export const AttachedPolicies = Type.Object({ environment: Type.String(), policies: Type.Array(PolicyRef) });

export const AllowanceCreate = Type.Object({ fingerprint: Type.String({ pattern: FP }), reason: Type.String({ minLength: 1, maxLength: 4096 }) }, { additionalProperties: false });
export const Allowance = Type.Object({
  environment: Type.String(), fingerprint: Type.String(), reason: Type.String(), allowed_by: Type.String(), created_at: Type.String(), entry_index: Type.Integer(),
});
export type Allowance = Static<typeof Allowance>;
export const AllowanceList = Type.Object({ items: Type.Array(Allowance) });

export const RuleEvaluation = Type.Object({
  rule: Type.Object({ type: Type.String(), path: Type.String(), name: Type.Optional(Type.String()), attestation_type: Type.Optional(Type.String()) }),
  status: Type.String(),
  reason: Type.String(),
  message: Type.String(),
  attestation_ids: Type.Array(Type.String()),
});
export const ArtifactCompliance = Type.Object({
  compliant: Type.Boolean(),
  allowed: Nullable(Type.Object({ reason: Type.String(), allowed_by: Type.String(), allowed_at: Type.String() })),
  policies: Type.Array(Type.Object({ policy: Type.String(), version: Type.Integer(), compliant: Type.Boolean(), rule_evaluations: Type.Array(RuleEvaluation) })),
});
export type ArtifactCompliance = Static<typeof ArtifactCompliance>;
export const PolicySet = Type.Array(Type.Object({ name: Type.String(), version: Type.Integer(), digest: Type.String() }));

export const AssertArtifact = Type.Object(
  {
    fingerprint: Type.String({ pattern: FP }),
    environment: Type.Optional(Type.String({ pattern: NAME })),
    policies: Type.Optional(Type.Array(Type.String({ maxLength: 80 }), { maxItems: 50 })),
    flow: Type.Optional(Type.String({ pattern: NAME, description: "judged by the artifact's latest report in this flow and that trail" })),
    vsa: Type.Optional(Type.Boolean({ description: 'also return the decision as a signed SLSA VSA v1 (DSSE envelope)' })),
  },
  { additionalProperties: false },
);
export type AssertArtifact = Static<typeof AssertArtifact>;
export const AssertSnapshot = Type.Object({ snapshot: Type.String({ maxLength: 200 }), vsa: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
export type AssertSnapshot = Static<typeof AssertSnapshot>;

export const AssertResult = Type.Object({
  compliant: Type.Boolean(),
  scope: Type.String(),
  policies: PolicySet,
  artifacts: Type.Array(Type.Object({
    name: Type.String(), fingerprint: Type.String(), flow: Nullable(Type.String()), trail: Nullable(Type.String()), ...ArtifactCompliance.properties,
  })),
  failures: Type.Array(Type.Object({
    artifact: Type.String(), fingerprint: Type.String(), policy: Type.String(), version: Type.Integer(), rule: Type.String(), reason: Type.String(), message: Type.String(),
  })),
  vsa: Type.Optional(Type.Object({
    payload: Type.String(), payloadType: Type.String(), signatures: Type.Array(Type.Object({ keyid: Type.String(), sig: Type.String() })),
    evidentLog: Type.Object({
      checkpoint: Type.String({ description: 'the signed checkpoint note (C2SP tlog-checkpoint) the decision was made at' }),
      entries: Type.Array(Type.Object({ index: Type.Integer(), entry: Type.String(), inclusion_proof: Type.Array(Type.String()) })),
    }, { description: 'the entries the VSA names, each with its RFC 9162 inclusion proof to the checkpoint (docs/log.md "VSA")' }),
  })),
  signed_by: Type.Optional(Type.String()),
});
export type AssertResult = Static<typeof AssertResult>;
