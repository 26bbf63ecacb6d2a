import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/index.js';
import { appendLeaves, consistencyProof, formatCheckpoint, generateSignerKey, leafHash, parseSignerKey, rootOfLeaves, signNote, type Hash } from '../../src/ledger/index.js';
import { checkRemembered, forgetSeen, type Current, type SeenStorage } from '../../src/web/app/remembered.js';
import { verifyConsistency } from '../../src/web/app/verify/merkle.js';

// The web page's memory of the last checkpoint (docs/web.md): its consistency check (WebCrypto) must agree
// with the server's RFC 9162 proofs, and a rollback, a fork or another key must be caught and never saved.

const ORIGIN = 'evident.test/acme';
const signer = parseSignerKey(generateSignerKey(ORIGIN).signerKey);
const leavesOf = (n: number, salt = ''): Hash[] => Array.from({ length: n }, (_, i) => leafHash(new TextEncoder().encode(`${salt}${i}`)));

function tree(n: number, salt = '') {
  const leaves = leavesOf(n, salt);
  const stored = new Map<number, Hash>(appendLeaves(0, [], leaves).stored.map((x) => [x.index, x.hash]));
  return {
    current: (size: number, key = signer): Current => {
      const root = rootOfLeaves(leaves.slice(0, size));
      return { note: signNote(formatCheckpoint({ origin: ORIGIN, size, root }), [key]), verifierKey: key.verifierKey, verified: true, origin: ORIGIN, size, root };
    },
    source: { consistencyProof: async (from: number, to: number) => ({ hashes: consistencyProof(from, to, stored).map(toHex) }) },
  };
}

function memory(): SeenStorage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v) };
}

describe('the browser\'s RFC 9162 consistency check', () => {
  it('accepts every proof the server makes, and no proof with one bit changed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 0, max: 70 }), fc.nat(), async (m, extra, pick) => {
        const n = m + extra;
        const leaves = leavesOf(n);
        const stored = new Map<number, Hash>(appendLeaves(0, [], leaves).stored.map((x) => [x.index, x.hash]));
        const proof = consistencyProof(m, n, stored);
        const [r1, r2] = [rootOfLeaves(leaves.slice(0, m)), rootOfLeaves(leaves)];
        expect(await verifyConsistency(m, n, proof, r1, r2)).toBe(true);
        if (proof.length > 0) {
          const bad = proof.map((h) => new Uint8Array(h));
          bad[pick % bad.length]![pick % 32]! ^= 1;
          expect(await verifyConsistency(m, n, bad, r1, r2)).toBe(false);
        }
        const otherRoot = new Uint8Array(r1);
        otherRoot[0]! ^= 1;
        expect(await verifyConsistency(m, n, proof, otherRoot, r2)).toBe(false);
      }),
      { numRuns: 150 },
    );
  });
});

describe('what this browser saw of a log', () => {
  it('remembers the first checkpoint, then accepts and saves only proven growth', async () => {
    const t = tree(20);
    const store = memory();
    expect(await checkRemembered(t.source, t.current(5), store)).toEqual({ kind: 'first', size: 5 });
    expect(await checkRemembered(t.source, t.current(5), store)).toMatchObject({ kind: 'same' });
    expect(await checkRemembered(t.source, t.current(13), store)).toMatchObject({ kind: 'consistent', size: 13, previous: { size: 5 } });
    expect(await checkRemembered(t.source, t.current(20), store)).toMatchObject({ kind: 'consistent', size: 20, previous: { size: 13 } });
  });

  it('catches a rollback, a fork and another key, and never saves them', async () => {
    const honest = tree(20);
    const forked = tree(20, 'other');
    const store = memory();
    await checkRemembered(honest.source, honest.current(12), store);
    const saved = store.data.get('evident.seen-checkpoints.v1');
    expect(await checkRemembered(honest.source, honest.current(7), store)).toMatchObject({ kind: 'rollback' });
    expect(await checkRemembered(forked.source, forked.current(12), store)).toMatchObject({ kind: 'fork', reason: expect.stringContaining('two different roots') });
    // The forger's proof from 12 to 20 leads to its own roots, not to the one this browser saw.
    expect(await checkRemembered(forked.source, forked.current(20), store)).toMatchObject({ kind: 'fork', reason: expect.stringContaining('no valid consistency proof') });
    const stranger = parseSignerKey(generateSignerKey(ORIGIN).signerKey);
    expect(await checkRemembered(honest.source, honest.current(20, stranger), store)).toMatchObject({ kind: 'key-changed' });
    expect(await checkRemembered(honest.source, { ...honest.current(20), verified: false }, store)).toEqual({ kind: 'unverified' });
    expect(store.data.get('evident.seen-checkpoints.v1')).toBe(saved);
    // An edited memory is not trusted either; forgetting starts again.
    const edited = JSON.parse(saved!) as Record<string, { note: string }>;
    edited[ORIGIN]!.note = edited[ORIGIN]!.note.replace('\n12\n', '\n11\n');
    store.data.set('evident.seen-checkpoints.v1', JSON.stringify(edited));
    expect(await checkRemembered(honest.source, honest.current(20), store)).toMatchObject({ kind: 'corrupt' });
    forgetSeen(store, ORIGIN);
    expect(await checkRemembered(honest.source, honest.current(20), store)).toEqual({ kind: 'first', size: 20 });
  });
});
