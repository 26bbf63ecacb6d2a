import { EvidentError } from '../../core/index.js';
import { fingerprintDocker, type DockerOptions } from './docker.js';
import { fingerprintDir, fingerprintFile } from './files.js';
import { fingerprintOci, type OciOptions } from './registry.js';

// `evident fingerprint` and `kosli fingerprint` compute the same values (DESIGN.md §4): file, dir, docker
// (repo digest from the local Docker Engine) and oci (manifest digest from the registry).

export { fingerprintDir, fingerprintFile, fingerprintFileList, planFileList } from './files.js';
export type { DirFingerprintOptions, FileListOptions, FileListPlan } from './files.js';
export { fingerprintDocker, pickRepoDigest } from './docker.js';
export type { DockerOptions } from './docker.js';
// The Docker Engine access itself, shared with the docker reporter (services/reporters).
export { endpoint as dockerEndpoint, get as dockerGet, unreachable as dockerUnreachable, engineMessage as dockerEngineMessage } from './docker.js';
export type { Endpoint as DockerEndpoint } from './docker.js';
export { fingerprintOci, parseChallenge, MANIFEST_TYPES } from './registry.js';
export type { OciOptions } from './registry.js';
export { parseImageReference, formatReference, digestToFingerprint } from './reference.js';
export type { ImageReference } from './reference.js';
export { dockerCredentials } from './docker-config.js';
export type { RegistryCredentials } from './docker-config.js';

export const ARTIFACT_TYPES = ['file', 'dir', 'docker', 'oci'] as const;
export type ArtifactType = (typeof ARTIFACT_TYPES)[number];

export interface FingerprintOptions extends DockerOptions, OciOptions {
  type: ArtifactType;
  /** Only for `dir`. */
  exclude?: readonly string[];
  /** Only for `dir`: hashing worker threads. */
  concurrency?: number;
}

/** The fingerprint (64 lower-case hex characters) of a file, directory, local image or registry image. */
export async function fingerprint(target: string, options: FingerprintOptions): Promise<string> {
  if (options.exclude?.length && options.type !== 'dir') {
    throw new EvidentError('INVALID_ARGUMENT', `--exclude applies only to --artifact-type dir, not ${options.type}`, {
      details: [{ path: '--exclude', message: 'only for dir' }],
    });
  }
  switch (options.type) {
    case 'file':
      return fingerprintFile(target);
    case 'dir':
      return fingerprintDir(target, { exclude: options.exclude, concurrency: options.concurrency });
    case 'docker':
      return fingerprintDocker(target, options);
    case 'oci':
      return fingerprintOci(target, options);
    default:
      throw new EvidentError('INVALID_ARGUMENT', `unknown artifact type ${JSON.stringify(options.type)}: use one of ${ARTIFACT_TYPES.join(', ')}`, {
        details: [{ path: '--artifact-type', message: 'unknown type' }],
      });
  }
}
