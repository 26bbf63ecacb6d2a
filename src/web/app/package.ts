// An evidence package built in the browser (issue 18, "download of an artifact's evidence package from the
// UI"): the file `evident export trail|environment` writes — format evident-evidence-package/v1
// (src/cli/verify/evidence-package.ts) — for people who have no CLI at hand, to be checked offline with
// `evident verify package`. Every part is checked here as it is read, as the CLI does: the checkpoint's
// signature with the log's key, the subject map proof against the checkpoint's map root, each entry's
// inclusion proof, each `prev` link, each evidence file's digest — and, as `evident export` does, that the
// checkpoint is consistent with the last one this browser saw of the log (remembered.ts). No DOM here.
import type { Api } from './api.js';
import { artifactEntries } from './artifact-package.js';
import { checkRemembered, rememberedLine, type SeenStorage } from './remembered.js';
import { fromHex, sha256, toBase64, toHex } from './verify/bytes.js';
import { mapRootOf, verifyMapProof, type MapProofJson } from './verify/map.js';
import { leafHash, verifyInclusion } from './verify/merkle.js';
import { parseCheckpointText, parseVerifierKey, verifyNote, type Checkpoint } from './verify/note.js';

export const PACKAGE_FORMAT = 'evident-evidence-package/v1';

export type PackageSubject =
  | { type: 'artifact'; fingerprint: string }
  | { type: 'trail'; flow: string; trail: string }
  | { type: 'environment'; environment: string };

export interface PackageEntry {
  index: number;
  leaf_hash: string;
  entry: string;
  inclusion_proof: string[];
}

export interface EvidencePackage {
  format: typeof PACKAGE_FORMAT;
  org: string;
  subject: PackageSubject;
  verifier_key: string;
  checkpoint: string;
  entries: PackageEntry[];
  blobs: { digest: string; data_base64: string }[];
  map_proof: { subject: string; proof: MapProofJson };
}

/** The subject key text (src/ledger/subjects.ts subjectKey): a JSON array of the kind and its names. */
export function subjectKeyOf(s: PackageSubject): string {
  if (s.type === 'artifact') return JSON.stringify(['artifact', s.fingerprint]);
  if (s.type === 'trail') return JSON.stringify(['trail', s.flow, s.trail]);
  return JSON.stringify(['environment', s.environment]);
}

export function describeSubject(s: PackageSubject): string {
  if (s.type === 'artifact') return `artifact ${s.fingerprint}`;
  if (s.type === 'trail') return `trail ${s.flow}/${s.trail}`;
  return `environment ${s.environment}`;
}

class PackageError extends Error {
  override name = 'PackageError';
}

/** One entry with its inclusion proof, both checked against the signed checkpoint. */
async function provenEntry(api: Api, cp: Checkpoint, index: number): Promise<PackageEntry> {
  const item = (await api.logEntries(index, index + 1)).items[0];
  if (!item || item.index !== index) throw new PackageError(`the server did not return log entry ${index}`);
  const leaf = await leafHash(new TextEncoder().encode(item.entry));
  const proof = await api.inclusionProof(index, cp.size);
  if (!(await verifyInclusion(index, cp.size, leaf, proof.hashes.map(fromHex), cp.root))) {
    throw new PackageError(`log entry ${index} is not included in the signed checkpoint (size ${cp.size})`);
  }
  return { index, leaf_hash: toHex(leaf), entry: item.entry, inclusion_proof: proof.hashes };
}

/** The previous entry about the subject, from the entry's own `prev` links (docs/log.md "Subjects and prev links"). */
function previous(entry: string, index: number, kind: string): number | null | undefined {
  const parsed = JSON.parse(entry) as { prev?: Record<string, unknown> };
  if (!('prev' in parsed)) return undefined; // logged before prev links: the chain ends here, as the CLI's does
  const prev = parsed.prev;
  if (prev === null || typeof prev !== 'object' || !(kind in prev)) throw new PackageError(`log entry ${index} is not about this ${kind}`);
  const p = prev[kind];
  if (p === null) return null;
  if (typeof p !== 'number' || !Number.isSafeInteger(p) || p < 0 || p >= index) throw new PackageError(`log entry ${index}'s prev link is not an earlier entry`);
  return p;
}

export interface Built {
  pkg: EvidencePackage;
  /** Whether the log only grew since this browser last saw it (the remembered-checkpoint line). */
  remembered: string;
  /** The file's text, as the CLI writes it (two-space JSON and a newline). */
  text: string;
  size: number;
}

/**
 * Builds the package of `subject`, the file `evident export` writes: for a trail or an environment, the map
 * proof names the newest entry about it at the checkpoint and the `prev` links lead back to the first; an
 * artifact's entries and their context are chosen from the whole signed log (artifact-package.ts). `context`
 * adds further entries, each proven included (none, for the packages the pages offer).
 */
export async function buildPackage(
  api: Api, org: string, subject: PackageSubject, context: number[] = [], progress?: (text: string) => void, storage?: SeenStorage,
): Promise<Built> {
  const key = subjectKeyOf(subject);
  const what = describeSubject(subject);
  const [{ verifier_key }, mp] = await Promise.all([api.logKey(), api.mapProof(key)]);
  const opened = await verifyNote(mp.checkpoint, await parseVerifierKey(verifier_key));
  if (!opened.verified) throw new PackageError(`the checkpoint's signature does not verify: ${opened.reason ?? 'unknown reason'}`);
  const cp = parseCheckpointText(opened.text);
  // A rolled-back or forked log signs checkpoints that verify alone: only the memory of an earlier one
  // catches it, so a conflict stops the download, as it stops `evident export`.
  let remembered = 'Not compared with an earlier checkpoint (this browser keeps none).';
  if (storage) {
    const line = rememberedLine(await checkRemembered(api, { note: mp.checkpoint, verifierKey: verifier_key, verified: true, origin: cp.origin, size: cp.size, root: cp.root }, storage));
    if (!line.ok) throw new PackageError(line.text);
    remembered = line.text;
  }
  const root = mapRootOf(cp.extensions);
  if (root === undefined) throw new PackageError(`the log has no subject map at checkpoint size ${cp.size} yet: a package cannot be proven complete`);
  let idx: number | null | undefined = await verifyMapProof(root, key, mp.proof);
  if (idx === null) throw new PackageError(`the log has no entry about ${what} at checkpoint size ${cp.size}`);
  const entries = new Map<number, PackageEntry>();
  // An artifact's package holds its context too, chosen from the whole signed log as the CLI chooses it.
  if (subject.type === 'artifact') {
    for (const e of await artifactEntries(api, cp, subject.fingerprint, progress)) entries.set(e.index, e);
    idx = undefined;
    context = [];
  }
  while (idx !== null && idx !== undefined) {
    progress?.(`Reading entry ${idx} (${entries.size + 1} so far)…`);
    const e = await provenEntry(api, cp, idx);
    entries.set(idx, e);
    idx = previous(e.entry, idx, subject.type);
  }
  for (const i of context) {
    if (entries.has(i) || !Number.isSafeInteger(i) || i < 0 || i >= cp.size) continue;
    progress?.(`Reading entry ${i}…`);
    entries.set(i, await provenEntry(api, cp, i));
  }
  const sorted = [...entries.values()].sort((a, b) => a.index - b.index);
  const digests = new Set<string>();
  for (const e of sorted) {
    for (const x of (JSON.parse(e.entry) as { evidence?: { digest?: unknown }[] }).evidence ?? []) if (typeof x.digest === 'string') digests.add(x.digest);
  }
  const blobs: EvidencePackage['blobs'] = [];
  for (const digest of [...digests].sort()) {
    progress?.(`Fetching evidence file ${digest.slice(0, 12)}…`);
    const data = new Uint8Array(await (await api.evidence(digest)).arrayBuffer());
    if (toHex(await sha256(data)) !== digest) throw new PackageError(`evidence file ${digest} does not match its digest`);
    blobs.push({ digest, data_base64: toBase64(data) });
  }
  const pkg: EvidencePackage = {
    format: PACKAGE_FORMAT, org, subject, verifier_key, checkpoint: mp.checkpoint, entries: sorted, blobs, map_proof: { subject: key, proof: mp.proof },
  };
  const text = JSON.stringify(pkg, null, 2) + '\n';
  return { pkg, remembered, text, size: new TextEncoder().encode(text).length };
}
