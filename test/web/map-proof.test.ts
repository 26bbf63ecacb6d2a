import { describe, expect, it } from 'vitest';
import { mapExtension, mapHashOf, mapKey, mapProofToJson, proveMap, updateMap, verifyMapProof as ledgerVerify, mapProofFromJson } from '../../src/ledger/index.js';
import { mapRootOf, verifyMapProof } from '../../src/web/app/verify/map.js';

// The browser's subject map proof check (src/web/app/verify/map.ts, WebCrypto) must agree with the ledger's
// (src/ledger/map-hash.ts, Node's crypto) on presence, absence and every tampered proof: the evidence package
// download relies on it to know which entry is the newest about a subject.

const subject = (i: number) => JSON.stringify(['trail', 'flow', `t${i}`]);

describe('the in-browser subject map proof check', () => {
  // 200 subjects, the latest entry of subject i at index 3i+1; subjects 200.. are absent.
  const root = updateMap(null, Array.from({ length: 200 }, (_, i) => ({ key: mapKey(subject(i)), index: 3 * i + 1 })));
  const rootHash = mapHashOf(root);

  it('proves each present subject\'s newest entry and each absent one\'s absence, as the ledger does', async () => {
    for (const i of [0, 1, 17, 99, 199, 200, 201, 555]) {
      const proof = mapProofToJson(proveMap(root, mapKey(subject(i))));
      const expected = ledgerVerify(rootHash, mapProofFromJson(proof));
      expect(expected).toBe(i < 200 ? 3 * i + 1 : null);
      expect(await verifyMapProof(rootHash, subject(i), proof)).toBe(expected);
    }
  });

  it('refuses a proof for another subject, a changed index, a changed sibling and another root', async () => {
    const proof = mapProofToJson(proveMap(root, mapKey(subject(5))));
    await expect(verifyMapProof(rootHash, subject(6), proof)).rejects.toThrow(/another key/);
    await expect(verifyMapProof(rootHash, subject(5), { ...proof, leaf: { key: proof.leaf!.key, index: 999 } })).rejects.toThrow(/does not lead to the map root/);
    const sibling = proof.siblings[0]!.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    await expect(verifyMapProof(rootHash, subject(5), { ...proof, siblings: [sibling, ...proof.siblings.slice(1)] })).rejects.toThrow(/does not lead to the map root/);
    const other = mapHashOf(updateMap(root, [{ key: mapKey(subject(5)), index: 1000 }]));
    await expect(verifyMapProof(other, subject(5), proof)).rejects.toThrow(/does not lead to the map root/);
    // Claiming absence by dropping the leaf (a server hiding a subject's entries) does not reach the root.
    await expect(verifyMapProof(rootHash, subject(5), { ...proof, leaf: null })).rejects.toThrow(/does not lead to the map root/);
  });

  it('reads the map root from a checkpoint\'s extension line, and refuses two', () => {
    const line = mapExtension(rootHash);
    expect(mapRootOf(['other/v1 x', line])).toEqual(rootHash);
    expect(mapRootOf([])).toBeUndefined();
    expect(() => mapRootOf([line, line])).toThrow(/two map lines/);
  });
});
