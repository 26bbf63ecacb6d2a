import { EvidentError } from '../../core/index.js';
import type { ArtifactType } from '../../services/index.js';

// services/ (fingerprinting, collectors, XML parsing: ~330 ms to load) is imported when a command runs, not when
// the program is built: `evident --version` and `evident run` do not need it (docs/performance.md).
const services = () => import('../../services/index.js');

export interface FingerprintFlags {
  fingerprint?: string;
  artifactType?: string;
  exclude?: string[];
}

/**
 * `--fingerprint FP`, or PATH fingerprinted with `-t TYPE` — one of the two. With --fingerprint a positional
 * argument is the artifact's name, not something to fingerprint (Kosli's ValidateAttestationArtifactArg).
 */
export async function resolveFingerprint(flags: FingerprintFlags, path: string | undefined): Promise<string> {
  if (flags.fingerprint !== undefined) {
    if (flags.artifactType !== undefined) throw new EvidentError('INVALID_ARGUMENT', 'give --fingerprint or PATH with -t, not both');
    return flags.fingerprint;
  }
  if (path === undefined || flags.artifactType === undefined) {
    throw new EvidentError('INVALID_ARGUMENT', 'give --fingerprint FP, or PATH with -t file|dir|docker|oci');
  }
  const { ARTIFACT_TYPES, fingerprint } = await services();
  if (!(ARTIFACT_TYPES as readonly string[]).includes(flags.artifactType)) {
    throw new EvidentError('INVALID_ARGUMENT', `-t must be one of ${ARTIFACT_TYPES.join(', ')}, not ${JSON.stringify(flags.artifactType)}`);
  }
  return fingerprint(path, { type: flags.artifactType as ArtifactType, exclude: flags.exclude });
}
