import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/index.js';
import { canonicalJson } from '../../src/formats/index.js';
import {
  appendLeaves, consistencyProof, inclusionProof, leafHash, rootOfLeaves, storedHashIndex, type Checkpoint, type Hash,
} from '../../src/ledger/index.js';
import { checkAllEntries, type LogSource } from '../../src/cli/verify/log-verifier.js';

const encoder = new TextEncoder();
const text = (n: number, edited = false) => canonicalJson({ v: 1, type: 'test.record', org: 'acme', time: '2026-12-06T00:00:00Z', n, ...(edited ? { x: 1 } : {}) });

type Tamper = 'text+leaf' | 'text+leaf+level0' | 'everything';

/**
 * A server whose database an attacker edited after checkpoint `cp` was signed: entry K's text and its leaf
 * hash column, optionally its level-0 stored hash (F8), or every stored hash (recomputed from the forged
 * leaves). Its proofs are built from the stored hashes, as the real server's are.
 */
function tamperedLog(size: number, k: number, tamper: Tamper): { source: LogSource; cp: Checkpoint } {
  const texts = Array.from({ length: size }, (_, i) => text(i));
  const leaves = texts.map((t) => leafHash(encoder.encode(t)));
  const cp: Checkpoint = { origin: 'evident.test/acme', size, root: rootOfLeaves(leaves), extensions: [] };
  const stored = new Map(appendLeaves(0, [], leaves).stored.map((x) => [x.index, x.hash] as const));
  texts[k] = text(k, true);
  const forged = leafHash(encoder.encode(texts[k]!));
  const leafColumn: Hash[] = [...leaves];
  leafColumn[k] = forged;
  if (tamper === 'text+leaf+level0') stored.set(storedHashIndex(0, k), forged);
  if (tamper === 'everything') for (const x of appendLeaves(0, [], leafColumn).stored) stored.set(x.index, x.hash);
  const source: LogSource = {
    checkpoint: () => Promise.reject(new Error('not used')),
    consistencyProof: async (from, to) => ({ hashes: consistencyProof(from, to ?? size, stored).map(toHex) }),
    inclusionProof: async ({ index, treeSize }) => ({ hashes: inclusionProof(index, treeSize, stored).map(toHex) }),
    logEntries: async (start, end) => ({
      items: texts.slice(start, Math.min(end ?? size, start + 7)).map((entry, i) => ({ index: start + i, entry, leaf_hash: toHex(leafColumn[start + i]!) })),
      next_cursor: null,
    }),
  };
  return { source, cp };
}

describe('verify log --full names the first changed entry without trusting stored hashes (F8)', () => {
  it('names K exactly, odd or even, when only the entry text and its leaf hash column were rewritten', async () => {
    for (const k of [0, 2, 3, 10, 13, 20, 31]) {
      const { source, cp } = tamperedLog(40, k, 'text+leaf');
      const res = await checkAllEntries(source, cp, 'acme');
      expect(res, `K=${k}`).toMatchObject({ ok: false, firstBad: k, firstBadRange: [k, k] });
      expect(res.message).toBe(`entry ${k} is not the entry the signed tree committed to: it was changed after it was logged`);
    }
  });

  it('with the level-0 stored hash rewritten too, never names an unchanged entry as the changed one (odd K was reported as K-1)', async () => {
    for (const k of [3, 13, 10, 20]) {
      const { source, cp } = tamperedLog(40, k, 'text+leaf+level0');
      const res = await checkAllEntries(source, cp, 'acme');
      // The signed root commits to the pair (K & ~1, K | 1) only through their parent, whose children were
      // both re-derived from the database: the pair is the most anyone can name, and K is in it.
      const pair: [number, number] = [k & ~1, k | 1];
      expect(res, `K=${k}`).toMatchObject({ ok: false, firstBad: pair[0], firstBadRange: pair });
      expect(res.message).toMatch(new RegExp(`^entry ${pair[0]} or ${pair[1]} is not the entry the signed tree committed to`));
    }
  });

  it('any size, any K, any of the three rewrites: the range holds K and every entry before it is unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 150 }).chain((size) => fc.tuple(fc.constant(size), fc.integer({ min: 0, max: size - 1 }))),
        fc.constantFrom<Tamper>('text+leaf', 'text+leaf+level0', 'everything'),
        async ([size, k], tamper) => {
          const { source, cp } = tamperedLog(size, k, tamper);
          const res = await checkAllEntries(source, cp, 'acme');
          expect(res.ok).toBe(false);
          const [from, to] = res.firstBadRange!;
          expect(from).toBeLessThanOrEqual(k);
          expect(to).toBeGreaterThanOrEqual(k);
          expect(res.firstBad).toBe(from);
          if (tamper === 'text+leaf') expect([from, to]).toEqual([k, k]);
          // A last leaf without a sibling (odd size) hangs from the top of the tree: every proof for an
          // earlier prefix passes through its rewritten hash, so only the range [0, K] can be named.
          if (tamper === 'text+leaf+level0' && !(size % 2 === 1 && k === size - 1)) expect(to - from).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 200 },
    );
  });
});
