import type { Command } from 'commander';
import { EvidentError } from '../../core/index.js';
import type { ContainerSnapshot } from '../../services/index.js';
import { action, type Ctx } from '../context.js';
import { collectNames, collectPatterns } from '../flags.js';
import { sendSnapshot } from './snapshot-report.js';

// services/ (fingerprinting, collectors, XML parsing: ~330 ms to load) is imported when a command runs, not when
// the program is built: `evident --version` and `evident run` do not need it (docs/performance.md).
const services = () => import('../../services/index.js');

export interface SnapshotDockerOptions {
  socket?: string;
  label?: string[];
}

export interface SnapshotK8sOptions {
  kubeconfig?: string;
  context?: string;
  namespaces?: string[];
  excludeNamespaces?: string[];
  namespacesRegex?: string[];
  excludeNamespacesRegex?: string[];
  fromFile?: string;
}



function collectLabel(value: string, previous: string[] | undefined): string[] {
  if (!/^[^=\s]+(=.*)?$/.test(value)) throw new EvidentError('INVALID_ARGUMENT', `--label must be KEY or KEY=VALUE, not ${JSON.stringify(value)}`);
  return [...(previous ?? []), value];
}

function warnSkipped(ctx: Ctx, state: ContainerSnapshot): void {
  for (const s of state.skipped) ctx.printer.info(`warning: skipped ${s.name}: ${s.reason}`);
}

export async function snapshotDocker(opts: SnapshotDockerOptions, ctx: Ctx, [env]: string[]): Promise<void> {
  const { collectDockerSnapshot } = await services();
  const state = await collectDockerSnapshot({ socketPath: opts.socket, labels: opts.label });
  warnSkipped(ctx, state);
  await sendSnapshot(ctx, env!, state.artifacts);
}

export async function snapshotK8s(opts: SnapshotK8sOptions, ctx: Ctx, [env]: string[]): Promise<void> {
  const filter = {
    namespaces: opts.namespaces, excludeNamespaces: opts.excludeNamespaces,
    namespacesRegex: opts.namespacesRegex, excludeNamespacesRegex: opts.excludeNamespacesRegex,
  };
  if (opts.fromFile !== undefined && (opts.kubeconfig !== undefined || opts.context !== undefined)) {
    throw new EvidentError('INVALID_ARGUMENT', '--from-file reads pods from a file: --kubeconfig and --context do not apply to it', {
      details: [{ path: '--from-file', message: 'exclusive with --kubeconfig and --context' }],
    });
  }
  const { collectK8sSnapshot, readPodListFile } = await services();
  const state = opts.fromFile !== undefined
    ? readPodListFile(opts.fromFile, filter)
    : await collectK8sSnapshot({ ...filter, kubeconfig: opts.kubeconfig, context: opts.context });
  warnSkipped(ctx, state);
  if (state.runningPods === 0) ctx.printer.info('warning: no running pods found in the selected namespaces');
  await sendSnapshot(ctx, env!, state.artifacts);
}

const DOCKER_HELP = `
Each running container (GET /containers/json) is fingerprinted by the repo digest of its image
(GET /images/{id}/json, RepoDigests), as \`evident fingerprint --artifact-type docker\` does; containers
sharing a digest are one artifact with that many instances. The name is the image as given to
\`docker run\` (e.g. ghcr.io/acme/runner:16d9990). Containers whose image has no repo digest (built
locally, never pushed or pulled) are skipped with a warning on stderr.

The engine is reached at --socket, else DOCKER_HOST (unix://PATH or tcp://HOST:PORT without TLS), else
/var/run/docker.sock.

Examples:
  evident snapshot docker prod-host
  evident snapshot docker prod-host --label com.docker.compose.project=shop
  DOCKER_HOST=unix:///run/user/1000/docker.sock evident snapshot docker dev-host --dry-run`;

const K8S_HELP = `
Only pods in phase Running count. Each app container (and native sidecar) is fingerprinted by the digest
in status.containerStatuses[].imageID; instances are the number of running pods per digest. The name is
the image the runtime reports (e.g. ghcr.io/acme/runner:16d9990). Containers with no image ID yet are
skipped with a warning on stderr.

The cluster is read with --kubeconfig, else $KUBECONFIG, else ~/.kube/config, else the pod's service
account (in-cluster); the account needs "list" on "pods". --from-file reads the same JSON that
\`kubectl get pods -A -o json\` (or -n NAMESPACE) prints instead, "-" for stdin.

Namespaces: include with --namespaces / --namespaces-regex, or exclude with --exclude-namespaces /
--exclude-namespaces-regex (not both ways at once). Names are exact; regular expressions match anywhere
in the name unless anchored (^...$).

Examples:
  evident snapshot k8s prod
  evident snapshot k8s prod --exclude-namespaces kube-system,kube-public
  evident snapshot k8s prod --namespaces-regex '^shop-' --kubeconfig ~/.kube/prod.yaml
  kubectl get pods -A -o json | evident snapshot k8s prod --from-file -`;

export function registerContainerReporters(snapshot: Command): void {
  snapshot
    .command('docker <env>')
    .description('Report the containers running on a Docker Engine, by image repo digest')
    .option('--socket <path>', "the Docker Engine's unix socket (default: DOCKER_HOST, else /var/run/docker.sock)")
    .option('--label <key[=value]>', 'only containers with this label, repeatable (all must match)', collectLabel)
    .addHelpText('after', DOCKER_HELP)
    .action(action(snapshotDocker));
  snapshot
    .command('k8s <env>')
    .alias('kubernetes')
    .description('Report the pods running in a Kubernetes cluster, by image digest')
    .option('-k, --kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG, ~/.kube/config, then in-cluster)')
    .option('--context <name>', 'kubeconfig context to use instead of its current-context')
    .option('-n, --namespaces <list>', 'only these namespaces, comma-separated or repeated', collectNames)
    .option('-x, --exclude-namespaces <list>', 'all namespaces but these, comma-separated or repeated', collectNames)
    .option('--namespaces-regex <regex>', 'only namespaces matching this regular expression, repeatable', collectPatterns)
    .option('--exclude-namespaces-regex <regex>', 'all namespaces but those matching this regular expression, repeatable', collectPatterns)
    .option('--from-file <file>', 'read `kubectl get pods -A -o json` output from this file ("-" for stdin) instead of the cluster')
    .addHelpText('after', K8S_HELP)
    .action(action(snapshotK8s));
}
