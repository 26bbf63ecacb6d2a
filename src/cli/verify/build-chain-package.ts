import { EvidentError, bytesEqual, fromHex, toHex } from '../../core/index.js';
import type { EvidentClient } from '../../client/index.js';
import {
  leafHash, linksOf, mapProofFromJson, mapRootOf, verifyInclusion, verifyMapProof, type Checkpoint,
} from '../../ledger/index.js';
import { collectBlobs } from './build-package.js';
import { describeSubject, subjectKeyOf, type PackageSubject } from './completeness.js';
import { PACKAGE_FORMAT, type EvidencePackage } from './evidence-package.js';

const encoder = new TextEncoder();

/**
 * A package of one subject's chain (docs/log.md, "Complete packages"): the map proof says which entry is the
 * newest about it at the checkpoint, and each entry's `prev` link names the one before, so only the chain's
 * entries are read (with an inclusion proof each), not the whole log. Everything is checked as it is read;
 * verifyPackage() checks the result again.
 */
export async function buildChainPackage(
  client: EvidentClient, org: string, subject: PackageSubject, verifierKey: string, note: string, cp: Checkpoint,
  mapProof: EvidencePackage['map_proof'],
): Promise<EvidencePackage> {
  const what = describeSubject(subject);
  const key = subjectKeyOf(subject);
  const root = mapRootOf(cp.extensions);
  if (root === undefined || !mapProof) {
    throw new EvidentError('NOT_FOUND', `the log has no subject map at checkpoint size ${cp.size} yet (it is built at the next append): a ${subject.type} package cannot be proven complete`);
  }
  let idx = verifyMapProof(root, mapProofFromJson(mapProof.proof));
  if (idx === null) throw new EvidentError('NOT_FOUND', `the log has no entry about ${what} at checkpoint size ${cp.size}`);
  const entries: EvidencePackage['entries'] = [];
  while (idx !== null) {
    const page = await client.logEntries(idx, idx + 1);
    const item = page.items[0];
    if (!item || item.index !== idx) throw new EvidentError('VERIFICATION_FAILED', `the server did not return log entry ${idx}`);
    const leaf = leafHash(encoder.encode(item.entry));
    const proof = await client.inclusionProof({ index: idx, treeSize: cp.size });
    const hashes = proof.hashes.map((h) => fromHex(h));
    verifyInclusion(idx, cp.size, leaf, hashes, cp.root);
    if (!bytesEqual(leaf, fromHex(proof.leaf_hash))) throw new EvidentError('VERIFICATION_FAILED', `the server's leaf hash for entry ${idx} is not its text's`);
    entries.push({ index: idx, leaf_hash: toHex(leaf), entry: item.entry, inclusion_proof: proof.hashes });
    const links = linksOf(JSON.parse(item.entry) as Record<string, unknown>, idx);
    if (links === undefined) break; // logged before prev links: the chain cannot be followed further
    const link = links.find((l) => l.subject.key === key);
    if (!link) throw new EvidentError('VERIFICATION_FAILED', `log entry ${idx} is not about ${what}`);
    idx = link.prev;
  }
  entries.reverse();
  const blobs = await collectBlobs(client, entries);
  return { format: PACKAGE_FORMAT, org, subject, verifier_key: verifierKey, checkpoint: note, entries, blobs, map_proof: mapProof };
}
