import { toBase64 } from '../../core/index.js';
import { MapLeafTable, mapRootOf, type Checkpoint } from '../../ledger/index.js';
import { NO_PREV, UNSTATED, type SubjectMoves } from './log-hash-job.js';
import type { Check } from './log-verifier.js';

// `verify log --full` also recomputes the subject map (docs/log.md, "The subject map") from the entries it
// streams: the map is a function of the entries' subjects alone, so the checkpoint's `evident-map/v1` line
// is checked against the entries, not against anything the server computed. Each entry's stated `prev`
// links are checked on the way, as the server's own rebuild does (services/log-map.ts mapFromLog). Memory:
// one (map key, latest index) pair per subject in flat arrays (ledger/map-table.ts, ~40–60 bytes a
// subject); the root is computed once, when the checkpoint is checked.

export class MapRecompute {
  private readonly latest = new MapLeafTable();

  /** One hashing job's moves, in index order; the first wrong `prev` link, if any. */
  absorb(moves: SubjectMoves): { index: number; message: string } | null {
    for (let i = 0; i < moves.count; i++) {
      const index = moves.indexes[i]!;
      const before = this.latest.get(moves.keys, 32 * i);
      const stated = moves.prevs[i]!;
      if (stated !== UNSTATED && stated !== (before ?? NO_PREV)) {
        const subject = moves.subjects.split('\n')[i];
        return { index, message: `entry ${index} links ${subject} to entry ${stated === NO_PREV ? 'none' : stated}, but the previous entry about it is ${before ?? 'none'}` };
      }
      this.latest.set(moves.keys, 32 * i, index);
    }
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
    if (signed === undefined) {
      return { ok: true, message: `The checkpoint has no subject map line (a log not appended to since the map was introduced): no map to check` };
    }
    const mine = this.latest.root();
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
