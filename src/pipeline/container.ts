import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { EvidentError } from '../core/index.js';
import { writableDirs } from './sandbox.js';
import type { StepSpec } from './types.js';

// The `container` isolation level (seed 003 §7.2: "runs in Docker container, isolated filesystem, network
// isolation"; ATTEST's `image:`). A container step runs `/bin/sh -c run` under Podman (daemonless, rootless
// or as root; Docker-compatible images) in the image its attest.yaml names, resolved once per run to the
// image's ID — a content digest — which is what runs and what the cache key, the receipt and the provenance
// record: a tag moved to another image is another key, never a stale hit. Like the sandbox level: the
// container's own file system read-only, /tmp private, no network, the workspace mounted read-only at its
// own path and only the declared outputs' directories writable; the command runs as the invoking user, so
// what it writes is owned as if it had run on the host. Podman is configured the standard way
// (containers.conf, CONTAINERS_CONF): Evident passes no engine options of its own.

const run = promisify(execFile);

/** The path of podman on PATH, or undefined. */
export function findPodman(pathVar = process.env.PATH ?? '/usr/bin:/bin'): string | undefined {
  for (const dir of pathVar.split(':')) {
    const candidate = path.join(dir || '.', 'podman');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export const NO_PODMAN = 'container isolation needs Podman, which is not installed: apt-get install podman';

/** An image reference as Podman takes it: no options, no spaces, no shell. */
const IMAGE_REF = /^[A-Za-z0-9][A-Za-z0-9._\-/:@]{0,254}$/;

export function imageProblem(image: string): string | undefined {
  return IMAGE_REF.test(image) && !image.includes('..') ? undefined : 'is not an image reference (e.g. debian:bookworm, localhost/build:1, registry/name@sha256:…)';
}

/**
 * The image ID (`sha256:…`, the digest of its configuration, which names its layers) of each image the
 * steps use: looked up locally, pulled when missing (Podman's registries and credentials), then looked up
 * again. Once per run, before any key is computed.
 */
export async function resolveImages(images: Iterable<string>, podman = findPodman()): Promise<Map<string, string>> {
  if (!podman) throw new EvidentError('INVALID_ARGUMENT', NO_PODMAN);
  const ids = new Map<string, string>();
  for (const image of new Set(images)) {
    let id = await imageId(podman, image);
    if (id === undefined) {
      try {
        await run(podman, ['pull', '--quiet', image], { timeout: 600_000, maxBuffer: 1 << 20 });
      } catch (err) {
        throw new EvidentError('INVALID_ARGUMENT', `image ${image} is not on this machine and could not be pulled: ${lastLine(err)}`, { cause: err });
      }
      id = await imageId(podman, image);
      if (id === undefined) throw new EvidentError('INVALID_ARGUMENT', `image ${image}: pulled, but Podman does not list it`);
    }
    ids.set(image, id);
  }
  return ids;
}

async function imageId(podman: string, image: string): Promise<string | undefined> {
  try {
    const { stdout } = await run(podman, ['image', 'inspect', '--format', '{{.Id}}', image], { timeout: 60_000 });
    const id = stdout.trim();
    if (!/^[0-9a-f]{64}$/.test(id)) throw new EvidentError('INTERNAL', `podman image inspect ${image}: unexpected ID ${JSON.stringify(id)}`);
    return `sha256:${id}`;
  } catch (err) {
    if (err instanceof EvidentError) throw err;
    return undefined; // not on this machine
  }
}

function lastLine(err: unknown): string {
  const text = String((err as { stderr?: string }).stderr ?? (err as Error).message).trim();
  return text.split('\n').pop() ?? text;
}

/**
 * The command line prefix that runs `/bin/sh -c CMD` in the container. `envNames`: the variables the step
 * gets, passed by name (`-e NAME`: Podman copies each value from its own environment, which is the step's,
 * so no value is on a command line). Creates the writable directories, as the sandbox does.
 */
export function containerPrefix(workspace: string, step: StepSpec, imageId: string, envNames: readonly string[], podman = findPodman()): string[] {
  if (!podman) throw new EvidentError('INVALID_ARGUMENT', NO_PODMAN);
  // --volume SRC:DST:OPTIONS: a ':' in a path would be read as the next field (and ',' in the options).
  if (/[:,]/.test(workspace)) throw new EvidentError('INVALID_ARGUMENT', `the workspace ${JSON.stringify(workspace)} cannot be mounted in a container: its path holds ':' or ','`);
  const { uid, gid } = os.userInfo();
  const args = [
    podman, 'run', '--rm', '--init', '--pull', 'never', '--network', 'none', '--read-only', '--tmpfs', '/tmp',
    '--user', `${uid}:${gid}`, '--security-opt', 'no-new-privileges', '--volume', `${workspace}:${workspace}:ro`,
  ];
  for (const dir of writableDirs(workspace, step)) {
    fs.mkdirSync(dir, { recursive: true });
    args.push('--volume', `${dir}:${dir}:rw`);
  }
  for (const name of envNames) args.push('--env', name);
  args.push('--workdir', step.workingDir ? path.join(workspace, step.workingDir) : workspace, '--entrypoint', '[]', imageId.replace(/^sha256:/, ''));
  return args;
}
