import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  verifyConsistency, verifyInclusion, verifySubtreeConsistency, verifySubtreeInclusion,
} from '../../src/ledger/index.js';
import { MERKLE_VECTORS, b64, expectEvidentError, readProbe, walkJson } from './helpers.js';

// Every probe of transparency-dev/merkle's testdata (shared/vectors/merkle): wantErr probes must throw,
// the others must verify.

const files = walkJson(MERKLE_VECTORS);

const num = (probe: Record<string, unknown>, key: string): number => probe[key] as number;
const hash = (probe: Record<string, unknown>, key: string): Uint8Array => b64(probe[key] as string);
const proofOf = (probe: Record<string, unknown>): Uint8Array[] => ((probe.proof as string[] | null) ?? []).map(b64);

function runProbe(kind: string, p: Record<string, unknown>): void {
  switch (kind) {
    case 'inclusion':
      verifyInclusion(num(p, 'leafIdx'), num(p, 'treeSize'), hash(p, 'leafHash'), proofOf(p), hash(p, 'root'));
      return;
    case 'consistency':
      verifyConsistency(num(p, 'size1'), num(p, 'size2'), proofOf(p), hash(p, 'root1'), hash(p, 'root2'));
      return;
    case 'subtreeinclusion':
      verifySubtreeInclusion(
        num(p, 'leafIdx'), num(p, 'start'), num(p, 'end'), hash(p, 'leafHash'), proofOf(p), hash(p, 'root'),
      );
      return;
    case 'subtreeconsistency':
      verifySubtreeConsistency(
        num(p, 'start'), num(p, 'end'), num(p, 'size'), proofOf(p), hash(p, 'root1'), hash(p, 'root2'),
      );
      return;
    default:
      throw new Error(`unknown probe kind ${kind}`);
  }
}

describe('transparency-dev/merkle probes', () => {
  it('finds all the probe files', () => {
    expect(files.length).toBeGreaterThan(500);
    const kinds = new Set(files.map((f) => path.relative(MERKLE_VECTORS, f).split(path.sep)[0]));
    expect([...kinds].sort()).toEqual(['consistency', 'inclusion', 'subtreeconsistency', 'subtreeinclusion']);
  });

  it.each(files.map((f) => [path.relative(MERKLE_VECTORS, f), f]))('%s', (rel, file) => {
    const kind = rel.split(path.sep)[0]!;
    const probe = readProbe(file);
    if (probe.wantErr === true) {
      expectEvidentError(() => runProbe(kind, probe), 'INVALID_ARGUMENT', 'VERIFICATION_FAILED');
    } else {
      expect(probe.wantErr).toBe(false);
      expect(() => runProbe(kind, probe)).not.toThrow();
    }
  });

  it('refuses sizes beyond 2^53 - 1 as INVALID_ARGUMENT, not by rounding', () => {
    const probe = readProbe(path.join(MERKLE_VECTORS, 'subtreeinclusion/errors/invalid-large-subtree.json'));
    expect(Number.isSafeInteger(probe.end)).toBe(false);
    expectEvidentError(() => runProbe('subtreeinclusion', probe), 'INVALID_ARGUMENT');
  });
});
