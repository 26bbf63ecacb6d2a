import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvidentError } from '../../src/core/index.js';
import {
  collectDockerSnapshot, collectK8sSnapshot, parsePodListBytes, podListSnapshot, readPodListFile, type ContainerArtifact,
} from '../../src/services/index.js';
import { tempDir } from '../helpers/engines.js';
import { readFixture, startFakeDockerEngine, startFakeKubeApi, type FakeDockerEngine, type FakeKubeApi } from '../helpers/fake-container-platforms.js';

const K8S = 'test/fixtures/k8s';
const ECR = '274425519734.dkr.ecr.eu-central-1.amazonaws.com';

// The digests written in the fixtures.
const FP = {
  runner: '9af401c4350b21e3f1df17d6ad808da43d9646e75b6da902cc7c492bcfb9c625',
  runnerOld: 'eeb0cfc9ee7f69fbd9531d5b8c1e8d22a8de119e2a422344a714a868e9a8bfec',
  shas: '76c442c04283c4ca1af22d882750eb960cf53c0aa041bbdb2db9df2f2c1282be',
  fluentbit: 'fad50f3ecd98ff763bd8df4f82f57299b32febaf75ddd6685b0bada345efae43',
  istio: 'c50ac164fff967843283b941b5dc68ddeedb7b7ba60dc2950d6fe06c6f24a442',
  kindnet: 'c19d6362a6a928139820761475a38c24c0cf84d507b9ddf414a078cf627497af',
  nginx: '4c0fdaa8b6341bfdeca5f18f7837462c80cff90527ee35ef185571e1c327beac',
  worker: '790aa28312077a126f7c13dde3c02e01de755b4a8f98df208092f5bb3299f913',
  reloader: 'c266d51b61ff8be098e194d47956d8e7cf1cd602920ba6cbb7a21e0c8c8ec995',
  prometheus: '5dbde5b30621de082725be58b52f9a3e519b8a2c86f74f448d07209707f6fc4c',
  coredns: '1eeb4c7316bacb1d4c8ead65571cd92dd21e27359f0d4917f1a5822a73b75db1',
  kubeProxyId: '92ed2bec97a637010666d6c4aa4d69b672baec0fd5d236d142e4227a3a0557d8',
  busybox: 'ab512471e34f10e894cfa69eec441e1412a1c418f681cdb04b15c219c8b1dd67',
  migrate: '3ff1289d06b0840bde87f6315e6949accace262404512775802f1a473c0fb918',
  kuard: 'bd17153e9a3319f401acc7a27759243f37d422c06cbbf01cb3e1f54bbbfe14f4',
  cartImageId: '719acb762f6705c838fc01b24c01804c95e48ed84cd5e81dd49a6b2f29445246',
};

const ALL_NAMESPACES: ContainerArtifact[] = [
  { name: `${ECR}/runner:16d9990`, fingerprint: FP.runner, instances: 3 },
  { name: `${ECR}/runner:85d83c6`, fingerprint: FP.runnerOld, instances: 1 },
  { name: `${ECR}/shas`, fingerprint: FP.shas, instances: 1 },
  { name: 'docker.io/fluent/fluent-bit:2.2.0', fingerprint: FP.fluentbit, instances: 2 },
  { name: 'docker.io/istio/proxyv2:1.22.0', fingerprint: FP.istio, instances: 2 },
  { name: 'docker.io/kindest/kindnetd:v20230330-48f316cd', fingerprint: FP.kindnet, instances: 1 },
  { name: 'docker.io/library/nginx:1.25.3', fingerprint: FP.nginx, instances: 2 },
  { name: 'ghcr.io/acme/worker:2.0.1', fingerprint: FP.worker, instances: 1 },
  { name: 'quay.io/prometheus-operator/prometheus-config-reloader:v0.70.0', fingerprint: FP.reloader, instances: 1 },
  { name: 'quay.io/prometheus/prometheus:v2.48.0', fingerprint: FP.prometheus, instances: 1 },
  { name: 'registry.k8s.io/coredns/coredns:v1.11.1', fingerprint: FP.coredns, instances: 2 },
  { name: 'registry.k8s.io/kube-proxy:v1.26.3', fingerprint: FP.kubeProxyId, instances: 1 },
];

function refusal(run: () => unknown): EvidentError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(EvidentError);
    return err as EvidentError;
  }
  throw new Error('expected an EvidentError');
}

async function refusalOf(promise: Promise<unknown>): Promise<EvidentError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(EvidentError);
  return err as EvidentError;
}

/** A one-pod PodList: each container is [name, image, imageID]. */
function podList(containers: [string, string, string][], phase = 'Running', namespace = 'default') {
  return {
    kind: 'List', apiVersion: 'v1',
    items: [{ metadata: { name: 'p', namespace }, spec: { containers: containers.map(([name, image]) => ({ name, image })) }, status: { phase, containerStatuses: containers.map(([name, image, imageID]) => ({ name, image, imageID })) } }],
  };
}

describe('k8s: a kubectl PodList becomes the running artifacts', () => {
  it('reports the Running pods of every namespace, one artifact per digest with its pod count', () => {
    const s = readPodListFile(`${K8S}/pods-all-namespaces.json`);
    expect(s.artifacts).toEqual(ALL_NAMESPACES);
    expect(s.runningPods).toBe(13);
    expect(s.skipped).toEqual([{ name: 'prod/worker-8d6f5c7b9-tq4vn/metrics-agent', reason: expect.stringMatching(/no image ID yet/) }]);
  });

  it('leaves out Pending, Succeeded and Failed pods and finished init containers, keeps native sidecars and crash-looping containers', () => {
    const fps = readPodListFile(`${K8S}/pods-all-namespaces.json`).artifacts.map((a) => a.fingerprint);
    expect(fps).not.toContain(FP.migrate); // the Job's Succeeded and Failed pods
    expect(fps).not.toContain(FP.busybox); // an init container that has completed
    const doc = readFixture<{ items: { metadata: { name: string }; status: { phase: string } }[] }>('k8s/pods-all-namespaces.json');
    expect(doc.items.find((p) => p.metadata.name === 'runner-7f9c6d5b8-zz8kd')!.status.phase).toBe('Pending'); // a 4th runner, not counted
  });

  it('takes the name from the runtime, then the tagged spec image, then the repository of the image ID', () => {
    const byFp = new Map(readPodListFile(`${K8S}/pods-all-namespaces.json`).artifacts.map((a) => [a.fingerprint, a.name]));
    expect(byFp.get(FP.kindnet)).toBe('docker.io/kindest/kindnetd:v20230330-48f316cd'); // status.image was sha256:…
    expect(byFp.get(FP.shas)).toBe(`${ECR}/shas`); // deployed by digest: no tag anywhere
    expect(byFp.get(FP.kubeProxyId)).toBe('registry.k8s.io/kube-proxy:v1.26.3'); // a bare image ID is still reported
  });

  it('reads a single namespace from a dockershim cluster (docker-pullable:// and docker://sha256:)', () => {
    const s = readPodListFile(`${K8S}/pods-shop-namespace-dockershim.json`);
    expect(s.artifacts).toEqual([
      { name: 'gcr.io/kuar-demo/kuard-amd64:1', fingerprint: FP.kuard, instances: 2 },
      { name: 'shop/cart:dev', fingerprint: FP.cartImageId, instances: 1 },
    ]);
  });

  it('reports nothing for an empty list, and accepts the API\'s own PodList (items without kind)', () => {
    expect(readPodListFile(`${K8S}/empty.json`)).toEqual({ artifacts: [], skipped: [], runningPods: 0 });
    const api = readFixture<{ items: Record<string, unknown>[] }>('k8s/pods-shop-namespace-dockershim.json');
    const s = podListSnapshot({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: api.items.map(({ kind: _k, apiVersion: _a, ...p }) => p) }, 'api');
    expect(s.artifacts.map((a) => a.instances)).toEqual([2, 1]);
  });

  it('filters namespaces by exact name and by regular expression, include or exclude', () => {
    const names = (filter: Parameters<typeof readPodListFile>[1]) => readPodListFile(`${K8S}/pods-all-namespaces.json`, filter).artifacts.map((a) => a.name);
    expect(names({ namespaces: ['monitoring'] })).toEqual(['quay.io/prometheus-operator/prometheus-config-reloader:v0.70.0', 'quay.io/prometheus/prometheus:v2.48.0']);
    expect(names({ namespacesRegex: ['^kube-'] })).toHaveLength(3);
    expect(names({ namespaces: ['monitoring'], namespacesRegex: ['^kube-'] })).toHaveLength(5);
    expect(names({ namespacesRegex: ['system'] })).toHaveLength(3); // unanchored, as Kosli's
    expect(names({ excludeNamespaces: ['prod', 'monitoring'] })).toEqual(['docker.io/kindest/kindnetd:v20230330-48f316cd', 'registry.k8s.io/coredns/coredns:v1.11.1', 'registry.k8s.io/kube-proxy:v1.26.3']);
    expect(names({ excludeNamespacesRegex: ['^kube-', 'prod'] })).toHaveLength(2);
    expect(names({ namespaces: ['nowhere'] })).toEqual([]);
  });

  it('refuses to include and exclude at once, and a regular expression that does not compile', () => {
    const both = refusal(() => readPodListFile(`${K8S}/empty.json`, { namespaces: ['a'], excludeNamespacesRegex: ['b'] }));
    expect(both.code).toBe('INVALID_ARGUMENT');
    expect(both.message).toMatch(/cannot be combined/);
    const bad = refusal(() => readPodListFile(`${K8S}/empty.json`, { namespacesRegex: ['prod-('] }));
    expect(bad.message).toMatch(/--namespaces-regex "prod-\(" is not a regular expression/);
  });

  it.each([
    ['not-json.json', /not-json\.json is not valid JSON/],
    ['truncated.json', /truncated\.json is not valid JSON/],
    ['wrong-kind.json', /wrong-kind\.json: \$\.kind: is "DeploymentList", not a PodList or List/],
    ['items-not-a-list.json', /items-not-a-list\.json: \$\.items: expected a list, found an object/],
    ['imageid-missing.json', /imageid-missing\.json: \$\.items\[1\]\.status\.containerStatuses\[0\]\.imageID: missing/],
    ['not-only-pods.json', /not-only-pods\.json: \$\.items\[3\]\.kind: is "Service", not Pod/],
  ])('refuses the malformed %s naming the file and the JSON path', (file, message) => {
    const err = refusal(() => readPodListFile(`${K8S}/malformed/${file}`));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toMatch(message);
    expect(err.message).toMatch(/kubectl get pods -A -o json/);
  });

  it('refuses a file it cannot read, naming it', () => {
    const err = refusal(() => readPodListFile(path.join(tempDir(), 'absent.json')));
    expect(err.message).toMatch(/--from-file: cannot read .*absent\.json/);
  });

  it('reads kubectl output saved by PowerShell (UTF-16 with a byte order mark) or with a UTF-8 one', () => {
    const text = fs.readFileSync(`${K8S}/pods-shop-namespace-dockershim.json`, 'utf8');
    const expected = readPodListFile(`${K8S}/pods-shop-namespace-dockershim.json`);
    expect(parsePodListBytes(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]), 'ps.json')).toEqual(expected);
    expect(parsePodListBytes(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]), 'bom.json')).toEqual(expected);
  });

  it('skips image IDs without a sha256 digest, counts a pod once per digest, and names a shared digest by its most common name', () => {
    const d = (c: string) => `sha256:${c.repeat(64)}`;
    const odd = podListSnapshot(podList([['a', 'x:1', `x@sha512:${'a'.repeat(128)}`], ['b', 'y:1', `y@${d('A')}`], ['c', 'z:1', 'z:1']]), 'f');
    expect(odd.artifacts).toEqual([]);
    expect(odd.skipped.map((s) => s.name)).toEqual(['default/p/a', 'default/p/b', 'default/p/c']);
    expect(odd.skipped[0]!.reason).toMatch(/carries no sha256 digest/);
    const twice = podListSnapshot(podList([['a', 'app:1', `app@${d('a')}`], ['b', 'app:1', `app@${d('a')}`]]), 'f');
    expect(twice.artifacts).toEqual([{ name: 'app:1', fingerprint: 'a'.repeat(64), instances: 1 }]);
    const list = { kind: 'List', items: ['p1', 'p2', 'p3'].map((name, i) => ({ ...podList([['c', i === 0 ? 'nginx:stable' : 'nginx:1.25', `nginx@${d('b')}`]]).items[0]!, metadata: { name, namespace: 'default' } })) };
    expect(podListSnapshot(list, 'f').artifacts).toEqual([{ name: 'nginx:1.25', fingerprint: 'b'.repeat(64), instances: 3 }]);
  });

  it('refuses values of the wrong type with their path', () => {
    const bad = podList([['a', 'x:1', `x@sha256:${'a'.repeat(64)}`]]) as { items: Record<string, unknown>[] };
    (bad.items[0]!.status as Record<string, unknown>).containerStatuses = 'running';
    expect(refusal(() => podListSnapshot(bad, 'f.json')).message).toMatch(/^f\.json: \$\.items\[0\]\.status\.containerStatuses: expected a list, found the string "running"/);
    const ns = podList([['a', 'x:1', 'x']], 'Running', '../etc');
    expect(refusal(() => podListSnapshot(ns, 'f.json')).message).toMatch(/\$\.items\[0\]\.metadata\.namespace: the string "\.\.\/etc" is not a namespace name/);
    expect(refusal(() => podListSnapshot([], 'f.json')).message).toMatch(/\$: expected a PodList object, found a list/);
  });
});

// Generated pod lists: each pod in a namespace and phase, each container with an image ID in one of the
// runtime spellings (or empty, or without a digest), drawn from a few digests so that pods share them.
const digestArb = fc.constantFrom('a', 'b', 'c', 'd').map((c) => c.repeat(64));
const imageIdArb = fc.oneof(
  digestArb.map((h) => ({ id: `registry.example/app@sha256:${h}`, fp: h as string | undefined })),
  digestArb.map((h) => ({ id: `docker-pullable://app@sha256:${h}`, fp: h as string | undefined })),
  digestArb.map((h) => ({ id: `sha256:${h}`, fp: h as string | undefined })),
  fc.constant({ id: '', fp: undefined as string | undefined }),
  fc.constant({ id: 'app:latest', fp: undefined as string | undefined }),
);
const podArb = fc.record({
  namespace: fc.constantFrom('prod', 'kube-system', 'batch'),
  phase: fc.constantFrom('Running', 'Running', 'Pending', 'Succeeded', 'Failed'),
  containers: fc.array(fc.record({ image: fc.constantFrom('app:1', 'sha256:' + 'e'.repeat(64), ''), imageID: imageIdArb }), { maxLength: 4 }),
});

describe('k8s parser properties', () => {
  it('never reports a fingerprint twice, and its instances add up to the (Running pod, digest) pairs', () => {
    fc.assert(fc.property(fc.array(podArb, { maxLength: 30 }), fc.option(fc.constantFrom('prod', 'kube-system')), (pods, only) => {
      const doc = {
        kind: 'List',
        items: pods.map((p, i) => ({
          metadata: { name: `pod-${i}`, namespace: p.namespace },
          spec: { containers: p.containers.map((c, j) => ({ name: `c${j}`, image: c.image })) },
          status: { phase: p.phase, containerStatuses: p.containers.map((c, j) => ({ name: `c${j}`, image: c.image, imageID: c.imageID.id })) },
        })),
      };
      const s = podListSnapshot(doc, 'generated', only ? { namespaces: [only] } : {});
      const fps = s.artifacts.map((a) => a.fingerprint);
      expect(new Set(fps).size).toBe(fps.length);
      for (const a of s.artifacts) {
        expect(a.fingerprint).toMatch(/^[a-f0-9]{64}$/);
        expect(a.instances).toBeGreaterThanOrEqual(1);
        expect(a.name.length).toBeGreaterThan(0);
      }
      let pairs = 0;
      for (const p of pods) {
        if (p.phase !== 'Running' || (only && p.namespace !== only)) continue;
        pairs += new Set(p.containers.map((c) => c.imageID.fp).filter((fp) => fp !== undefined)).size;
      }
      expect(s.artifacts.reduce((n, a) => n + a.instances, 0)).toBe(pairs);
    }));
  });

  it('throws nothing but INVALID_ARGUMENT on arbitrary JSON', () => {
    fc.assert(fc.property(fc.jsonValue(), (doc) => {
      try {
        podListSnapshot(doc, 'random');
      } catch (err) {
        expect(err).toBeInstanceOf(EvidentError);
        expect((err as EvidentError).code).toBe('INVALID_ARGUMENT');
      }
    }));
  });

  it('throws nothing but INVALID_ARGUMENT when any value of a real kubectl output is replaced', () => {
    const original = readFixture('k8s/pods-shop-namespace-dockershim.json');
    const paths: (string | number)[][] = [];
    const walk = (v: unknown, at: (string | number)[]) => {
      paths.push(at);
      if (v && typeof v === 'object') for (const [k, child] of Object.entries(v)) walk(child, [...at, Array.isArray(v) ? Number(k) : k]);
    };
    walk(original, []);
    fc.assert(fc.property(fc.nat(paths.length - 1), fc.jsonValue(), (which, value) => {
      const doc = structuredClone(original) as Record<string | number, unknown>;
      const at = paths[which]!;
      if (at.length === 0) return;
      let parent: Record<string | number, unknown> = doc;
      for (const key of at.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
      parent[at.at(-1)!] = value;
      try {
        const s = podListSnapshot(doc, 'mutated');
        expect(new Set(s.artifacts.map((a) => a.fingerprint)).size).toBe(s.artifacts.length);
      } catch (err) {
        expect(err).toBeInstanceOf(EvidentError);
        expect((err as EvidentError).code).toBe('INVALID_ARGUMENT');
      }
    }), { numRuns: 500 });
  });
});

const DOCKER = {
  nginx: '4c0fdaa8b6341bfdeca5f18f7837462c80cff90527ee35ef185571e1c327beac',
  apiGhcr: '10d3d260d39de8efc7d6f501e10871bb5632dd72d254331776b6a46bb53b6d20',
  redis: '8753a2b0574cbe680e9534454eb8a2692db42c2202c48893bd176cfcc7626afb',
  worker: '6bbc35a90af89d9db49be2e5b0a1d07a4bc5657f0da7bf2566914ac0c8d81441',
};

const DOCKER_ARTIFACTS: ContainerArtifact[] = [
  { name: 'ghcr.io/acme/api:2.4.1', fingerprint: DOCKER.apiGhcr, instances: 1 },
  { name: 'ghcr.io/acme/worker', fingerprint: DOCKER.worker, instances: 1 },
  { name: 'nginx:1.25.3', fingerprint: DOCKER.nginx, instances: 2 },
  { name: 'redis', fingerprint: DOCKER.redis, instances: 1 },
];

describe('docker: the running containers of a (fake) Docker Engine', () => {
  let engine: FakeDockerEngine;
  beforeAll(async () => {
    engine = await startFakeDockerEngine();
  });
  afterAll(async () => engine?.close());

  it('reports one artifact per repo digest, named by the container image, and skips what has no repo digest', async () => {
    engine.requests.length = 0;
    const s = await collectDockerSnapshot({ socketPath: engine.socketPath });
    expect(s.artifacts).toEqual(DOCKER_ARTIFACTS);
    expect(s.skipped).toEqual([
      { name: 'shop-cart-1', reason: expect.stringMatching(/image shop-cart has no repo digest: it was built here and never pushed/) },
      { name: 'orphan', reason: expect.stringMatching(/no longer present locally/) },
    ]);
    // One list, then one inspection per distinct image (the two nginx containers share theirs).
    expect(engine.requests[0]).toBe('GET /containers/json');
    expect(engine.requests.filter((r) => r.startsWith('GET /images/'))).toHaveLength(6);
  });

  it('asks the engine for labelled containers only with --label', async () => {
    engine.requests.length = 0;
    const s = await collectDockerSnapshot({ socketPath: engine.socketPath, labels: ['com.docker.compose.project=shop', 'com.docker.compose.service=web'] });
    expect(s.artifacts).toEqual([{ name: 'nginx:1.25.3', fingerprint: DOCKER.nginx, instances: 2 }]);
    expect(decodeURIComponent(engine.requests[0]!)).toBe('GET /containers/json?filters={"label":["com.docker.compose.project=shop","com.docker.compose.service=web"]}');
  });

  it('reports nothing running as an empty state', async () => {
    const saved = engine.containers;
    engine.containers = [];
    try {
      expect(await collectDockerSnapshot({ socketPath: engine.socketPath })).toEqual({ artifacts: [], skipped: [] });
    } finally {
      engine.containers = saved;
    }
  });

  it('is UNAVAILABLE, with a hint, when the engine cannot be reached or answers badly', async () => {
    const gone = await refusalOf(collectDockerSnapshot({ socketPath: path.join(tempDir(), 'nothing.sock') }));
    expect(gone.code).toBe('UNAVAILABLE');
    expect(gone.message).toMatch(/cannot reach the Docker Engine at unix:\/\/.*nothing\.sock: ENOENT: is Docker running\?/);
    for (const [fail, message] of [
      [{ status: 500, body: '{"message":"Error response from daemon: too many open files"}' }, /answered 500 to GET \/containers\/json: Error response from daemon: too many open files/],
      [{ status: 200, body: '<html>' }, /invalid JSON/],
      [{ status: 200, body: '{"containers": []}' }, /something other than a list/],
    ] as const) {
      engine.fail = fail;
      try {
        const err = await refusalOf(collectDockerSnapshot({ socketPath: engine.socketPath }));
        expect(err.code).toBe('UNAVAILABLE');
        expect(err.message).toMatch(message);
      } finally {
        engine.fail = undefined;
      }
    }
  });
});

describe('k8s: live through the Kubernetes API (a fake API server)', () => {
  let api: FakeKubeApi;
  beforeAll(async () => {
    api = await startFakeKubeApi('k8s/pods-all-namespaces.json', 4);
  });
  afterAll(async () => api?.close());

  it('lists every namespace page by page and reports what the kubectl file gives', async () => {
    api.requests.length = 0;
    const s = await collectK8sSnapshot({ kubeconfig: api.kubeconfig() });
    expect(s.artifacts).toEqual(ALL_NAMESPACES);
    expect(s.runningPods).toBe(13);
    expect(s.server).toBe(api.url);
    expect(api.requests).toEqual(['GET /api/v1/pods?limit=500', ...[4, 8, 12].map((n) => `GET /api/v1/pods?continue=${n}&limit=500`)]);
  });

  it('lists only the named namespaces with --namespaces, and filters all pods with a regex', async () => {
    api.requests.length = 0;
    const only = await collectK8sSnapshot({ kubeconfig: api.kubeconfig(), namespaces: ['monitoring', 'kube-system'] });
    expect(only.artifacts.map((a) => a.name)).toEqual([
      'docker.io/kindest/kindnetd:v20230330-48f316cd', 'quay.io/prometheus-operator/prometheus-config-reloader:v0.70.0', 'quay.io/prometheus/prometheus:v2.48.0',
      'registry.k8s.io/coredns/coredns:v1.11.1', 'registry.k8s.io/kube-proxy:v1.26.3',
    ]);
    expect(api.requests.every((r) => /^GET \/api\/v1\/namespaces\/(monitoring|kube-system)\/pods/.test(r))).toBe(true);
    const re = await collectK8sSnapshot({ kubeconfig: api.kubeconfig(), excludeNamespacesRegex: ['^kube-', '^prod$'] });
    expect(re.artifacts.map((a) => a.name)).toEqual(['quay.io/prometheus-operator/prometheus-config-reloader:v0.70.0', 'quay.io/prometheus/prometheus:v2.48.0']);
  });

  it('says what is wrong with credentials, permissions, contexts and an absent cluster', async () => {
    const unauth = await refusalOf(collectK8sSnapshot({ kubeconfig: api.kubeconfig('wrong-token') }));
    expect(unauth.code).toBe('UNAUTHENTICATED');
    api.forbidden.add('*');
    try {
      const forbidden = await refusalOf(collectK8sSnapshot({ kubeconfig: api.kubeconfig() }));
      expect(forbidden.code).toBe('FORBIDDEN');
      expect(forbidden.message).toMatch(/cannot list resource "pods" in API group "" at the cluster scope: the account needs "list" on "pods"/);
    } finally {
      api.forbidden.delete('*');
    }
    const ctx = await refusalOf(collectK8sSnapshot({ kubeconfig: api.kubeconfig(undefined, ['staging']), context: 'prod' }));
    expect(ctx.message).toMatch(/--context prod: no such context in the kubeconfig \(it has: fake, staging\)/);
    const badFile = await refusalOf(collectK8sSnapshot({ kubeconfig: path.join(tempDir(), 'none.yaml') }));
    expect(badFile.code).toBe('INVALID_ARGUMENT');
    expect(badFile.message).toMatch(/cannot read --kubeconfig .*none\.yaml/);
  });

  it('is UNAVAILABLE when the API server does not answer', async () => {
    const closed = await startFakeKubeApi('k8s/empty.json');
    const kubeconfig = closed.kubeconfig();
    await closed.close();
    const err = await refusalOf(collectK8sSnapshot({ kubeconfig }));
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.message).toMatch(new RegExp(`cannot reach the Kubernetes API at ${closed.url}.*ECONNREFUSED`));
  });

  it('refuses to guess a cluster when nothing is configured', async () => {
    const saved = { HOME: process.env.HOME, KUBECONFIG: process.env.KUBECONFIG };
    process.env.HOME = tempDir('evident-nohome-');
    delete process.env.KUBECONFIG;
    try {
      const err = await refusalOf(collectK8sSnapshot({}));
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.message).toMatch(/no Kubernetes cluster configured/);
    } finally {
      process.env.HOME = saved.HOME;
      if (saved.KUBECONFIG !== undefined) process.env.KUBECONFIG = saved.KUBECONFIG;
    }
  });
});
