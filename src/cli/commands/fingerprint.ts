import { Option, type Command } from 'commander';
import { EvidentError } from '../../core/index.js';
import type { ARTIFACT_TYPES as SERVICE_TYPES, ArtifactType, RegistryCredentials } from '../../services/index.js';
import { action, type Ctx } from '../context.js';

// `evident fingerprint` takes the flags of `kosli fingerprint` (Kosli CLI cmd/kosli/fingerprint.go):
// -t/--artifact-type, -x/--exclude (repeatable, and comma-separated like cobra's StringSlice),
// --registry-username/--registry-password; so scripts switch by changing the program name.

export interface FingerprintCmdOptions {
  artifactType: ArtifactType;
  exclude?: string[];
  registryInsecure?: boolean;
  registryUsername?: string;
  registryPassword?: string;
}

export async function fingerprintCommand(opts: FingerprintCmdOptions, ctx: Ctx, args: string[]): Promise<void> {
  const target = args[0]!;
  const username = opts.registryUsername ?? process.env.EVIDENT_REGISTRY_USERNAME;
  const password = opts.registryPassword ?? process.env.EVIDENT_REGISTRY_PASSWORD;
  if ((username === undefined) !== (password === undefined)) {
    throw new EvidentError('INVALID_ARGUMENT', 'give both --registry-username and --registry-password, or neither', {
      details: [{ path: username === undefined ? '--registry-username' : '--registry-password', message: 'missing' }],
    });
  }
  const credentials: RegistryCredentials | undefined = username === undefined ? undefined : { username, password: password! };
  const { fingerprint } = await import('../../services/index.js');
  const value = await fingerprint(target, {
    type: opts.artifactType,
    exclude: opts.exclude ?? [],
    insecureHttp: opts.registryInsecure ?? false,
    credentials,
  });
  ctx.printer.result({ fingerprint: value, type: opts.artifactType, path: target }, () => ctx.printer.text(value));
}

// services/ takes ~330 ms to load: imported when the command runs, not when the program is built (every
// `evident` start builds it). The -t choices are therefore spelled here; the two assignments below fail to
// compile when this list and services' ARTIFACT_TYPES differ in either direction.
const ARTIFACT_TYPES = ['file', 'dir', 'docker', 'oci'] as const;
const sameTypes: readonly (typeof SERVICE_TYPES)[number][] = ARTIFACT_TYPES;
const sameTypesBack: readonly (typeof ARTIFACT_TYPES)[number][] = [] as (typeof SERVICE_TYPES)[number][];
void [sameTypes, sameTypesBack];

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), ...value.split(',').filter((p) => p !== '')];

export function registerFingerprint(program: Command): void {
  program
    .command('fingerprint')
    .description("Print an artifact's SHA-256 fingerprint (the same value `kosli fingerprint` gives)")
    .argument('<PATH>', 'file or directory path, or image name')
    .addOption(new Option('-t, --artifact-type <type>', 'what PATH is').choices([...ARTIFACT_TYPES]).makeOptionMandatory())
    .option('-x, --exclude <glob>', 'dir only: leave out paths matching the glob, relative to PATH (repeatable, or comma-separated)', collect)
    .option('--registry-insecure', 'oci only: talk plain HTTP to the registry (local and test registries)')
    .option('--registry-username <name>', 'oci only: registry user (env EVIDENT_REGISTRY_USERNAME; default: docker login credentials)')
    .option('--registry-password <secret>', 'oci only: registry password or token (env EVIDENT_REGISTRY_PASSWORD)')
    .addHelpText(
      'after',
      `
Artifact types:
  file    SHA-256 of the file's bytes (a symbolic link is followed)
  dir     Kosli's directory digest: names and contents of every entry, walked in bytewise name order
  docker  the image's repo digest, from the local Docker Engine (DOCKER_HOST or /var/run/docker.sock);
          the image must have been pushed to or pulled from a registry
  oci     the manifest digest, asked of the registry (anonymous, or with ~/.docker/config.json credentials)

Excludes (dir): Go filepath.Match globs (* ? [a-z] [^a-z] \\x) relative to PATH, plus ** for any depth;
an excluded directory drops its whole subtree. Patterns are also read from PATH/.kosli_ignore and
PATH/.evident_ignore (one per line, # comments). See docs/fingerprints.md.

Examples:
  evident fingerprint build/app.jar -t file
  evident fingerprint dist -t dir -x '**/*.map' -x node_modules
  evident fingerprint ghcr.io/acme/runner:1.4.2 -t oci
  evident fingerprint acme/runner:1.4.2 -t docker --output json`,
    )
    .action(action<FingerprintCmdOptions>(fingerprintCommand));
}
