import { EvidentError } from '../../core/index.js';
import { parseImageReference } from '../fingerprint/index.js';
import { ArtifactTally, isImageId, referenceName, sha256Fingerprint, type ContainerSnapshot, type SkippedContainer } from './container-state.js';

// A Kubernetes PodList (`kubectl get pods -A -o json`, kind List; or the API's own kind PodList) turned
// into the running artifacts of an environment. The rules, and why:
// - Only pods in phase Running count. Pending pods have not started (their image may not even be pulled),
//   Succeeded and Failed ones have stopped. (Kosli also reports Failed pods; a stopped pod runs nothing.)
// - All app containers of a Running pod count, whatever their momentary state: a container in a crash loop
//   is still deployed there, and counting it only while it is up would make a new snapshot at each restart.
// - Init containers have finished before a pod runs and do not count, except native sidecars (init
//   containers with restartPolicy Always, Kubernetes 1.29+), which run for the pod's whole life.
//   Ephemeral (debug) containers do not count.
// - The fingerprint is the digest in `status.containerStatuses[].imageID`, whose spelling depends on the
//   runtime: `repo@sha256:…` (containerd, CRI-O), `docker-pullable://repo@sha256:…` (dockershim), or a bare
//   `sha256:…` (an image with no repo digest: loaded into the node, e.g. `kind load`, or built there). A
//   bare ID is reported like the others (as Kosli does): it is still exactly what runs, and leaving it out
//   would hide a workload from the record. An empty imageID (image still being pulled) is skipped.
// - Instances are the number of Running pods per digest (the REPLICAS column); a pod running one image in
//   two containers counts once.
// - The name is the image as the runtime reports it (`status.containerStatuses[].image`), as in Kosli's
//   k8s reporter; when that is a bare image ID (containerd reports one for an image pulled by digest), the
//   pod spec's tagged image, then the repository in the imageID.

export interface NamespaceFilter {
  /** Only these namespaces (exact names). */
  namespaces?: string[];
  /** Every namespace but these (exact names). */
  excludeNamespaces?: string[];
  /** Only namespaces matching one of these regular expressions (unanchored, as Kosli's). */
  namespacesRegex?: string[];
  /** Every namespace but those matching one of these regular expressions. */
  excludeNamespacesRegex?: string[];
}

export interface K8sSnapshot extends ContainerSnapshot {
  /** How many Running pods in the selected namespaces were read. */
  runningPods: number;
}

const NAMESPACE = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const SHAPE_HINT = 'give the output of `kubectl get pods -A -o json` (or -n NAMESPACE)';

function compile(patterns: string[], flag: string): RegExp[] {
  return patterns.map((p) => {
    try {
      return new RegExp(p);
    } catch (err) {
      throw new EvidentError('INVALID_ARGUMENT', `${flag} ${JSON.stringify(p)} is not a regular expression: ${(err as Error).message}`, {
        details: [{ path: flag, message: 'invalid regular expression' }],
      });
    }
  });
}

/**
 * Which namespaces a filter keeps. As in Kosli's `snapshot k8s`, including (names or regex) and excluding
 * (names or regex) cannot be combined; names and regex of one kind can.
 */
export function namespaceMatcher(filter: NamespaceFilter = {}): (namespace: string) => boolean {
  const clean = (list: string[] | undefined) => (list ?? []).map((s) => s.trim()).filter(Boolean);
  const include = clean(filter.namespaces);
  const exclude = clean(filter.excludeNamespaces);
  const includeRe = compile(clean(filter.namespacesRegex), '--namespaces-regex');
  const excludeRe = compile(clean(filter.excludeNamespacesRegex), '--exclude-namespaces-regex');
  const including = include.length > 0 || includeRe.length > 0;
  const excluding = exclude.length > 0 || excludeRe.length > 0;
  if (including && excluding) {
    throw new EvidentError('INVALID_ARGUMENT', '--namespaces / --namespaces-regex cannot be combined with --exclude-namespaces / --exclude-namespaces-regex: choose the namespaces either way', {
      details: [{ path: '--namespaces', message: 'include and exclude are exclusive' }],
    });
  }
  if (including) return (ns) => include.includes(ns) || includeRe.some((re) => re.test(ns));
  if (excluding) return (ns) => !exclude.includes(ns) && !excludeRe.some((re) => re.test(ns));
  return () => true;
}

type Json = Record<string, unknown>;

class PodListReader {
  constructor(private readonly source: string) {}

  fail(path: string, problem: string, hint = false): never {
    throw new EvidentError('INVALID_ARGUMENT', `${this.source}: ${path}: ${problem}${hint ? `; ${SHAPE_HINT}` : ''}`, { details: [{ path, message: problem }] });
  }

  object(value: unknown, path: string, what: string): Json {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(path, `expected ${what}, found ${describe(value)}`, true);
    return value as Json;
  }

  optionalObject(value: unknown, path: string, what: string): Json | undefined {
    return value === undefined || value === null ? undefined : this.object(value, path, what);
  }

  /** A list that the API may leave out (or send as null) when it is empty. */
  list(value: unknown, path: string): unknown[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) this.fail(path, `expected a list, found ${describe(value)}`, true);
    return value;
  }

  string(value: unknown, path: string): string {
    if (typeof value !== 'string') this.fail(path, value === undefined ? 'missing' : `expected a string, found ${describe(value)}`, true);
    return value;
  }

  optionalString(value: unknown, path: string): string | undefined {
    return value === undefined || value === null ? undefined : this.string(value, path);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

/** The image a pod spec names, as the tagged reference containerd would report; undefined when untagged. */
function taggedSpecName(image: string | undefined): string | undefined {
  if (!image || isImageId(image)) return undefined;
  const named = image.split('@')[0]!;
  if (named.lastIndexOf(':') <= named.lastIndexOf('/')) return undefined;
  try {
    const ref = parseImageReference(named);
    return `${ref.domain}/${ref.repository}:${ref.tag}`;
  } catch {
    return undefined;
  }
}

/** The digest in an imageID, and the repository written before it, if any. */
function parseImageId(imageID: string): { fingerprint: string; repository?: string } | undefined {
  const id = imageID.replace(/^[a-z][a-z0-9+.-]*:\/\//, ''); // docker-pullable://, docker://
  const at = id.lastIndexOf('@');
  const fingerprint = sha256Fingerprint(at >= 0 ? id.slice(at + 1) : id);
  if (fingerprint === undefined) return undefined;
  return at > 0 ? { fingerprint, repository: id.slice(0, at) } : { fingerprint };
}

/** The running artifacts of a PodList; see the rules at the top of this file. `source` names the input in errors. */
export function podListSnapshot(doc: unknown, source: string, filter: NamespaceFilter = {}): K8sSnapshot {
  const keep = namespaceMatcher(filter);
  const r = new PodListReader(source);
  const root = r.object(doc, '$', 'a PodList object');
  if (root.kind !== 'List' && root.kind !== 'PodList') {
    r.fail('$.kind', root.kind === undefined ? 'missing: this is not a Kubernetes list' : `is ${JSON.stringify(root.kind)}, not a PodList or List`, true);
  }
  const tally = new ArtifactTally();
  const skipped: SkippedContainer[] = [];
  let runningPods = 0;
  r.list(root.items, '$.items').forEach((item, i) => {
    const at = `$.items[${i}]`;
    const pod = r.object(item, at, 'a Pod object');
    if (pod.kind !== undefined && pod.kind !== 'Pod') r.fail(`${at}.kind`, `is ${JSON.stringify(pod.kind)}, not Pod`, true);
    const metadata = r.object(pod.metadata, `${at}.metadata`, 'an object');
    const podName = r.string(metadata.name, `${at}.metadata.name`);
    const namespace = r.string(metadata.namespace, `${at}.metadata.namespace`);
    if (!NAMESPACE.test(namespace)) r.fail(`${at}.metadata.namespace`, `${describe(namespace)} is not a namespace name`);
    if (!keep(namespace)) return;
    const status = r.optionalObject(pod.status, `${at}.status`, 'an object');
    if (r.optionalString(status?.phase, `${at}.status.phase`) !== 'Running') return;
    runningPods++;

    const spec = r.optionalObject(pod.spec, `${at}.spec`, 'an object');
    const specImages = new Map<string, string | undefined>();
    const sidecars = new Set<string>();
    for (const key of ['containers', 'initContainers'] as const) {
      r.list(spec?.[key], `${at}.spec.${key}`).forEach((c, j) => {
        const container = r.object(c, `${at}.spec.${key}[${j}]`, 'a container');
        const name = r.string(container.name, `${at}.spec.${key}[${j}].name`);
        specImages.set(name, r.optionalString(container.image, `${at}.spec.${key}[${j}].image`));
        if (key === 'initContainers' && container.restartPolicy === 'Always') sidecars.add(name);
      });
    }
    const statuses: [string, unknown][] = [
      ...r.list(status!.containerStatuses, `${at}.status.containerStatuses`).map((s, j): [string, unknown] => [`${at}.status.containerStatuses[${j}]`, s]),
      ...r.list(status!.initContainerStatuses, `${at}.status.initContainerStatuses`).map((s, j): [string, unknown] => [`${at}.status.initContainerStatuses[${j}]`, s]),
    ];
    const counted = new Set<string>();
    for (const [path, s] of statuses) {
      const cs = r.object(s, path, 'a container status');
      const container = r.string(cs.name, `${path}.name`);
      if (path.includes('.initContainerStatuses[') && !sidecars.has(container)) continue;
      const imageID = r.string(cs.imageID, `${path}.imageID`);
      const image = r.optionalString(cs.image, `${path}.image`);
      const label = `${namespace}/${podName}/${container}`;
      if (imageID.trim() === '') {
        skipped.push({ name: label, reason: 'no image ID yet: the image is still being pulled or its status is not reported yet' });
        continue;
      }
      const id = parseImageId(imageID.trim());
      if (!id) {
        skipped.push({ name: label, reason: `its image ID ${JSON.stringify(imageID.slice(0, 200))} carries no sha256 digest` });
        continue;
      }
      if (counted.has(id.fingerprint)) continue;
      counted.add(id.fingerprint);
      const name = (image && image.trim() !== '' && !isImageId(image.trim()) ? referenceName(image) : undefined)
        ?? taggedSpecName(specImages.get(container))
        ?? (id.repository ? referenceName(id.repository) : undefined)
        ?? referenceName(image?.trim() || imageID.trim());
      tally.add(id.fingerprint, name || id.fingerprint);
    }
  });
  return { artifacts: tally.artifacts(), skipped, runningPods };
}

/**
 * Parses the text of `kubectl get pods -o json` output. PowerShell's `>` writes UTF-16 with a byte order
 * mark, and some editors a UTF-8 one: both are accepted.
 */
export function parsePodListBytes(bytes: Buffer, source: string, filter: NamespaceFilter = {}): K8sSnapshot {
  let text: string;
  if (bytes[0] === 0xff && bytes[1] === 0xfe) text = bytes.subarray(2).toString('utf16le');
  else if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) text = bytes.subarray(3).toString('utf8');
  else text = bytes.toString('utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new EvidentError('INVALID_ARGUMENT', `${source} is not valid JSON (${(err as Error).message}); ${SHAPE_HINT}`, {
      details: [{ path: '$', message: 'not JSON' }],
    });
  }
  return podListSnapshot(doc, source, filter);
}
