import { Type, type Static } from 'typebox';
import { Hex32, OrgParams } from './schemas.js';

/** Shapes of the evidence vault's API (DESIGN.md §1), shared by the server's routes and the client. */
export const EvidenceItem = Type.Object({
  digest: Hex32,
  size: Type.Integer({ minimum: 0 }),
  name: Type.Union([Type.String(), Type.Null()], { description: "The part's file name, sanitised to a relative path; metadata only" }),
});
export type EvidenceItem = Static<typeof EvidenceItem>;

export const EvidenceUploaded = Type.Object({ items: Type.Array(EvidenceItem) });
export type EvidenceUploaded = Static<typeof EvidenceUploaded>;

export const EvidenceParams = Type.Object({ ...OrgParams.properties, digest: Hex32 });
