// Which log entries an artifact's evidence package holds, chosen in the browser exactly as `evident export
// artifact` chooses them (src/cli/verify/artifact-scope.ts, whose rules are documented there and in
// docs/log.md "Evidence packages"), so the package downloaded here is byte for byte the CLI's. The browser
// bundle cannot import the CLI's module (it sits in a higher layer), so this is the same pure code;
// test/web/artifact-scope.test.ts checks the two choose the same entries. No DOM, no I/O.

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
  runs?: boolean;
}

type Fields = EntrySummary & { artifacts?: unknown };

const key = (...parts: unknown[]): string => JSON.stringify(parts);

const SELECTED_TYPES = new Set([
  'artifact.reported', 'attestation.reported', 'flow.created', 'trail.begun', 'attestation_type.created', 'snapshot.created',
  'deployment.expected', 'artifact.allowed', 'environment.created', 'policy.attached', 'policy.detached', 'policy.created',
]);

/** The field naming an artifact's fingerprint, per entry type (src/ledger/subjects.ts): the artifact's own chain. */
const ARTIFACT_FIELD: Record<string, 'fingerprint' | 'artifact_fingerprint'> = {
  'artifact.reported': 'fingerprint', 'attestation.reported': 'artifact_fingerprint', 'deployment.expected': 'fingerprint', 'artifact.allowed': 'fingerprint',
};

/** The few fields of an entry text the selection for `fp` needs; undefined for other types and non-objects. */
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

/** True iff the entry is about artifact `fp` itself (its subject chain in the log). */
export function inArtifactChain(f: EntrySummary, fp: string): boolean {
  const field = typeof f.type === 'string' ? ARTIFACT_FIELD[f.type] : undefined;
  return field !== undefined && typeof f[field] === 'string' && f[field] === fp;
}

/** The indexes (ascending) of the entries about `fp` and their context, from summaries in log order. */
export function selectAboutArtifact(parsed: readonly { index: number; f: EntrySummary }[], fp: string): number[] {
  const chosen = new Set<number>();
  const flows = new Set<string>();
  const trails = new Set<string>();
  const names = new Set<string>();
  const environments = new Set<string>();
  const runningIn = new Set<string>();
  for (const { index, f } of parsed) {
    if (f.type === 'artifact.reported' && f.fingerprint === fp) {
      chosen.add(index);
      flows.add(key(f.flow));
      trails.add(key(f.flow, f.trail));
      names.add(key(f.flow, f.trail, f.artifact));
    } else if (f.type === 'attestation.reported' && f.artifact_fingerprint === fp) {
      flows.add(key(f.flow));
      trails.add(key(f.flow, f.trail));
    } else if (f.type === 'snapshot.created') {
      const env = key(f.environment);
      if (f.runs === true) {
        chosen.add(index);
        environments.add(env);
        runningIn.add(env);
      } else if (runningIn.delete(env)) {
        chosen.add(index);
      }
    } else if ((f.type === 'deployment.expected' || f.type === 'artifact.allowed') && f.fingerprint === fp) {
      chosen.add(index);
      environments.add(key(f.environment));
    }
  }
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
