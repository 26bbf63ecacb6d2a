import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { tempDir } from './engines.js';

// Stand-ins for the platforms the container reporters read, speaking the real wire shapes: a Docker Engine
// on a unix socket (Engine API: GET /containers/json, GET /images/{id}/json, errors as {"message"}) and a
// Kubernetes API server over HTTP (GET /api/v1/pods and /api/v1/namespaces/{ns}/pods, paged with
// limit/continue, errors as a Status object).

const FIXTURES = path.resolve('test/fixtures');

export function readFixture<T = unknown>(relative: string): T {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, relative), 'utf8')) as T;
}

export interface FakeDockerEngine {
  socketPath: string;
  requests: string[];
  /** What GET /containers/json lists (before the label filter); a test may replace it. */
  containers: { Labels?: Record<string, string> }[];
  /** When set, every request is answered with this. */
  fail?: { status: number; body: string };
  close(): Promise<void>;
}

function labelsMatch(labels: Record<string, string> | undefined, filters: string[]): boolean {
  return filters.every((f) => {
    const eq = f.indexOf('=');
    const key = eq < 0 ? f : f.slice(0, eq);
    return labels !== undefined && key in labels && (eq < 0 || labels[key] === f.slice(eq + 1));
  });
}

/** A Docker Engine serving test/fixtures/docker/{containers,images}.json on a unix socket in a temp dir. */
export async function startFakeDockerEngine(): Promise<FakeDockerEngine> {
  const socketPath = path.join(tempDir('evident-dockerd-'), 'docker.sock');
  const images = new Map(readFixture<{ Id: string }[]>('docker/images.json').map((i) => [i.Id, i]));
  const engine: FakeDockerEngine = {
    socketPath, requests: [], containers: readFixture('docker/containers.json'),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = http.createServer((req, res) => {
    engine.requests.push(`${req.method} ${req.url}`);
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('Api-Version', '1.44');
    if (engine.fail) return res.writeHead(engine.fail.status).end(engine.fail.body);
    const url = new URL(req.url ?? '/', 'http://docker');
    const route = url.pathname.replace(/^\/v1\.\d+/, ''); // the engine also serves versioned paths
    if (req.method === 'GET' && route === '/containers/json') {
      const filters = url.searchParams.get('filters');
      let labels: string[] = [];
      try {
        labels = filters ? (JSON.parse(filters) as { label?: string[] }).label ?? [] : [];
      } catch {
        return res.writeHead(400).end(JSON.stringify({ message: `invalid filter '${filters}'` }));
      }
      return res.writeHead(200).end(JSON.stringify(engine.containers.filter((c) => labelsMatch(c.Labels, labels))));
    }
    const image = /^\/images\/(.+)\/json$/.exec(route);
    if (req.method === 'GET' && image) {
      const name = decodeURIComponent(image[1]!);
      // by id, or by a tag as the engine also resolves (`docker image inspect nginx:1.25.3`)
      const found = images.get(name) ?? images.get(`sha256:${name}`) ?? [...images.values()].find((i) => (i as { RepoTags?: string[] }).RepoTags?.includes(name));
      if (!found) return res.writeHead(404).end(JSON.stringify({ message: `No such image: ${name}` }));
      return res.writeHead(200).end(JSON.stringify(found));
    }
    res.writeHead(404).end(JSON.stringify({ message: 'page not found' }));
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return engine;
}

export interface FakeKubeApi {
  url: string;
  requests: string[];
  /** Writes a kubeconfig for this server (token defaults to the right one) and returns its path. */
  kubeconfig(token?: string, extraContexts?: string[]): string;
  /** Namespaces (or '*' for the cluster scope) whose listing is forbidden (403). */
  forbidden: Set<string>;
  close(): Promise<void>;
}

const TOKEN = 'evident-test-token';

function status(res: http.ServerResponse, code: number, reason: string, message: string): void {
  res.writeHead(code).end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }));
}

/**
 * A Kubernetes API server listing the pods of a kubectl List (test/fixtures/k8s/...) as the API does: kind
 * PodList, items without their own kind/apiVersion, `pageSize` items per page with a continue token.
 */
export async function startFakeKubeApi(fixture: string, pageSize = 1000): Promise<FakeKubeApi> {
  const items = readFixture<{ items: { kind?: string; apiVersion?: string; metadata: { namespace: string } }[] }>(fixture).items
    .map(({ kind: _kind, apiVersion: _apiVersion, ...pod }) => pod);
  const dir = tempDir('evident-kube-');
  const api: FakeKubeApi = {
    url: '', requests: [], forbidden: new Set(),
    kubeconfig(token = TOKEN, extraContexts = []) {
      const file = path.join(dir, `kubeconfig-${api.requests.length}-${Math.random().toString(36).slice(2)}`);
      const contexts = ['fake', ...extraContexts].map((c) => `- name: ${c}\n  context:\n    cluster: fake\n    user: reporter\n`).join('');
      fs.writeFileSync(file, `apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: ${api.url}\n    insecure-skip-tls-verify: true\n`
        + `users:\n- name: reporter\n  user:\n    token: ${token}\ncontexts:\n${contexts}current-context: fake\n`);
      return file;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = http.createServer((req, res) => {
    api.requests.push(`${req.method} ${req.url}`);
    res.setHeader('Content-Type', 'application/json');
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return status(res, 401, 'Unauthorized', 'Unauthorized');
    const url = new URL(req.url ?? '/', 'http://kube');
    const m = /^\/api\/v1\/(?:namespaces\/([^/]+)\/)?pods$/.exec(url.pathname);
    if (req.method !== 'GET' || !m) return status(res, 404, 'NotFound', 'the server could not find the requested resource');
    const ns = m[1];
    if (api.forbidden.has(ns ?? '*')) {
      const who = 'User "system:serviceaccount:evident:reporter"';
      return status(res, 403, 'Forbidden', ns ? `pods is forbidden: ${who} cannot list resource "pods" in API group "" in the namespace "${ns}"` : `pods is forbidden: ${who} cannot list resource "pods" in API group "" at the cluster scope`);
    }
    const selected = ns ? items.filter((p) => p.metadata.namespace === ns) : items;
    const limit = Number(url.searchParams.get('limit') ?? 0) || selected.length;
    const start = Number(url.searchParams.get('continue') ?? 0);
    const page = selected.slice(start, start + Math.min(limit, pageSize));
    const next = start + page.length < selected.length ? String(start + page.length) : undefined;
    res.writeHead(200).end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '912345', ...(next ? { continue: next } : {}) }, items: page }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  api.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return api;
}
