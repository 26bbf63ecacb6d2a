import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/index.js';
import {
  appendLeaves, consistencyProof, formatCheckpoint, generateSignerKey, leafHash, parseSignerKey, parseVerifierKey, renamedSigner, rootOfLeaves, signNote, splitNote, type Hash,
} from '../../src/ledger/index.js';
import { checkCheckpoint } from '../../src/cli/verify/log-verifier.js';
import { checkRememberedCheckpoint } from '../../src/cli/verify/remembered.js';
import { VerifierState } from '../../src/cli/verify/state.js';
import { tempDir } from '../helpers/engines.js';

const ORIGIN = 'evident.test/acme';
const { signerKey } = generateSignerKey(ORIGIN);
const signer = parseSignerKey(signerKey);
const verifier = parseVerifierKey(signer.verifierKey);

/** A log of `n` leaves (`salt` makes another history) with a signed note per size and proofs from its stored hashes. */
function log(n: number, salt = '') {
  const leaves: Hash[] = Array.from({ length: n }, (_, i) => leafHash(new TextEncoder().encode(`${salt}${i}`)));
  const stored = new Map<number, Hash>(appendLeaves(0, [], leaves).stored.map((x) => [x.index, x.hash]));
  return {
    note: (size: number) => signNote(formatCheckpoint({ origin: ORIGIN, size, root: rootOfLeaves(leaves.slice(0, size)) }), [signer]),
    source: { consistencyProof: async (from: number, to?: number) => ({ hashes: consistencyProof(from, to ?? n, stored).map(toHex) }) },
  };
}

describe('checkRememberedCheckpoint: the checkpoint memory every verifier command shares', () => {
  it('remembers the first, then accepts and saves only proven extensions of it', async () => {
    const state = new VerifierState(tempDir());
    const l = log(20);
    const first = await checkRememberedCheckpoint({ state, origin: ORIGIN, verifier, note: l.note(5), source: l.source, served: true });
    expect(first).toMatchObject({ saved: true, conflict: null, check: { ok: true } });
    const newer = await checkRememberedCheckpoint({ state, origin: ORIGIN, verifier, note: l.note(12), source: l.source, served: true });
    expect(newer).toMatchObject({ saved: true, previous: { size: 5 }, check: { ok: true, message: 'Consistent with the checkpoint seen before (size 5 -> 12)' } });
    expect(state.latestCheckpoint(ORIGIN)).toBe(l.note(12));
  });

  it('served smaller: a rollback; a package\'s older checkpoint: proven a prefix, not saved', async () => {
    const state = new VerifierState(tempDir());
    const l = log(20);
    await checkRememberedCheckpoint({ state, origin: ORIGIN, verifier, note: l.note(12), source: l.source, served: true });
    const rollback = await checkRememberedCheckpoint({ state, origin: ORIGIN, verifier, note: l.note(7), source: l.source, served: true });
    expect(rollback).toMatchObject({ saved: false, conflict: { kind: 'rollback', previous: l.note(12), current: l.note(7) }, check: { ok: false } });
    const older = await checkRememberedCheckpoint({ state, origin: ORIGIN, verifier, note: l.note(7), source: l.source, served: false });
    expect(older).toMatchObject({ saved: false, conflict: null, check: { ok: true, message: 'Consistent with the checkpoint seen before (size 7 is a prefix of 12)' } });
    const offline = await checkRememberedCheckpoint({ state, origin: ORIGIN, verifier, note: l.note(15), served: false });
    expect(offline).toMatchObject({ saved: false, conflict: null, check: { ok: true } });
    expect(offline.check.message).toMatch(/not checked offline/);
    expect(state.latestCheckpoint(ORIGIN)).toBe(l.note(12));
  });

  it('another history: a fork at the same size (offline too), an older one, or a newer one', async () => {
    const state = new VerifierState(tempDir());
    const l = log(20);
    const other = log(20, 'x');
    await checkRememberedCheckpoint({ state, origin: ORIGIN, verifier, note: l.note(12), source: l.source, served: true });
    const same = await checkRememberedCheckpoint({ state, origin: ORIGIN, verifier, note: other.note(12), served: false });
    expect(same.conflict?.kind).toBe('fork');
    const older = await checkRememberedCheckpoint({ state, origin: ORIGIN, verifier, note: other.note(7), source: l.source, served: false });
    expect(older.conflict?.kind).toBe('fork');
    const newer = await checkRememberedCheckpoint({ state, origin: ORIGIN, verifier, note: other.note(16), source: other.source, served: true });
    expect(newer.conflict?.kind).toBe('fork');
    expect(state.latestCheckpoint(ORIGIN)).toBe(l.note(12));
  });

  it('refuses a note not signed by the trusted key, and a remembered note the key did not sign', async () => {
    const state = new VerifierState(tempDir());
    const l = log(4);
    const stranger = parseSignerKey(generateSignerKey(ORIGIN).signerKey);
    const forged = signNote(formatCheckpoint({ origin: ORIGIN, size: 4, root: new Uint8Array(32) }), [stranger]);
    await expect(checkRememberedCheckpoint({ state, origin: ORIGIN, verifier, note: forged, served: true })).rejects.toThrow();
    state.saveCheckpoint(ORIGIN, forged);
    await expect(checkRememberedCheckpoint({ state, origin: ORIGIN, verifier, note: l.note(4), served: true })).rejects.toThrow(/remembered for evident.test\/acme/);
  });

  it('accepts a key pinned before per-org key names, and a checkpoint it remembered then: the same public key (docs/deploy.md, Upgrades)', async () => {
    const legacySigner = renamedSigner(signer, 'evident.test');
    const legacy = parseVerifierKey(legacySigner.verifierKey);
    const l = log(3);
    expect(checkCheckpoint(l.note(3), legacy, ORIGIN).size).toBe(3);
    expect(checkCheckpoint(l.note(3), verifier, ORIGIN).size).toBe(3);
    // What a client of the previous release remembers: signed under the host name only.
    const state = new VerifierState(tempDir());
    state.saveCheckpoint(ORIGIN, signNote(splitNote(l.note(3)).text, [legacySigner]));
    const seen = await checkRememberedCheckpoint({ state, origin: ORIGIN, verifier, note: l.note(3), served: true });
    expect(seen.check).toMatchObject({ ok: true, message: expect.stringContaining('Same tree') });
    // Another key under the old name is not the log's key: refused, saying what changed.
    const other = parseVerifierKey(renamedSigner(parseSignerKey(generateSignerKey(ORIGIN).signerKey), 'evident.test').verifierKey);
    expect(() => checkCheckpoint(l.note(3), other, ORIGIN)).toThrow(/signs with the key named after its origin evident\.test\/acme/);
  });
});
