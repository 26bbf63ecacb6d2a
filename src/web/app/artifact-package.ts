// An artifact's evidence package built in the browser as `evident export artifact` builds it
// (src/cli/verify/build-package.ts), so the file is byte for byte the CLI's at the same checkpoint: the whole
// log up to the checkpoint is read and its tree re-derived here from the entries' texts (the root must be the
// signed one), so the entries chosen (verify/artifact-scope.ts) are chosen from the signed log, whatever the
// server's tables say; the chosen entries are read again and must hash to the same leaves; their inclusion
// proofs are computed from those leaves. The cost is one read of the whole log, which the page says.
import type { Api } from './api.js';
import { toHex } from './verify/bytes.js';
import { leafHash } from './verify/merkle.js';
import { equalBytes } from './verify/bytes.js';
import { LeafTree } from './verify/tree.js';
import { inArtifactChain, selectAboutArtifact, summarizeEntry, type EntrySummary } from './verify/artifact-scope.js';
import type { Checkpoint } from './verify/note.js';
import type { PackageEntry } from './package.js';

export class ArtifactPackageError extends Error {
  override name = 'ArtifactPackageError';
}

const encoder = new TextEncoder();

/** Every entry about the artifact and its context, each with its inclusion proof, in log order. */
export async function artifactEntries(api: Api, cp: Checkpoint, fingerprint: string, progress?: (text: string) => void): Promise<PackageEntry[]> {
  const leaves: Uint8Array[] = [];
  const summaries: { index: number; f: EntrySummary }[] = [];
  const chain: number[] = [];
  while (leaves.length < cp.size) {
    progress?.(`Reading the log to choose from it, as evident export does: ${leaves.length} of ${cp.size} entries…`);
    const page = await api.logEntries(leaves.length, cp.size);
    if (page.items.length === 0) break;
    const hashed = await Promise.all(page.items.map((item) => leafHash(encoder.encode(item.entry))));
    page.items.forEach((item, i) => {
      if (item.index !== leaves.length) throw new ArtifactPackageError(`the server skipped or repeated log entries at index ${leaves.length}`);
      const f = summarizeEntry(item.entry, fingerprint);
      if (f) {
        summaries.push({ index: item.index, f });
        if (inArtifactChain(f, fingerprint)) chain.push(item.index);
      }
      leaves.push(hashed[i]!);
    });
  }
  progress?.(`Re-deriving the tree of ${cp.size} entries…`);
  const tree = leaves.length === cp.size && cp.size > 0 ? await LeafTree.of(leaves) : undefined;
  if (!tree || !equalBytes(await tree.root(), cp.root)) {
    throw new ArtifactPackageError(`the log entries served are not the tree of the signed checkpoint (size ${cp.size}); run evident verify log --full`);
  }
  const indexes = [...new Set([...selectAboutArtifact(summaries, fingerprint), ...chain])].sort((a, b) => a - b);
  if (indexes.length === 0) throw new ArtifactPackageError(`the log has no entry about artifact ${fingerprint} at checkpoint size ${cp.size}`);
  // The chosen texts, read again a run of consecutive indexes at a time: each must hash to the leaf above.
  const texts = new Map<number, string>();
  for (let i = 0; i < indexes.length;) {
    let j = i;
    while (j + 1 < indexes.length && indexes[j + 1] === indexes[j]! + 1 && j + 1 - i < 1000) j++;
    progress?.(`Reading the ${indexes.length} chosen entries…`);
    const page = await api.logEntries(indexes[i]!, indexes[j]! + 1);
    for (const item of page.items) {
      if (equalBytes(await leafHash(encoder.encode(item.entry)), leaves[item.index] ?? new Uint8Array())) texts.set(item.index, item.entry);
    }
    for (let k = i; k <= j; k++) {
      if (!texts.has(indexes[k]!)) throw new ArtifactPackageError(`the server returned another text for log entry ${indexes[k]!} than a moment ago`);
    }
    i = j + 1;
  }
  const entries: PackageEntry[] = [];
  for (const index of indexes) {
    entries.push({ index, leaf_hash: toHex(leaves[index]!), entry: texts.get(index)!, inclusion_proof: (await tree.inclusionProof(index)).map(toHex) });
  }
  return entries;
}
