// What the container reporters (docker, k8s) hand to `sendSnapshot`: one entry per image digest, with the
// number of containers (docker) or pods (k8s) running it. Shared here so that both name, merge and order
// their artifacts the same way.

/** One running image: its fingerprint (repo digest without `sha256:`), a name and how many run it. */
export interface ContainerArtifact {
  name: string;
  fingerprint: string;
  instances: number;
}

/** A container left out of the snapshot, and why (no repo digest yet, image gone, ...). */
export interface SkippedContainer {
  name: string;
  reason: string;
}

export interface ContainerSnapshot {
  artifacts: ContainerArtifact[];
  skipped: SkippedContainer[];
}

/** The longest artifact name the server accepts (SnapshotReport in client/environment-schemas.ts). */
const MAX_NAME = 512;
const SHA256_DIGEST = /^sha256:([a-f0-9]{64})$/;

/** The fingerprint in a `sha256:<64 hex>` digest, or undefined for anything else (other algorithms too). */
export function sha256Fingerprint(digest: string): string | undefined {
  return SHA256_DIGEST.exec(digest)?.[1];
}

/** True for a bare image ID (`sha256:<hex>`, or the hex alone), which names no repository. */
export function isImageId(value: string): boolean {
  return /^(?:sha256:)?[a-f0-9]{12,64}$/.test(value);
}

/**
 * The name an image reference is reported under: as the platform spelled it, tag kept (Kosli's docker and
 * k8s reporters report `Image` / `status.containerStatuses[].image` as they are, so names read like
 * `ghcr.io/acme/runner:16d9990`), the digest dropped because the fingerprint already records it.
 */
export function referenceName(reference: string): string {
  const at = reference.indexOf('@');
  return (at >= 0 ? reference.slice(0, at) : reference).trim().slice(0, MAX_NAME);
}

/**
 * Counts instances per fingerprint. One image can be run under several names (`nginx:1.25` and
 * `nginx:stable` pointing at the same digest): the name used by most instances wins, ties going to the
 * alphabetically first, so that the same state always gives the same report.
 */
export class ArtifactTally {
  private readonly byFingerprint = new Map<string, Map<string, number>>();

  add(fingerprint: string, name: string, instances = 1): void {
    let names = this.byFingerprint.get(fingerprint);
    if (!names) this.byFingerprint.set(fingerprint, (names = new Map()));
    names.set(name, (names.get(name) ?? 0) + instances);
  }

  /** The artifacts, ordered by name and then fingerprint. */
  artifacts(): ContainerArtifact[] {
    const out: ContainerArtifact[] = [];
    for (const [fingerprint, names] of this.byFingerprint) {
      let best: [string, number] | undefined;
      let instances = 0;
      for (const [name, count] of names) {
        instances += count;
        if (!best || count > best[1] || (count === best[1] && name < best[0])) best = [name, count];
      }
      out.push({ name: best![0], fingerprint, instances });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : 0));
  }
}
