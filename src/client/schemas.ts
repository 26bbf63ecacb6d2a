import { Type, type Static, type TSchema } from 'typebox';

/**
 * The HTTP API's JSON shapes: the server validates and documents with them (OpenAPI), the client types
 * its results with them. Field names are snake_case, as in Kosli's API.
 */
export const Hex32 = Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256, 64 lower-case hex characters' });

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  { $id: 'Error', description: 'Every error response' },
);
export type ErrorBody = Static<typeof ErrorBody>;

/** Lists are paginated one way everywhere: pass `cursor` back to get the next page until it is null. */
export function PageOf<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item), next_cursor: Type.Union([Type.String(), Type.Null()]) });
}

export const PageQuery = Type.Object({
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
});

export const OrgParams = Type.Object({ org: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' }) });

export const Org = Type.Object({ name: Type.String(), created_at: Type.String() });
export type Org = Static<typeof Org>;

export const WhoAmI = Type.Object({ org: Type.String(), role: Type.String(), token_id: Type.String(), token_name: Type.String() });
export type WhoAmI = Static<typeof WhoAmI>;

/** The web UI's signed-in session (POST/GET /api/v1/session); the secret itself is only in the HttpOnly cookie. */
export const WebSession = Type.Object({
  org: Type.String(), role: Type.String(), token_id: Type.String(), token_name: Type.String(),
  expires_at: Type.String({ description: 'When the session ends (never after its token)' }),
  csrf: Type.String({ description: 'Send back as X-Evident-CSRF on state-changing requests made with the cookie' }),
});
export type WebSession = Static<typeof WebSession>;

/** One new log entry as a live event (GET /api/v1/orgs/{org}/events, server-sent) describes it: what happened, and to which subjects. */
export interface LiveEntry {
  index: number;
  type: string;
  artifact?: string;
  environment?: string;
  flow?: string;
  trail?: string;
}

export const Role = Type.Union([Type.Literal('admin'), Type.Literal('member'), Type.Literal('reporter'), Type.Literal('reader')]);

export const Token = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: Type.String(),
  created_at: Type.String(),
  created_by: Type.Union([Type.String(), Type.Null()]),
  expires_at: Type.Union([Type.String(), Type.Null()]),
  revoked_at: Type.Union([Type.String(), Type.Null()]),
});
export type Token = Static<typeof Token>;

export const TokenCreate = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    role: Role,
    expires_at: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);
export type TokenCreate = Static<typeof TokenCreate>;

export const TokenCreated = Type.Object({ token: Token, secret: Type.String({ description: 'Shown once; store it now' }) });
export type TokenCreated = Static<typeof TokenCreated>;

export const TokenPage = PageOf(Token);
export type TokenPage = Static<typeof TokenPage>;

export const LogKey = Type.Object({
  verifier_key: Type.String({ description: "C2SP signed-note verifier key: <name>+<hex key id>+<base64(0x01||pub)>; the name is this org's origin" }),
  origin: Type.String({ description: "This org's checkpoint origin line" }),
  public_key_pem: Type.String({ description: 'The same Ed25519 public key as SubjectPublicKeyInfo PEM (RFC 8410), for openssl and cosign' }),
});
export type LogKey = Static<typeof LogKey>;

export const LogEntry = Type.Object({
  index: Type.Integer({ minimum: 0 }),
  leaf_hash: Hex32,
  entry: Type.String({ description: 'The exact RFC 8785 canonical JSON text that was hashed' }),
});
export type LogEntry = Static<typeof LogEntry>;

export const LogEntryPage = PageOf(LogEntry);
export type LogEntryPage = Static<typeof LogEntryPage>;

export const EntriesQuery = Type.Object({
  start: Type.Optional(Type.Integer({ minimum: 0 })),
  end: Type.Optional(Type.Integer({ minimum: 0, description: 'Exclusive; defaults to the tree size' })),
  cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,16}$' })),
});

export const InclusionQuery = Type.Object({
  index: Type.Optional(Type.Integer({ minimum: 0 })),
  leaf_hash: Type.Optional(Hex32),
  tree_size: Type.Optional(Type.Integer({ minimum: 1, description: 'Defaults to the current tree size' })),
});

export const InclusionProof = Type.Object({
  index: Type.Integer(),
  tree_size: Type.Integer(),
  leaf_hash: Hex32,
  hashes: Type.Array(Hex32),
});
export type InclusionProof = Static<typeof InclusionProof>;

export const ConsistencyQuery = Type.Object({
  from: Type.Integer({ minimum: 0 }),
  to: Type.Optional(Type.Integer({ minimum: 0, description: 'Defaults to the current tree size' })),
});

export const ConsistencyProof = Type.Object({ from: Type.Integer(), to: Type.Integer(), hashes: Type.Array(Hex32) });
export type ConsistencyProof = Static<typeof ConsistencyProof>;

export const MapProofQuery = Type.Object({
  subject: Type.String({ minLength: 1, maxLength: 1100, description: 'The subject key: ["artifact","<fingerprint>"], ["trail","<flow>","<trail>"], ["environment","<name>"] or ["flow","<name>"]' }),
  tree_size: Type.Optional(Type.Integer({ minimum: 0, description: 'Must be the current tree size: proofs are served at the latest checkpoint' })),
});

/** docs/log.md, "The subject map": the latest entry about a subject (or its absence) at a signed checkpoint. */
export const MapProof = Type.Object({
  subject: Type.String(),
  tree_size: Type.Integer(),
  checkpoint: Type.String({ description: 'The signed checkpoint whose map line the proof leads to' }),
  proof: Type.Object({
    key: Hex32,
    siblings: Type.Array(Hex32, { maxItems: 256 }),
    leaf: Type.Union([Type.Null(), Type.Object({ key: Hex32, index: Type.Integer({ minimum: 0 }) })]),
  }),
});
export type MapProof = Static<typeof MapProof>;

export const Health = Type.Object({ status: Type.String() });
