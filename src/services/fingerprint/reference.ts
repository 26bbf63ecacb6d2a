import { EvidentError } from '../../core/index.js';

// Image references as Docker and the OCI distribution spec spell them (the grammar of
// github.com/distribution/reference): [domain[:port]/]path[:tag][@sha256:hex]. A name without a domain is
// on Docker Hub, and a one-component Docker Hub name lives under `library/` (alpine ->
// docker.io/library/alpine:latest), as `docker pull` normalises it.

export interface ImageReference {
  /** The registry as users and ~/.docker/config.json name it: `docker.io`, `ghcr.io`, `localhost:5000`. */
  domain: string;
  /** The host that serves the registry API (`registry-1.docker.io` for Docker Hub). */
  apiHost: string;
  /** The repository path, e.g. `library/alpine`. */
  repository: string;
  tag: string | undefined;
  /** `sha256:<hex>` when the reference pins a digest. */
  digest: string | undefined;
}

export const DOCKER_HUB = 'docker.io';
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

function invalid(reference: string, why: string): EvidentError {
  return new EvidentError('INVALID_ARGUMENT', `invalid image reference ${JSON.stringify(reference)}: ${why}`, {
    details: [{ path: 'IMAGE', message: why }],
  });
}

/** Parses and normalises an image reference; throws INVALID_ARGUMENT naming what is wrong. */
export function parseImageReference(reference: string): ImageReference {
  if (reference.trim() === '' || reference !== reference.trim()) throw invalid(reference, 'empty, or surrounded by white space');
  let rest = reference;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid(reference, `digest must be sha256: followed by 64 lower-case hex characters`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(reference, `tag ${JSON.stringify(tag)} is not valid`);
  }
  let domain = DOCKER_HUB;
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  // distribution/reference: the first component is a registry when it has a dot or a port, is
  // "localhost", or has upper-case letters (which a repository path cannot).
  if (slash >= 0 && (/[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase())) {
    if (!DOMAIN.test(first)) throw invalid(reference, `registry ${JSON.stringify(first)} is not a host name`);
    domain = first;
    rest = rest.slice(slash + 1);
  }
  if (domain === 'index.docker.io' || domain === 'registry-1.docker.io') domain = DOCKER_HUB;
  if (rest === '' || !rest.split('/').every((c) => COMPONENT.test(c))) {
    throw invalid(reference, 'repository names are lower-case letters, digits and separators (. _ __ -), split by /');
  }
  if (domain === DOCKER_HUB && !rest.includes('/')) rest = `library/${rest}`;
  if (tag === undefined && digest === undefined) tag = 'latest';
  return { domain, apiHost: domain === DOCKER_HUB ? 'registry-1.docker.io' : domain, repository: rest, tag, digest };
}

/** The reference spelled in full: `docker.io/library/alpine:latest`. */
export function formatReference(ref: ImageReference): string {
  return `${ref.domain}/${ref.repository}${ref.tag === undefined ? '' : `:${ref.tag}`}${ref.digest === undefined ? '' : `@${ref.digest}`}`;
}

/** Turns a `sha256:<hex>` digest into a fingerprint; other algorithms are refused (fingerprints are SHA-256). */
export function digestToFingerprint(digest: string, source: string): string {
  const value = digest.trim();
  if (!DIGEST.test(value)) {
    throw new EvidentError('INVALID_ARGUMENT', `${source} gave the digest ${JSON.stringify(value)}, which is not sha256:<64 hex>; fingerprints are SHA-256`, {
      details: [{ path: 'digest', message: value }],
    });
  }
  return value.slice('sha256:'.length);
}
