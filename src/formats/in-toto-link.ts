import { createHash, createPublicKey, verify } from 'node:crypto';
import { EvidentError, assertNoProblems, type ProblemDetail } from '../core/index.js';
import { compareCodePoints, sslibCanonicalBytes } from './securesystemslib-json.js';

// in-toto v0.9 metadata (github.com/in-toto/docs, in-toto-spec.md §4): links and layouts in the classic
// Metablock `{"signatures": [...], "signed": {...}}`, signed over securesystemslib canonical JSON, exactly
// as Debian's in-toto 1.3.1 reads them. Every object carries exactly the fields listed in
// shared/vectors/in-toto/README.md (pitfall 2): one more or one less changes the signed bytes.

export type ArtifactRule = string[];
export type HashObject = { sha256: string };
export type Artifacts = Record<string, HashObject>;

/** A public key as securesystemslib writes it (pitfall 3: the hash-algorithms list is part of the key). */
export interface InTotoPublicKey {
  keytype: 'ed25519';
  scheme: 'ed25519';
  keyid_hash_algorithms: ['sha256', 'sha512'];
  keyval: { public: string };
}

export interface LinkSigned {
  _type: 'link';
  name: string;
  command: string[];
  materials: Artifacts;
  products: Artifacts;
  byproducts: Record<string, unknown>;
  environment: Record<string, unknown>;
}

export interface LayoutStep {
  _type: 'step';
  name: string;
  pubkeys: string[];
  threshold: number;
  expected_command: string[];
  expected_materials: ArtifactRule[];
  expected_products: ArtifactRule[];
}

export interface LayoutInspection {
  _type: 'inspection';
  name: string;
  run: string[];
  expected_materials: ArtifactRule[];
  expected_products: ArtifactRule[];
}

export interface LayoutSigned {
  _type: 'layout';
  expires: string;
  readme: string;
  keys: Record<string, InTotoPublicKey & { keyid: string }>;
  steps: LayoutStep[];
  inspect: LayoutInspection[];
}

export interface Metablock<T> {
  signatures: { keyid: string; sig: string }[];
  signed: T;
}

export interface MetablockSigner {
  keyid: string;
  sign(message: Uint8Array): Uint8Array;
}

const HEX64 = /^[0-9a-f]{64}$/;
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** The securesystemslib form of a raw 32-byte Ed25519 public key given in hex. */
export function ed25519InTotoKey(publicHex: string): InTotoPublicKey {
  if (!HEX64.test(publicHex)) throw new EvidentError('INVALID_ARGUMENT', 'an Ed25519 public key is 64 lower-case hex characters');
  return { keytype: 'ed25519', scheme: 'ed25519', keyid_hash_algorithms: ['sha256', 'sha512'], keyval: { public: publicHex } };
}

/**
 * securesystemslib keys._get_keyid: hex SHA-256 of the canonical JSON of the public part, always with
 * `keyid_hash_algorithms: ["sha256","sha512"]`, even when a key file leaves it out (pitfall 3).
 */
export function inTotoKeyId(key: { keytype: string; scheme: string; keyval: { public: string } }): string {
  const meta = { keyid_hash_algorithms: ['sha256', 'sha512'], keytype: key.keytype, keyval: { public: key.keyval.public }, scheme: key.scheme };
  return createHash('sha256').update(sslibCanonicalBytes(meta)).digest('hex');
}

/** The text of a public key file (`owner.pub`) as in-toto-keygen writes it, for `in-toto-verify -k`. */
export function formatInTotoPublicKey(key: InTotoPublicKey): string {
  return JSON.stringify({ keytype: key.keytype, scheme: key.scheme, keyid_hash_algorithms: key.keyid_hash_algorithms, keyval: { public: key.keyval.public } });
}

/** Parses a securesystemslib Ed25519 public key (JSON text or value); other key types are refused. */
export function parseInTotoPublicKey(value: unknown): InTotoPublicKey {
  let v = value;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      throw new EvidentError('INVALID_ARGUMENT', 'not a securesystemslib key: not JSON');
    }
  }
  const k = v as { keytype?: unknown; scheme?: unknown; keyval?: { public?: unknown } } | null;
  if (typeof k !== 'object' || k === null || k.keytype !== 'ed25519' || k.scheme !== 'ed25519' || typeof k.keyval?.public !== 'string') {
    throw new EvidentError('INVALID_ARGUMENT', 'not a securesystemslib Ed25519 public key (keytype and scheme "ed25519", keyval.public hex)');
  }
  return ed25519InTotoKey(k.keyval.public);
}

/** `expires` as in-toto requires it: `YYYY-MM-DDTHH:MM:SSZ`, no fraction, no offset (pitfall 5). */
export function formatExpires(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new EvidentError('INVALID_ARGUMENT', 'invalid expiry date');
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Python fnmatch treats `*`, `?` and `[` as wildcards; `[x]` matches x literally (pitfall 8). */
export function fnmatchEscape(path: string): string {
  return path.replace(/[*?[]/g, (c) => `[${c}]`);
}

/** Artifact rules of in-toto-spec.md §4.3.3 (pitfall 8), as the string arrays a layout holds. */
export const rule = {
  match(pattern: string, withType: 'MATERIALS' | 'PRODUCTS', from: string, prefixes: { source?: string; destination?: string } = {}): ArtifactRule {
    const out = ['MATCH', pattern];
    if (prefixes.source !== undefined) out.push('IN', prefixes.source);
    out.push('WITH', withType);
    if (prefixes.destination !== undefined) out.push('IN', prefixes.destination);
    out.push('FROM', from);
    return out;
  },
  create: (pattern: string): ArtifactRule => ['CREATE', pattern],
  modify: (pattern: string): ArtifactRule => ['MODIFY', pattern],
  delete: (pattern: string): ArtifactRule => ['DELETE', pattern],
  allow: (pattern: string): ArtifactRule => ['ALLOW', pattern],
  disallow: (pattern: string): ArtifactRule => ['DISALLOW', pattern],
  require: (pattern: string): ArtifactRule => ['REQUIRE', pattern],
};

/** A link with exactly in-toto's fields. */
export function buildLink(link: Omit<LinkSigned, '_type'>): LinkSigned {
  return {
    _type: 'link', name: link.name, command: [...link.command], materials: link.materials, products: link.products,
    byproducts: link.byproducts, environment: link.environment,
  };
}

export function buildStep(step: Omit<LayoutStep, '_type'>): LayoutStep {
  return {
    _type: 'step', name: step.name, pubkeys: [...step.pubkeys], threshold: step.threshold, expected_command: [...step.expected_command],
    expected_materials: step.expected_materials, expected_products: step.expected_products,
  };
}

export function buildInspection(inspection: Omit<LayoutInspection, '_type'>): LayoutInspection {
  return {
    _type: 'inspection', name: inspection.name, run: [...inspection.run],
    expected_materials: inspection.expected_materials, expected_products: inspection.expected_products,
  };
}

/** A layout with exactly in-toto's fields; each key listed with its `keyid` (pitfall 4). */
export function buildLayout(layout: { expires: Date; readme: string; keys: InTotoPublicKey[]; steps: LayoutStep[]; inspect: LayoutInspection[] }): LayoutSigned {
  const keys: LayoutSigned['keys'] = {};
  for (const key of layout.keys) keys[inTotoKeyId(key)] = { ...key, keyid: inTotoKeyId(key) };
  return { _type: 'layout', expires: formatExpires(layout.expires), readme: layout.readme, keys, steps: layout.steps, inspect: layout.inspect };
}

/** Signs `signed` over its securesystemslib canonical bytes; signatures are hex (pitfall 6). */
export function signMetablock<T>(signed: T, signers: MetablockSigner[]): Metablock<T> {
  const bytes = sslibCanonicalBytes(signed);
  return { signatures: signers.map((s) => ({ keyid: s.keyid, sig: Buffer.from(s.sign(bytes)).toString('hex') })), signed };
}

function sortedDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedDeep);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort(compareCodePoints)) out[k] = sortedDeep((value as Record<string, unknown>)[k]);
  return out;
}

/** File text as in-toto writes metadata (`json.dumps(indent=1, sort_keys=True)`); readers re-canonicalise. */
export function formatMetablock(block: Metablock<unknown>): string {
  return JSON.stringify(sortedDeep(block), null, 1) + '\n';
}

/** The key ids among `keys` whose Ed25519 signature over the canonical `signed` verifies. */
export function verifyMetablock(block: Metablock<unknown>, keys: InTotoPublicKey[]): string[] {
  const bytes = sslibCanonicalBytes(block.signed);
  const accepted: string[] = [];
  for (const key of keys) {
    const keyid = inTotoKeyId(key);
    const publicKey = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, Buffer.from(key.keyval.public, 'hex')]), format: 'der', type: 'spki' });
    const ok = block.signatures.some((s) => {
      if (s.keyid !== keyid || !/^[0-9a-f]{128}$/.test(s.sig)) return false;
      try {
        return verify(null, bytes, publicKey, Buffer.from(s.sig, 'hex'));
      } catch {
        return false;
      }
    });
    if (ok) accepted.push(keyid);
  }
  return accepted;
}

const LINK_FIELDS = ['_type', 'byproducts', 'command', 'environment', 'materials', 'name', 'products'];

function artifactProblems(value: unknown, path: string): ProblemDetail[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [{ path, message: 'must be an object' }];
  return Object.entries(value).flatMap(([name, hash]) => {
    const h = hash as { sha256?: unknown } | null;
    return typeof h === 'object' && h !== null && typeof h.sha256 === 'string' && HEX64.test(h.sha256)
      ? []
      : [{ path: `${path}/${name}`, message: 'must be {"sha256": <64 hex>}' }];
  });
}

/**
 * Evident's own check of a link Metablock (attacker-controlled): exactly the link fields, the expected
 * step name (in-toto-verify does not check it, pitfall 7), hex signatures.
 */
export function parseLinkMetablock(value: unknown, expectedName?: string): Metablock<LinkSigned> {
  const problems: ProblemDetail[] = [];
  const block = value as { signatures?: unknown; signed?: Record<string, unknown> } | null;
  if (typeof block !== 'object' || block === null || !Array.isArray(block.signatures) || typeof block.signed !== 'object' || block.signed === null) {
    throw new EvidentError('INVALID_ARGUMENT', 'invalid in-toto link: not a {"signatures": [...], "signed": {...}} Metablock');
  }
  block.signatures.forEach((s: unknown, i) => {
    const sig = s as { keyid?: unknown; sig?: unknown } | null;
    if (typeof sig?.keyid !== 'string' || typeof sig.sig !== 'string' || !/^[0-9a-f]*$/.test(sig.sig)) {
      problems.push({ path: `/signatures/${i}`, message: 'must be {"keyid": hex, "sig": hex}' });
    }
  });
  const signed = block.signed;
  const fields = Object.keys(signed).sort();
  if (fields.join() !== LINK_FIELDS.join()) problems.push({ path: '/signed', message: `must have exactly the fields ${LINK_FIELDS.join(', ')}` });
  if (signed._type !== 'link') problems.push({ path: '/signed/_type', message: 'must be "link"' });
  if (typeof signed.name !== 'string') problems.push({ path: '/signed/name', message: 'must be a string' });
  else if (expectedName !== undefined && signed.name !== expectedName) {
    problems.push({ path: '/signed/name', message: `is ${JSON.stringify(signed.name)}, not the step ${JSON.stringify(expectedName)} its file is named for` });
  }
  if (!Array.isArray(signed.command) || !signed.command.every((c) => typeof c === 'string')) problems.push({ path: '/signed/command', message: 'must be an array of strings' });
  problems.push(...artifactProblems(signed.materials, '/signed/materials'), ...artifactProblems(signed.products, '/signed/products'));
  for (const f of ['byproducts', 'environment']) {
    const v = signed[f];
    if (typeof v !== 'object' || v === null || Array.isArray(v)) problems.push({ path: `/signed/${f}`, message: 'must be an object' });
  }
  assertNoProblems(problems, 'in-toto link');
  return block as unknown as Metablock<LinkSigned>;
}
