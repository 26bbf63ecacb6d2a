import { createHash } from 'node:crypto';
import { Type, type Static } from 'typebox';
import { Check as isValid, Errors } from 'typebox/value';
import { EvidentError, fromBase64, fromHex, toHex } from '../../core/index.js';
import { canonicalJson } from '../../formats/index.js';
import { leafHash, openCheckpoint, verifyInclusion, type NoteVerifier } from '../../ledger/index.js';
import { logOrigin, logVerifiers, type Check } from './log-verifier.js';
import { checkCompleteness, describeSubject } from './completeness.js';

/**
 * An evidence package: everything needed to prove, offline and without the server, what the log says
 * about one subject (an artifact, a trail or an environment) — its entries, their RFC 9162 inclusion
 * proofs, the signed checkpoint they are proven against, the subject map proof that they are all of them
 * as of that checkpoint (docs/log.md, "Complete packages"), and the evidence files the entries reference.
 */
export const PACKAGE_FORMAT = 'evident-evidence-package/v1';

const Hex64 = Type.String({ pattern: '^[0-9a-f]{64}$' });
const Name = Type.String({ minLength: 1, maxLength: 256 });
export const EvidencePackage = Type.Object({
  format: Type.Literal(PACKAGE_FORMAT),
  org: Type.String({ minLength: 1, maxLength: 64 }),
  subject: Type.Union([
    Type.Object({ type: Type.Literal('artifact'), fingerprint: Hex64 }),
    Type.Object({ type: Type.Literal('trail'), flow: Name, trail: Name }),
    Type.Object({ type: Type.Literal('environment'), environment: Name }),
  ]),
  verifier_key: Type.String({ maxLength: 1000 }),
  checkpoint: Type.String({ maxLength: 100_000 }),
  entries: Type.Array(
    Type.Object({ index: Type.Integer({ minimum: 0 }), leaf_hash: Hex64, entry: Type.String(), inclusion_proof: Type.Array(Hex64, { maxItems: 64 }) }),
    { maxItems: 100_000 },
  ),
  blobs: Type.Array(Type.Object({ digest: Hex64, data_base64: Type.String() })),
  /** The subject map proof for the subject at the checkpoint (absent from packages of logs without a map). */
  map_proof: Type.Optional(Type.Object({
    subject: Type.String({ maxLength: 1100 }),
    proof: Type.Object({
      key: Hex64,
      siblings: Type.Array(Hex64, { maxItems: 256 }),
      leaf: Type.Union([Type.Null(), Type.Object({ key: Hex64, index: Type.Integer({ minimum: 0 }) })]),
    }),
  })),
  /** The witness policy the package was made under (docs/log.md "Witnesses"); a verifier's own policy wins. */
  witness_policy: Type.Optional(Type.Object({
    threshold: Type.Integer({ minimum: 1, maximum: 100 }),
    witnesses: Type.Array(Type.String({ maxLength: 1000 }), { minItems: 1, maxItems: 100 }),
  })),
});
export type EvidencePackage = Static<typeof EvidencePackage>;

/** Validates an untrusted package file, reporting every shape problem with its path. */
export function parsePackage(text: string, source: string): EvidencePackage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new EvidentError('INVALID_ARGUMENT', `${source} is not JSON: ${(err as Error).message}`);
  }
  if (!isValid(EvidencePackage, value)) {
    const details = [...Errors(EvidencePackage, value)].slice(0, 20).map((e) => ({ path: e.instancePath || '/', message: e.message }));
    throw new EvidentError('VERIFICATION_FAILED', `${source} is not an evidence package (${PACKAGE_FORMAT}): ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`, { details });
  }
  return value as EvidencePackage;
}

interface EntryFields {
  type?: string;
  org?: string;
  flow?: string;
  trail?: string;
  artifact?: string;
  fingerprint?: string;
  artifact_fingerprint?: string | null;
  artifact_name?: string | null;
  evidence?: { digest?: string }[];
}

/**
 * Verifies a package against a trusted log key. Pure: every check is recomputed from the package's bytes.
 * Returns the checks in order; the first failing one says why.
 */
export function verifyPackage(pkg: EvidencePackage, verifier: NoteVerifier): Check[] {
  const checks: Check[] = [];
  const origin = logOrigin(verifier, pkg.org);
  let cp;
  try {
    cp = openCheckpoint(pkg.checkpoint, logVerifiers(verifier, origin));
    if (cp.origin !== origin) throw new EvidentError('VERIFICATION_FAILED', `checkpoint origin is ${JSON.stringify(cp.origin)}, expected ${JSON.stringify(origin)}`);
  } catch (err) {
    return [{ ok: false, message: `Checkpoint: ${(err as Error).message}` }];
  }
  checks.push({ ok: true, message: `Checkpoint signature valid (${origin}, size ${cp.size})` });

  const fields: EntryFields[] = [];
  const byIndex = new Map<number, Record<string, unknown>>();
  for (const e of pkg.entries) {
    const where = `entry ${e.index}`;
    if (toHex(leafHash(new TextEncoder().encode(e.entry))) !== e.leaf_hash) return [...checks, { ok: false, message: `${where}: its text does not match its leaf hash` }];
    try {
      verifyInclusion(e.index, cp.size, fromHex(e.leaf_hash), e.inclusion_proof.map((h) => fromHex(h)), cp.root);
    } catch (err) {
      return [...checks, { ok: false, message: `${where}: not included in the checkpoint (${(err as Error).message})` }];
    }
    let parsed: EntryFields;
    try {
      parsed = JSON.parse(e.entry) as EntryFields;
      if (canonicalJson(parsed) !== e.entry) throw new Error('not canonical JSON');
    } catch (err) {
      return [...checks, { ok: false, message: `${where}: ${(err as Error).message}` }];
    }
    if (parsed.org !== pkg.org) return [...checks, { ok: false, message: `${where}: belongs to org ${JSON.stringify(parsed.org)}` }];
    if (byIndex.has(e.index)) return [...checks, { ok: false, message: `${where} is in the package twice` }];
    fields.push(parsed);
    byIndex.set(e.index, parsed as Record<string, unknown>);
  }
  checks.push({ ok: true, message: `All ${pkg.entries.length} entries are included in the checkpoint (RFC 9162 inclusion proofs)` });
  const complete = checkCompleteness({ subject: pkg.subject, checkpoint: cp, mapProof: pkg.map_proof, entries: byIndex });
  checks.push(complete);
  if (!complete.ok) return checks;
  if (pkg.subject.type === 'artifact') {
    const about = artifactCheck(pkg.subject.fingerprint, fields, pkg);
    checks.push(about);
    if (!about.ok) return checks;
  } else {
    checks.push({ ok: true, message: `The entries are about ${describeSubject(pkg.subject)}` });
  }
  return [...checks, ...blobChecks(pkg, fields)];
}

function artifactCheck(fp: string, fields: EntryFields[], pkg: EvidencePackage): Check {
  const reports = fields.filter((f) => f.type === 'artifact.reported' && f.fingerprint === fp);
  if (reports.length === 0) return { ok: false, message: `no entry reports artifact ${fp}` };
  const named = new Set(reports.map((r) => `${r.flow}/${r.trail}/${r.artifact}`));
  const stray = fields.findIndex(
    (f) => f.type === 'attestation.reported' && f.artifact_fingerprint !== fp && !named.has(`${f.flow}/${f.trail}/${f.artifact_name}`) && f.artifact_name !== null,
  );
  if (stray >= 0) return { ok: false, message: `entry ${pkg.entries[stray]!.index} is an attestation about another artifact` };
  return { ok: true, message: `The entries are about artifact ${fp} (${reports.length} report${reports.length === 1 ? '' : 's'})` };
}

function blobChecks(pkg: EvidencePackage, fields: EntryFields[]): Check[] {
  const have = new Map<string, boolean>();
  for (const b of pkg.blobs) {
    const data = fromBase64(b.data_base64, `blob ${b.digest}`);
    have.set(b.digest, createHash('sha256').update(data).digest('hex') === b.digest);
  }
  const bad = [...have].find(([, ok]) => !ok);
  if (bad) return [{ ok: false, message: `evidence file ${bad[0]} does not match its digest` }];
  const referenced = fields.flatMap((f) => (f.evidence ?? []).map((x) => x.digest ?? ''));
  const missing = referenced.find((d) => !have.has(d));
  if (missing !== undefined) return [{ ok: false, message: `evidence file ${missing} is referenced but not in the package` }];
  return [{ ok: true, message: `All ${have.size} evidence files match their digests` }];
}
