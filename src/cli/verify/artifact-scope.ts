/**
 * Which log entries concern an artifact: what an evidence package of it must hold (docs/log.md, "Evidence
 * packages"). Pure: chosen from the entries' texts alone, so a client that re-derived the whole tree from
 * them chooses from the signed log, not from what the server's tables say.
 *
 * For fingerprint FP, in log order:
 * - `artifact.reported` of FP (every flow and trail it was reported in);
 * - `attestation.reported` naming FP by fingerprint, wherever it is (a release trail's promotion of FP);
 * - FP's trails are those it was reported in and those with an attestation naming it: their `trail.begun`,
 *   their flows' `flow.created`, and their attestations without a fingerprint: trail-level (approvals among
 *   them) or, in a trail FP was reported in, by template name `artifactName.attestationName` for FP's name;
 *   the `attestation_type.created` entries of the custom types they use;
 * - `snapshot.created` in which FP runs, and the next snapshot of that environment without it (where it
 *   stopped); `deployment.expected` and `artifact.allowed` (exemptions) of FP;
 * - for every environment of those: its `environment.created`, every `policy.attached` /
 *   `policy.detached`, and the `policy.created` entry of each policy version attached (version n being the
 *   n-th `policy.created` of that name).
 */

export interface ScopedEntry {
  index: number;
  entry: string;
}

/** The fields of an entry the selection reads; `runs` replaces a snapshot's artifact list. */
export interface EntrySummary {
  type?: unknown;
  flow?: unknown;
  trail?: unknown;
  artifact?: unknown;
  fingerprint?: unknown;
  artifact_fingerprint?: unknown;
  artifact_name?: unknown;
  attestation_type?: unknown;
  environment?: unknown;
  policy?: unknown;
  version?: unknown;
  /** For a snapshot: whether `fp` runs in it. */
  runs?: boolean;
}

type Fields = EntrySummary & { artifacts?: unknown };

const key = (...parts: unknown[]): string => JSON.stringify(parts);

/** The entry types the selection can choose or learns from; others need not be kept. */
const SELECTED_TYPES = new Set([
  'artifact.reported', 'attestation.reported', 'flow.created', 'trail.begun', 'attestation_type.created', 'snapshot.created',
  'deployment.expected', 'artifact.allowed', 'environment.created', 'policy.attached', 'policy.detached', 'policy.created',
]);

/**
 * The few fields of an entry text the selection for `fp` needs (a client reading a large log keeps these,
 * not the texts); undefined for entries of other types and for text that is not a JSON object (verify log
 * --full reports it).
 */
export function summarizeEntry(text: string, fp: string): EntrySummary | undefined {
  let f: Fields;
  try {
    f = JSON.parse(text) as Fields;
  } catch {
    return undefined;
  }
  if (f === null || typeof f !== 'object' || !SELECTED_TYPES.has(f.type as string)) return undefined;
  const { type, flow, trail, artifact, fingerprint, artifact_fingerprint, artifact_name, attestation_type, environment, policy, version } = f;
  const summary: EntrySummary = { type, flow, trail, artifact, fingerprint, artifact_fingerprint, artifact_name, attestation_type, environment, policy, version };
  if (type === 'snapshot.created') {
    summary.runs = Array.isArray(f.artifacts) && f.artifacts.some((a) => (a as { fingerprint?: unknown } | null)?.fingerprint === fp);
  }
  return summary;
}

/** The indexes (ascending) of the entries that concern artifact `fp`. */
export function entriesAboutArtifact(entries: Iterable<ScopedEntry>, fp: string): number[] {
  const summaries: { index: number; f: EntrySummary }[] = [];
  for (const e of entries) {
    const f = summarizeEntry(e.entry, fp);
    if (f) summaries.push({ index: e.index, f });
  }
  return selectAboutArtifact(summaries, fp);
}

/** entriesAboutArtifact over summaries (summarizeEntry, for the same fingerprint) in log order. */
export function selectAboutArtifact(parsed: readonly { index: number; f: EntrySummary }[], fp: string): number[] {
  const chosen = new Set<number>();
  const flows = new Set<string>();
  const trails = new Set<string>();
  const names = new Set<string>();
  const environments = new Set<string>();
  // Pass 1: the artifact's own entries, and what they name.
  const runningIn = new Set<string>();
  for (const { index, f } of parsed) {
    if (f.type === 'artifact.reported' && f.fingerprint === fp) {
      chosen.add(index);
      flows.add(key(f.flow));
      trails.add(key(f.flow, f.trail));
      names.add(key(f.flow, f.trail, f.artifact));
    } else if (f.type === 'attestation.reported' && f.artifact_fingerprint === fp) {
      // A trail that attests FP by fingerprint (a release trail's promotion) is one of its trails too: its
      // trail-level attestations (the release approval) are about FP's promotion.
      flows.add(key(f.flow));
      trails.add(key(f.flow, f.trail));
    } else if (f.type === 'snapshot.created') {
      const env = key(f.environment);
      if (f.runs === true) {
        chosen.add(index);
        environments.add(env);
        runningIn.add(env);
      } else if (runningIn.delete(env)) {
        chosen.add(index); // the snapshot in which it stopped running
      }
    } else if ((f.type === 'deployment.expected' || f.type === 'artifact.allowed') && f.fingerprint === fp) {
      chosen.add(index);
      environments.add(key(f.environment));
    }
  }
  // Pass 2: what those entries depend on.
  const types = new Set<string>();
  const attached = new Set<string>();
  for (const { index, f } of parsed) {
    if (f.type === 'flow.created' && flows.has(key(f.flow))) chosen.add(index);
    else if (f.type === 'trail.begun' && trails.has(key(f.flow, f.trail))) chosen.add(index);
    else if (f.type === 'attestation.reported') {
      const onTrail = trails.has(key(f.flow, f.trail));
      const unbound = (f.artifact_fingerprint ?? null) === null;
      const about = f.artifact_fingerprint === fp ||
        (onTrail && unbound && ((f.artifact_name ?? null) === null || names.has(key(f.flow, f.trail, f.artifact_name))));
      if (about) {
        chosen.add(index);
        if (typeof f.attestation_type === 'string' && f.attestation_type.startsWith('custom:')) types.add(f.attestation_type.slice('custom:'.length));
      }
    } else if (f.type === 'environment.created' && environments.has(key(f.environment))) chosen.add(index);
    else if ((f.type === 'policy.attached' || f.type === 'policy.detached') && environments.has(key(f.environment))) {
      chosen.add(index);
      if (f.type === 'policy.attached') attached.add(key(f.policy, f.version));
    }
  }
  // Pass 3: the definitions they used.
  const versions = new Map<string, number>();
  for (const { index, f } of parsed) {
    if (f.type === 'attestation_type.created' && typeof f.attestation_type === 'string' && types.has(f.attestation_type)) chosen.add(index);
    else if (f.type === 'policy.created') {
      const n = (versions.get(key(f.policy)) ?? 0) + 1;
      versions.set(key(f.policy), n);
      if (attached.has(key(f.policy, n))) chosen.add(index);
    }
  }
  return [...chosen].sort((a, b) => a - b);
}
