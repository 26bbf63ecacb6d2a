import { EvidentError } from '../../core/index.js';
import {
  dockerEndpoint, dockerEngineMessage, dockerGet, dockerUnreachable, pickRepoDigest, type DockerEndpoint, type DockerOptions,
} from '../fingerprint/index.js';
import { ArtifactTally, isImageId, referenceName, sha256Fingerprint, type ContainerSnapshot, type SkippedContainer } from './container-state.js';

// `evident snapshot docker`: the running containers of a Docker Engine, by repo digest, as Kosli's docker
// reporter finds them (`kosli snapshot docker`): `GET /containers/json` (running containers only, the
// engine's default), then `GET /images/{id}/json` once per distinct image for its `RepoDigests`. The
// fingerprint is the repo digest, the one `evident fingerprint --artifact-type docker` gives; a container
// whose image has none (built here and never pushed) cannot be matched to any build and is skipped with a
// reason, as Kosli ignores it. The name is the container's `Image`, as it was given to `docker run`.

export interface DockerSnapshotOptions extends DockerOptions {
  /** Only containers with these labels: `KEY` or `KEY=VALUE` (the engine's `label` filter). */
  labels?: string[];
}

interface ListedContainer {
  name: string;
  image: string;
  imageId: string | undefined;
}

const IMAGE_ID = /^sha256:[a-f0-9]{64}$/;

async function engineJson(ep: DockerEndpoint, path: string, timeoutMs: number): Promise<{ status: number; value: unknown; body: string }> {
  let res: { status: number; body: string };
  try {
    res = await dockerGet(ep, path, timeoutMs);
  } catch (err) {
    throw dockerUnreachable(err, ep);
  }
  if (res.status !== 200) return { status: res.status, value: undefined, body: res.body };
  try {
    return { status: 200, value: JSON.parse(res.body), body: res.body };
  } catch (err) {
    throw new EvidentError('UNAVAILABLE', `the Docker Engine at ${ep.display} answered GET ${path} with invalid JSON`, { cause: err });
  }
}

async function listContainers(ep: DockerEndpoint, labels: string[], timeoutMs: number): Promise<ListedContainer[]> {
  const query = labels.length > 0 ? `?filters=${encodeURIComponent(JSON.stringify({ label: labels }))}` : '';
  const path = `/containers/json${query}`;
  const res = await engineJson(ep, path, timeoutMs);
  if (res.status === 400) throw new EvidentError('INVALID_ARGUMENT', `the Docker Engine refused the container filter: ${dockerEngineMessage(res.body)}`, { details: [{ path: '--label', message: 'refused' }] });
  if (res.status !== 200) throw new EvidentError('UNAVAILABLE', `the Docker Engine at ${ep.display} answered ${res.status} to GET /containers/json: ${dockerEngineMessage(res.body)}`);
  if (!Array.isArray(res.value)) throw new EvidentError('UNAVAILABLE', `the Docker Engine at ${ep.display} answered GET /containers/json with something other than a list`);
  return res.value.map((c: { Id?: unknown; Names?: unknown; Image?: unknown; ImageID?: unknown }) => {
    const names = Array.isArray(c?.Names) ? c.Names.filter((n): n is string => typeof n === 'string') : [];
    const image = typeof c?.Image === 'string' ? c.Image : '';
    const id = typeof c?.Id === 'string' ? c.Id.slice(0, 12) : '?';
    return { name: names[0]?.replace(/^\//, '') || id, image, imageId: typeof c?.ImageID === 'string' ? c.ImageID : undefined };
  });
}

/** The RepoDigests of an image, or why there are none to have. */
async function repoDigests(ep: DockerEndpoint, imageId: string, timeoutMs: number): Promise<string[] | 'gone'> {
  const res = await engineJson(ep, `/images/${imageId}/json`, timeoutMs);
  if (res.status === 404) return 'gone'; // removed (docker rmi -f) while its containers still run
  if (res.status !== 200) throw new EvidentError('UNAVAILABLE', `the Docker Engine at ${ep.display} answered ${res.status} to GET /images/${imageId}/json: ${dockerEngineMessage(res.body)}`);
  // RepoDigests is null for an image that has none on some engine versions (moby/moby#45556).
  const digests = (res.value as { RepoDigests?: unknown } | null)?.RepoDigests;
  return Array.isArray(digests) ? digests.filter((d): d is string => typeof d === 'string') : [];
}

/** The repo digest entry (`repo@sha256:...`) for a container: the one of its own repository if several. */
function chooseRepoDigest(container: ListedContainer, digests: string[]): string | undefined {
  let digest: string | undefined;
  try {
    digest = isImageId(container.image) || container.image === '' ? undefined : pickRepoDigest(container.image, digests);
  } catch {
    digest = undefined;
  }
  digest ??= pickRepoDigest(container.imageId!, digests); // an image ID picks the first
  return digests.find((d) => d.endsWith(`@${digest}`));
}

/** Everything running on a Docker Engine, one artifact per repo digest. */
export async function collectDockerSnapshot(options: DockerSnapshotOptions = {}): Promise<ContainerSnapshot> {
  const ep = dockerEndpoint(options);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const containers = await listContainers(ep, options.labels ?? [], timeoutMs);
  const digestsByImage = new Map<string, string[] | 'gone'>();
  const tally = new ArtifactTally();
  const skipped: SkippedContainer[] = [];
  for (const c of containers) {
    if (c.imageId === undefined || !IMAGE_ID.test(c.imageId)) {
      skipped.push({ name: c.name, reason: `the engine lists it with no image ID${c.imageId ? ` (${JSON.stringify(c.imageId.slice(0, 80))})` : ''}` });
      continue;
    }
    let digests = digestsByImage.get(c.imageId);
    if (digests === undefined) digestsByImage.set(c.imageId, (digests = await repoDigests(ep, c.imageId, timeoutMs)));
    const what = c.image && !isImageId(c.image) ? c.image : c.imageId.slice(0, 19);
    if (digests === 'gone') {
      skipped.push({ name: c.name, reason: `its image ${what} is no longer present locally` });
      continue;
    }
    const entry = chooseRepoDigest(c, digests);
    const fingerprint = entry === undefined ? undefined : sha256Fingerprint(entry.slice(entry.lastIndexOf('@') + 1));
    if (entry === undefined || fingerprint === undefined) {
      skipped.push({
        name: c.name,
        reason: digests.length === 0
          ? `its image ${what} has no repo digest: it was built here and never pushed to or pulled from a registry`
          : `its image ${what} has no sha256 repo digest (${digests.join(', ').slice(0, 200)})`,
      });
      continue;
    }
    // A container started from an image ID, or whose tag has since moved to another image, lists the image
    // ID as its Image: the repository of the digest names it then.
    const name = c.image && !isImageId(c.image) ? referenceName(c.image) : referenceName(entry);
    tally.add(fingerprint, name || fingerprint);
  }
  return { artifacts: tally.artifacts(), skipped };
}
