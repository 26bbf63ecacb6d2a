import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  appendLeaves, checkLeaves, inclusionProofPlan, leafCheckPlan, leafHash, splitStoredHashIndex, storedHashIndex, type Hash, type KnownNodes,
} from '../../src/ledger/index.js';

// ledger/leaf-check.ts: many leaves checked against one root. Properties: an honest tree passes for any set of
// leaves and any set of known subtrees taken from it; an edit of any leaf, of any stored hash the plan reads,
// or of the root is refused; the plan reads no more than the proofs of the leaves would.

interface Tree {
  size: number;
  leaves: Hash[];
  stored: Map<number, Hash>;
  root: Hash;
}

function tree(size: number): Tree {
  const leaves = Array.from({ length: size }, (_, i) => leafHash(new TextEncoder().encode(`entry ${i}`)));
  const built = appendLeaves(0, [], leaves);
  return { size, leaves, stored: new Map(built.stored.map((s) => [s.index, s.hash])), root: built.root };
}

const TREES = new Map<number, Tree>();
const treeOf = (size: number) => TREES.get(size) ?? (TREES.set(size, tree(size)), TREES.get(size)!);

/** Known subtrees: the true hashes of the stored perfect subtrees at the chosen stored indexes (leaves excluded). */
function knownOf(t: Tree, picks: readonly number[]): KnownNodes {
  const known = new Map<string, Hash>();
  for (const pick of picks) {
    const index = [...t.stored.keys()][pick % t.stored.size]!;
    const { level, n } = splitStoredHashIndex(index);
    if (level > 0) known.set(`${level}/${n}`, t.stored.get(index)!);
  }
  return (level, n) => known.get(`${level}/${n}`);
}

const leavesMap = (t: Tree, indexes: readonly number[]) => new Map(indexes.map((i) => [i, t.leaves[i]!]));
const flip = (h: Hash) => {
  const out = new Uint8Array(h);
  out[0]! ^= 1;
  return out;
};

const arbCase = fc.integer({ min: 1, max: 700 }).chain((size) => fc.record({
  size: fc.constant(size),
  leaves: fc.uniqueArray(fc.integer({ min: 0, max: size - 1 }), { minLength: 1, maxLength: 12 }),
  known: fc.array(fc.nat(), { maxLength: 8 }),
}));

describe('checkLeaves', () => {
  it('accepts the leaves of an honest tree, whatever subtrees are known', () => {
    fc.assert(fc.property(arbCase, ({ size, leaves, known }) => {
      const t = treeOf(size);
      const k = knownOf(t, known);
      const plan = leafCheckPlan(size, leaves, k);
      const stored = new Map(plan.map((i) => [i, t.stored.get(i)!]));
      const { checked } = checkLeaves(size, t.root, leavesMap(t, leaves), stored, k);
      // Every subtree it reports as bound is the true one.
      for (const node of checked) expect(node.hash).toEqual(t.stored.get(storedHashIndex(node.level, node.n)));
      // It reads no more than one inclusion proof per leaf would.
      const proofs = new Set(leaves.flatMap((i) => inclusionProofPlan(i, size)));
      expect(plan.length).toBeLessThanOrEqual(proofs.size);
    }), { numRuns: 400 });
  });

  it('refuses an edited leaf, an edited stored hash it reads, or another root', () => {
    fc.assert(fc.property(arbCase, fc.nat(), ({ size, leaves, known }, which) => {
      const t = treeOf(size);
      const k = knownOf(t, known);
      const plan = leafCheckPlan(size, leaves, k);
      const stored = new Map(plan.map((i) => [i, t.stored.get(i)!]));
      const edited = leavesMap(t, leaves);
      const leaf = leaves[which % leaves.length]!;
      edited.set(leaf, flip(edited.get(leaf)!));
      expect(() => checkLeaves(size, t.root, edited, stored, k)).toThrow(expect.objectContaining({ code: 'TAMPERED' }));
      if (plan.length > 0) {
        const bad = new Map(stored);
        const index = plan[which % plan.length]!;
        bad.set(index, flip(bad.get(index)!));
        expect(() => checkLeaves(size, t.root, leavesMap(t, leaves), bad, k)).toThrow(expect.objectContaining({ code: 'TAMPERED' }));
        const missing = new Map(stored);
        missing.delete(index);
        expect(() => checkLeaves(size, t.root, leavesMap(t, leaves), missing, k)).toThrow(/stored hash .* is missing/);
      }
      // Without known subtrees every leaf is checked against the root: another root is refused.
      const noneKnown = new Map(leafCheckPlan(size, leaves).map((i) => [i, t.stored.get(i)!]));
      expect(() => checkLeaves(size, flip(t.root), leavesMap(t, leaves), noneKnown)).toThrow(/do(es)? not lead to the signed root/);
    }), { numRuns: 400 });
  });

  it('checks a leaf under a known subtree against that subtree alone, and names the leaves that fail', () => {
    const t = treeOf(600);
    const anchor = t.stored.get(storedHashIndex(8, 1))!; // leaves 256–511
    const known: KnownNodes = (level, n) => (level === 8 && n === 1 ? anchor : undefined);
    const plan = leafCheckPlan(600, [300], known);
    expect(plan).toHaveLength(8);
    const stored = new Map(plan.map((i) => [i, t.stored.get(i)!]));
    // The root is not consulted: a wrong one does not matter for this leaf.
    expect(() => checkLeaves(600, new Uint8Array(32), leavesMap(t, [300]), stored, known)).not.toThrow();
    const edited = new Map([[300, flip(t.leaves[300]!)]]);
    expect(() => checkLeaves(600, t.root, edited, stored, known)).toThrow('log entry 300 does not hash to the subtree (8, 1) checked before against the signed root');
  });

  it('refuses leaf indexes outside the tree', () => {
    const t = treeOf(10);
    expect(() => leafCheckPlan(10, [10])).toThrow(/not below tree size 10/);
    expect(() => checkLeaves(10, t.root, new Map([[-1, t.leaves[0]!]]), new Map())).toThrow();
  });
});
