import fs from 'node:fs';
import type { CoreV1Api, KubeConfig, V1PodList } from '@kubernetes/client-node';
import { EvidentError } from '../../core/index.js';
import { namespaceMatcher, parsePodListBytes, podListSnapshot, type K8sSnapshot, type NamespaceFilter } from './k8s-pods.js';

// `evident snapshot k8s`: the pods of a cluster, read live through the Kubernetes API
// (@kubernetes/client-node) or from a file of `kubectl get pods -A -o json`; both go through the same
// podListSnapshot (k8s-pods.ts).

export interface K8sSourceOptions extends NamespaceFilter {
  /** A kubeconfig file; default: $KUBECONFIG, ~/.kube/config, then the pod's service account (in-cluster). */
  kubeconfig?: string;
  /** A context of the kubeconfig other than its current-context. */
  context?: string;
  /** Pods listed per request (the API pages with `limit` and `continue`). */
  pageSize?: number;
}

/** Reads `kubectl get pods -o json` output from a file, or from stdin for `-`. */
export function readPodListFile(file: string, filter: NamespaceFilter = {}): K8sSnapshot {
  const source = file === '-' ? 'stdin' : file;
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file === '-' ? 0 : file);
  } catch (err) {
    throw new EvidentError('INVALID_ARGUMENT', `--from-file: cannot read ${source}: ${(err as Error).message}`, { details: [{ path: '--from-file', message: 'unreadable' }] });
  }
  return parsePodListBytes(bytes, source, filter);
}

async function loadKubeConfig(options: K8sSourceOptions): Promise<{ kc: KubeConfig; api: CoreV1Api; server: string }> {
  // Imported when used: the client takes about a second to load, which no other command should pay.
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  try {
    if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    const where = options.kubeconfig ? `--kubeconfig ${options.kubeconfig}` : `the kubeconfig (${process.env.KUBECONFIG ?? '~/.kube/config'})`;
    throw new EvidentError('INVALID_ARGUMENT', `cannot read ${where}: ${(err as Error).message}`, { details: [{ path: '--kubeconfig', message: 'unreadable' }] });
  }
  if (options.context) {
    if (!kc.getContexts().some((c) => c.name === options.context)) {
      throw new EvidentError('INVALID_ARGUMENT', `--context ${options.context}: no such context in the kubeconfig (it has: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'})`, {
        details: [{ path: '--context', message: 'unknown context' }],
      });
    }
    kc.setCurrentContext(options.context);
  }
  const cluster = kc.getCurrentCluster();
  // With no kubeconfig and no service account, loadFromDefault falls back to http://localhost:8080, which
  // is no cluster anyone meant (and the default address of an Evident server).
  if (!cluster || (!options.kubeconfig && cluster.name === 'cluster' && cluster.server === 'http://localhost:8080')) {
    throw new EvidentError('INVALID_ARGUMENT', 'no Kubernetes cluster configured: give --kubeconfig FILE, set KUBECONFIG, create ~/.kube/config, run inside a cluster with a service account, or use --from-file', {
      details: [{ path: '--kubeconfig', message: 'no cluster' }],
    });
  }
  return { kc, api: kc.makeApiClient(k8s.CoreV1Api), server: cluster.server };
}

/** Turns a client failure into an Evident error that says what to do. */
function apiError(err: unknown, server: string, what: string): EvidentError {
  const e = err as { code?: unknown; body?: unknown; message?: string };
  if (typeof e.code === 'number') {
    let message = '';
    try {
      const body = typeof e.body === 'string' ? JSON.parse(e.body) : e.body;
      if (typeof body?.message === 'string') message = `: ${body.message}`;
    } catch {
      // the body is not a Kubernetes Status
    }
    if (e.code === 401) return new EvidentError('UNAUTHENTICATED', `the Kubernetes API at ${server} refused the credentials of the kubeconfig (401)${message}`, { cause: err });
    if (e.code === 403) {
      return new EvidentError('FORBIDDEN', `the Kubernetes API at ${server} does not allow ${what}${message}: the account needs "list" on "pods" (see the RBAC example in docs/reporters.md)`, { cause: err });
    }
    return new EvidentError('UNAVAILABLE', `the Kubernetes API at ${server} answered ${e.code} to ${what}${message}`, { cause: err });
  }
  const code = (err as NodeJS.ErrnoException).code;
  return new EvidentError('UNAVAILABLE', `cannot reach the Kubernetes API at ${server} (${what}): ${code ? `${code}: ` : ''}${e.message ?? String(err)}; is the cluster up and the kubeconfig's context the right one?`, { cause: err });
}

/** Follows `continue` tokens to the end of a list; a token seen twice would loop, so it ends there. */
async function listAll(page: (token: string | undefined) => Promise<V1PodList>): Promise<unknown[]> {
  const items: unknown[] = [];
  const seen = new Set<string>();
  let token: string | undefined;
  do {
    const list = await page(token);
    items.push(...(list.items ?? []));
    token = list.metadata?._continue || undefined;
    if (token !== undefined && seen.has(token)) break;
    if (token !== undefined) seen.add(token);
  } while (token !== undefined);
  return items;
}

/**
 * The running artifacts of a cluster, read through the Kubernetes API. With only exact `namespaces`, each
 * is listed on its own (an account allowed to list pods in those namespaces only is enough); otherwise all
 * pods are listed once and the filter applies to them (listing all pods needs a ClusterRole).
 */
export async function collectK8sSnapshot(options: K8sSourceOptions = {}): Promise<K8sSnapshot & { server: string }> {
  const filter: NamespaceFilter = {
    namespaces: options.namespaces, excludeNamespaces: options.excludeNamespaces,
    namespacesRegex: options.namespacesRegex, excludeNamespacesRegex: options.excludeNamespacesRegex,
  };
  namespaceMatcher(filter); // refuses a bad filter before any request
  const { api, server } = await loadKubeConfig(options);
  const limit = options.pageSize ?? 500;
  const exactOnly = (options.namespaces?.length ?? 0) > 0 && (options.namespacesRegex?.length ?? 0) === 0;
  const items: unknown[] = [];
  if (exactOnly) {
    for (const namespace of [...new Set(options.namespaces!.map((n) => n.trim()).filter(Boolean))]) {
      const what = `listing the pods of namespace ${namespace}`;
      try {
        items.push(...(await listAll((token) => api.listNamespacedPod({ namespace, limit, _continue: token }))));
      } catch (err) {
        throw apiError(err, server, what);
      }
    }
  } else {
    try {
      items.push(...(await listAll((token) => api.listPodForAllNamespaces({ limit, _continue: token }))));
    } catch (err) {
      throw apiError(err, server, 'listing the pods of all namespaces');
    }
  }
  // The client's objects carry the API's field names (imageID, containerStatuses, ...), so they read as JSON.
  return { ...podListSnapshot({ kind: 'PodList', items }, `the Kubernetes API at ${server}`, filter), server };
}
