import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/services/index.js';
import { inclusionProof, leafHash as ledgerLeaf, appendLeaves, rootOfLeaves, type Hash } from '../../src/ledger/index.js';
import { toHex } from '../../src/core/index.js';
import { entriesAboutArtifact } from '../../src/cli/verify/artifact-scope.js';
import { inArtifactChain, selectAboutArtifact, summarizeEntry } from '../../src/web/app/verify/artifact-scope.js';
import { LeafTree } from '../../src/web/app/verify/tree.js';
import { testApp, type TestApp } from '../helpers/app.js';
import { testSigner } from '../helpers/keys.js';

// The browser builds an artifact's package as `evident export artifact` does (issue 18): it must choose the
// same entries (src/web/app/verify/artifact-scope.ts against src/cli/verify/artifact-scope.ts) and compute the
// same inclusion proofs (src/web/app/verify/tree.ts, WebCrypto, against the ledger's).

describe('the browser chooses an artifact\'s entries and proves them as the CLI does', () => {
  let t: TestApp;
  let entries: { index: number; entry: string }[] = [];
  const signer = testSigner();

  beforeAll(async () => {
    t = await testApp({ signer });
    const demo = await seedDemo(t.store, signer);
    for (let start = 0; ; start = entries.length) {
      const res = await t.app.inject({ method: 'GET', url: `/api/v1/orgs/cyber-dojo/log/entries?start=${start}`, headers: { authorization: `Bearer ${demo.token}` } });
      const items = res.json().items as { index: number; entry: string }[];
      if (items.length === 0) break;
      entries = entries.concat(items);
    }
  }, 60_000);
  afterAll(async () => t.close());

  it('chooses the same entries for every artifact of the demo', () => {
    const fps = new Set<string>();
    for (const e of entries) {
      const f = JSON.parse(e.entry) as { type: string; fingerprint?: string; artifacts?: { fingerprint: string }[] };
      if (f.type === 'artifact.reported' && f.fingerprint) fps.add(f.fingerprint);
      for (const a of f.artifacts ?? []) fps.add(a.fingerprint);
    }
    expect(fps.size).toBeGreaterThan(50);
    let largest = 0;
    for (const fp of fps) {
      const summaries = entries.flatMap((e) => {
        const f = summarizeEntry(e.entry, fp);
        return f ? [{ index: e.index, f }] : [];
      });
      const chain = summaries.filter((s) => inArtifactChain(s.f, fp)).map((s) => s.index);
      const browser = [...new Set([...selectAboutArtifact(summaries, fp), ...chain])].sort((a, b) => a - b);
      const cli = entriesAboutArtifact(entries, fp);
      // The CLI adds the artifact's own chain the same way (build-package.ts); its scope already holds it here.
      expect(browser, fp).toEqual([...new Set([...cli, ...chain])].sort((a, b) => a - b));
      largest = Math.max(largest, browser.length);
    }
    expect(largest).toBeGreaterThan(30);
  });

  it('computes the root and every inclusion proof the ledger computes, for every tree size up to 70', async () => {
    const texts = entries.slice(0, 70).map((e) => new TextEncoder().encode(e.entry));
    const leaves: Hash[] = texts.map((x) => ledgerLeaf(x));
    for (let size = 1; size <= 70; size++) {
      const tree = await LeafTree.of(leaves.slice(0, size).map((l) => new Uint8Array(l)));
      expect(toHex(await tree.root()), `root of ${size}`).toBe(toHex(rootOfLeaves(leaves.slice(0, size))));
      const stored = new Map(appendLeaves(0, [], leaves.slice(0, size)).stored.map((x) => [x.index, x.hash] as const));
      for (const m of [0, Math.floor(size / 2), size - 1]) {
        expect((await tree.inclusionProof(m)).map(toHex), `size ${size} index ${m}`).toEqual(inclusionProof(m, size, stored).map(toHex));
      }
    }
  });
});
