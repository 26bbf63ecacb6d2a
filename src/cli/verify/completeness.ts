import { bytesEqual } from '../../core/index.js';
import {
  linksOf, mapKey, mapProofFromJson, mapRootOf, subjectKey, subjectsOf, verifyMapProof, type Checkpoint, type MapProofJson,
} from '../../ledger/index.js';
import type { Check } from './log-verifier.js';

// Completeness of an evidence package (docs/log.md, "Complete packages"): the checkpoint's map line commits
// to the latest entry about the package's subject; each entry about a subject links (`prev`) to the previous
// one. A package is complete as of its checkpoint when the map proof names its newest entry and the package
// holds every entry of the chain from there back to the first.

export type PackageSubject =
  | { type: 'artifact'; fingerprint: string }
  | { type: 'trail'; flow: string; trail: string }
  | { type: 'environment'; environment: string };

export function subjectKeyOf(s: PackageSubject): string {
  if (s.type === 'artifact') return subjectKey('artifact', s.fingerprint);
  if (s.type === 'trail') return subjectKey('trail', s.flow, s.trail);
  return subjectKey('environment', s.environment);
}

export function describeSubject(s: PackageSubject): string {
  if (s.type === 'artifact') return `artifact ${s.fingerprint}`;
  if (s.type === 'trail') return `trail ${s.flow}/${s.trail}`;
  return `environment ${s.environment}`;
}

interface Input {
  subject: PackageSubject;
  checkpoint: Checkpoint;
  mapProof?: { subject: string; proof: MapProofJson };
  /** The package's entries, parsed, by log index (their inclusion already checked). */
  entries: ReadonlyMap<number, Record<string, unknown>>;
}

/**
 * The completeness check. Every message names what is missing: the newest entry the map proves, or the
 * entry a link points to. For trail and environment packages every entry must be on the chain; an
 * artifact package also carries context entries (its flows, trails, snapshots, policies) which are
 * proven included, not complete (their own subjects have their own packages).
 */
export function checkCompleteness({ subject, checkpoint: cp, mapProof, entries }: Input): Check {
  const key = subjectKeyOf(subject);
  const what = describeSubject(subject);
  const fail = (message: string): Check => ({ ok: false, message: `Incomplete: ${message}` });
  let root;
  try {
    root = mapRootOf(cp.extensions);
  } catch (err) {
    return fail((err as Error).message);
  }
  if (root === undefined) {
    return { ok: true, message: `Completeness not proven: the checkpoint (size ${cp.size}) has no subject map line (it predates the map)` };
  }
  if (!mapProof) return fail(`the checkpoint commits to a subject map but the package has no map proof for ${what}`);
  if (mapProof.subject !== key) return fail(`the map proof is for ${mapProof.subject}, not ${key}`);
  let latest: number | null;
  try {
    const proof = mapProofFromJson(mapProof.proof);
    if (!bytesEqual(proof.key, mapKey(key))) return fail(`the map proof is for another key than ${key}`);
    latest = verifyMapProof(root, proof);
  } catch (err) {
    return fail((err as Error).message);
  }
  if (latest === null) return fail(`the subject map at checkpoint size ${cp.size} has no entry about ${what}`);

  const chain = new Set<number>();
  let legacyFrom: number | undefined;
  for (let idx: number | null = latest, from: number | undefined; idx !== null;) {
    const e = entries.get(idx);
    if (!e) {
      return fail(from === undefined
        ? `log entry ${idx}, the newest about ${what} at checkpoint size ${cp.size} (the map proves it), is missing`
        : `log entry ${idx} about ${what} is missing (entry ${from} links to it as the previous entry about it)`);
    }
    let links;
    try {
      links = linksOf(e, idx);
    } catch (err) {
      return fail(`entry ${idx}: ${(err as Error).message}`);
    }
    chain.add(idx);
    if (links === undefined) {
      legacyFrom = idx;
      break;
    }
    const link = links.find((l) => l.subject.key === key);
    if (!link) return fail(`entry ${idx} is not about ${what}, yet ${from === undefined ? 'the map names it' : `entry ${from} links to it`}`);
    from = idx;
    idx = link.prev;
  }
  for (const [index, e] of entries) {
    const about = subjectsOf(e.type, e).some((s) => s.key === key);
    const beforeLinks = legacyFrom !== undefined && index < legacyFrom;
    if (about && !chain.has(index) && !beforeLinks) return fail(`entry ${index} is about ${what} but not on its chain of prev links`);
    if (!about && subject.type !== 'artifact') return fail(`entry ${index} is not about ${what}`);
  }
  const back = legacyFrom === undefined
    ? 'back to the first'
    : `back to entry ${legacyFrom} (entries before it were logged before prev links existed: not proven complete)`;
  return { ok: true, message: `Complete as of checkpoint size ${cp.size}: the map proves entry ${latest} is the newest about ${what}, and the package holds all ${chain.size} entries of its chain ${back}` };
}
