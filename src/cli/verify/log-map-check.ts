import { toBase64 } from '../../core/index.js';
import { mapHashOf, mapKey, mapRootOf, updateMap, type Checkpoint, type MapNode, type MapUpdate } from '../../ledger/index.js';
import type { SubjectMove } from './log-hash-job.js';
import type { Check } from './log-verifier.js';

// `verify log --full` also recomputes the subject map (docs/log.md, "The subject map") from the entries it
// streams: the map is a function of the entries' subjects alone, so the checkpoint's `evident-map/v1` line
// is checked against the entries, not against anything the server computed. Each entry's stated `prev`
// links are checked on the way, as the server's own rebuild does (services/log-map.ts mapFromLog). Memory:
// one (subject, latest index) pair per subject, and the tree over them.

export class MapRecompute {
  private readonly latest = new Map<string, number>();
  private root: MapNode | null = null;

  /** One hashing job's moves, in index order; the first wrong `prev` link, if any. */
  absorb(moves: readonly SubjectMove[]): { index: number; message: string } | null {
    const updates: MapUpdate[] = [];
    for (const m of moves) {
      const before = this.latest.get(m.subject) ?? null;
      if (m.prev !== undefined && m.prev !== before) {
        return { index: m.index, message: `entry ${m.index} links ${m.subject} to entry ${m.prev ?? 'none'}, but the previous entry about it is ${before ?? 'none'}` };
      }
      this.latest.set(m.subject, m.index);
      updates.push({ key: mapKey(m.subject), index: m.index });
    }
    this.root = updateMap(this.root, updates);
    return null;
  }

  /** The recomputed map against the checkpoint's map line (a checkpoint without one has nothing to check). */
  check(cp: Checkpoint): Check {
    let signed;
    try {
      signed = mapRootOf(cp.extensions);
    } catch (err) {
      return { ok: false, message: `the checkpoint's map line is malformed: ${(err as Error).message}` };
    }
    const mine = mapHashOf(this.root);
    if (signed === undefined) {
      return { ok: true, message: `The checkpoint has no subject map line (a log not appended to since the map was introduced): no map to check` };
    }
    if (toBase64(mine) !== toBase64(signed)) {
      return {
        ok: false,
        message: `the checkpoint's subject map root ${toBase64(signed)} is not the map of its entries (${toBase64(mine)}, ${this.latest.size} subjects): ` +
          'the map proofs it signs do not describe this log',
      };
    }
    return { ok: true, message: `The subject map recomputed from the entries (${this.latest.size} subjects) matches the checkpoint's map line` };
  }
}
