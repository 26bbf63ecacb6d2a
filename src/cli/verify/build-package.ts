import { EvidentError, bytesEqual, toBase64, toHex } from '../../core/index.js';
import type { EvidentClient } from '../../client/index.js';
import { TreeBuilder, appendLeaves, inclusionProof, leafHash, type Checkpoint, type Hash } from '../../ledger/index.js';
import { subjectKey, subjectsOf } from '../../ledger/index.js';
import { selectAboutArtifact, summarizeEntry, type EntrySummary } from './artifact-scope.js';
import { PACKAGE_FORMAT, type EvidencePackage } from './evidence-package.js';

const encoder = new TextEncoder();

/**
 * Reads the whole log up to `cp` and re-derives its tree: every leaf hash from its entry text, and the
 * root, which must be the signed one. What is chosen from these entries is then chosen from the signed log
 * itself, whatever the server's tables say; and the inclusion proofs are computed here, from these leaves.
 * Only each entry's leaf and the few fields the choice reads are kept, so memory stays small on a big log.
 */
async function chooseFromSignedLog(client: EvidentClient, cp: Checkpoint, fingerprint: string): Promise<{ indexes: number[]; leaves: Hash[] }> {
  const key = subjectKey('artifact', fingerprint);
  // The artifact's own chain (every entry about it, docs/log.md "Subjects and prev links"), beside the context.
  const chain: number[] = [];
  const leaves: Hash[] = [];
  const summaries: { index: number; f: EntrySummary }[] = [];
  const builder = new TreeBuilder();
  while (leaves.length < cp.size) {
    const page = await client.logEntries(leaves.length, cp.size);
    if (page.items.length === 0) break;
    for (const item of page.items) {
      if (item.index !== leaves.length) throw new EvidentError('VERIFICATION_FAILED', `the server skipped or repeated log entries at index ${leaves.length}`);
      const leaf = leafHash(encoder.encode(item.entry));
      const f = summarizeEntry(item.entry, fingerprint);
      if (f) summaries.push({ index: item.index, f });
      if (f && subjectsOf(f.type, f as Record<string, unknown>).some((s) => s.key === key)) chain.push(item.index);
      leaves.push(leaf);
      builder.append(leaf);
    }
  }
  if (leaves.length !== cp.size || !bytesEqual(builder.root(), cp.root)) {
    throw new EvidentError('VERIFICATION_FAILED', `the log entries served are not the tree of the signed checkpoint (size ${cp.size}); run evident verify log --full`);
  }
  const indexes = [...new Set([...selectAboutArtifact(summaries, fingerprint), ...chain])].sort((a, b) => a - b);
  return { indexes, leaves };
}

/** The texts of the chosen entries, read again a range at a time; each must be the text whose leaf was re-derived. */
async function chosenTexts(client: EvidentClient, indexes: number[], leaves: Hash[]): Promise<Map<number, string>> {
  const texts = new Map<number, string>();
  for (let i = 0; i < indexes.length;) {
    let j = i;
    while (j + 1 < indexes.length && indexes[j + 1] === indexes[j]! + 1 && j + 1 - i < 1000) j++;
    const page = await client.logEntries(indexes[i]!, indexes[j]! + 1);
    for (const item of page.items) {
      if (bytesEqual(leafHash(encoder.encode(item.entry)), leaves[item.index] ?? new Uint8Array())) texts.set(item.index, item.entry);
    }
    for (let k = i; k <= j; k++) {
      if (!texts.has(indexes[k]!)) throw new EvidentError('VERIFICATION_FAILED', `the server returned another text for log entry ${indexes[k]!} than a moment ago`);
    }
    i = j + 1;
  }
  return texts;
}

/**
 * Collects every log entry about one artifact (docs/log.md, "Evidence packages": its reports, flows and
 * trails, the attestations on it or its trails, snapshots, expectations, exemptions, and the policies and
 * attestation types that judged it), each with an inclusion proof against `checkpoint`, and the evidence
 * files they reference. The result is checked again by verifyPackage().
 */
export async function buildArtifactPackage(
  client: EvidentClient, org: string, fingerprint: string, verifierKey: string, note: string, cp: Checkpoint, mapProof?: EvidencePackage['map_proof'],
): Promise<EvidencePackage> {
  const { indexes, leaves } = await chooseFromSignedLog(client, cp, fingerprint);
  const texts = await chosenTexts(client, indexes, leaves);
  const stored = new Map(appendLeaves(0, [], leaves).stored.map((x) => [x.index, x.hash] as const));
  const entries: EvidencePackage['entries'] = indexes.map((index) => ({
    index,
    leaf_hash: toHex(leaves[index]!),
    entry: texts.get(index)!,
    inclusion_proof: inclusionProof(index, cp.size, stored).map(toHex),
  }));
  const blobs = await collectBlobs(client, entries);
  return {
    format: PACKAGE_FORMAT, org, subject: { type: 'artifact', fingerprint }, verifier_key: verifierKey, checkpoint: note, entries, blobs,
    ...(mapProof ? { map_proof: mapProof } : {}),
  };
}

/** The one artifact a reference names (fingerprint, unique prefix or FLOW:COMMIT). */
export async function resolveArtifact(client: EvidentClient, ref: string): Promise<string> {
  const { items } = await client.getArtifacts(ref);
  const fingerprints = [...new Set(items.map((a) => a.fingerprint))];
  if (fingerprints.length !== 1) {
    throw new EvidentError('INVALID_ARGUMENT', `${ref} names ${fingerprints.length} artifacts; give a longer fingerprint prefix`);
  }
  return fingerprints[0]!;
}

/** The evidence files the entries commit to travel with them, so the package checks offline. */
export async function collectBlobs(client: EvidentClient, entries: readonly { entry: string }[]): Promise<EvidencePackage['blobs']> {
  const digests = new Set<string>();
  for (const e of entries) {
    const evidence = (JSON.parse(e.entry) as { evidence?: { digest?: unknown }[] }).evidence ?? [];
    for (const x of evidence) if (typeof x.digest === 'string') digests.add(x.digest);
  }
  const blobs: EvidencePackage['blobs'] = [];
  for (const digest of [...digests].sort()) blobs.push({ digest, data_base64: toBase64(await client.evidenceBytes(digest)) });
  return blobs;
}
