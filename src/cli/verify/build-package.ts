import { EvidentError, toBase64 } from '../../core/index.js';
import type { EvidentClient } from '../../client/index.js';
import type { Checkpoint } from '../../ledger/index.js';
import { PACKAGE_FORMAT, type EvidencePackage } from './evidence-package.js';

/**
 * Collects, from the server, every log entry about one artifact (its flows and trails, its reports, its
 * attestations), each with an inclusion proof against `checkpoint`. Nothing here is trusted: the result
 * is checked by verifyPackage().
 */
export async function buildArtifactPackage(
  client: EvidentClient, org: string, ref: string, verifierKey: string, note: string, cp: Checkpoint,
): Promise<EvidencePackage> {
  const { items } = await client.getArtifacts(ref);
  const fingerprints = [...new Set(items.map((a) => a.fingerprint))];
  if (fingerprints.length !== 1) {
    throw new EvidentError('INVALID_ARGUMENT', `${ref} names ${fingerprints.length} artifacts; give a longer fingerprint prefix`);
  }
  const indexes = new Set<number>();
  for (const a of items) {
    indexes.add(a.entry_index);
    for (const att of a.attestations) indexes.add(att.entry_index);
    indexes.add((await client.getFlow(a.flow)).entry_index);
    indexes.add((await client.getTrail(a.flow, a.trail)).entry_index);
  }
  const entries: EvidencePackage['entries'] = [];
  for (const index of [...indexes].sort((x, y) => x - y)) {
    if (index >= cp.size) continue; // logged after this checkpoint: proven by the next one
    const page = await client.logEntries(index, index + 1);
    const entry = page.items[0];
    if (!entry || entry.index !== index) throw new EvidentError('VERIFICATION_FAILED', `the server did not return log entry ${index}`);
    const proof = await client.inclusionProof({ index, treeSize: cp.size });
    entries.push({ index, leaf_hash: entry.leaf_hash, entry: entry.entry, inclusion_proof: proof.hashes });
  }
  // The evidence files the entries commit to travel with them, so the package checks offline.
  const digests = new Set<string>();
  for (const e of entries) {
    const evidence = (JSON.parse(e.entry) as { evidence?: { digest?: unknown }[] }).evidence ?? [];
    for (const x of evidence) if (typeof x.digest === 'string') digests.add(x.digest);
  }
  const blobs: EvidencePackage['blobs'] = [];
  for (const digest of [...digests].sort()) blobs.push({ digest, data_base64: toBase64(await client.evidenceBytes(digest)) });
  return { format: PACKAGE_FORMAT, org, subject: { type: 'artifact', fingerprint: fingerprints[0]! }, verifier_key: verifierKey, checkpoint: note, entries, blobs };
}
