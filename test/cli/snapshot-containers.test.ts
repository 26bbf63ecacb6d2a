import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPodListFile } from '../../src/services/index.js';
import { evident, startServerProcess, type ServerProcess } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';
import { startFakeDockerEngine, startFakeKubeApi, type FakeDockerEngine, type FakeKubeApi } from '../helpers/fake-container-platforms.js';

const K8S = path.resolve('test/fixtures/k8s');
const NGINX = '4c0fdaa8b6341bfdeca5f18f7837462c80cff90527ee35ef185571e1c327beac';
const RUNNER = '9af401c4350b21e3f1df17d6ad808da43d9646e75b6da902cc7c492bcfb9c625';

describe('evident snapshot docker | k8s', () => {
  let server: ServerProcess;
  let engine: FakeDockerEngine;
  let kube: FakeKubeApi;
  let env: Record<string, string>;

  beforeAll(async () => {
    [server, engine, kube] = await Promise.all([startServerProcess(['--data-dir', tempDir()]), startFakeDockerEngine(), startFakeKubeApi('k8s/pods-all-namespaces.json', 5)]);
    env = { HOME: tempDir('evident-home-'), EVIDENT_HOST: server.url, EVIDENT_ORG: 'default', EVIDENT_API_TOKEN: server.token! };
    for (const [name, type] of [['docker-host', 'docker'], ['prod-k8s', 'k8s'], ['shop-k8s', 'k8s'], ['live-k8s', 'k8s']]) {
      const res = await evident(['create', 'environment', name!, '--type', type!], env);
      expect(res.code, res.stderr).toBe(0);
    }
  }, 60_000);
  afterAll(async () => {
    await Promise.all([server?.stop(), engine?.close(), kube?.close()]);
  });

  const snapshot = async (expr: string) => {
    const res = await evident(['get', 'snapshot', expr, '--output', 'json-evident'], env);
    expect(res.code, res.stderr).toBe(0);
    return JSON.parse(res.stdout) as { index: number; artifacts: { name: string; fingerprint: string; instances: number }[] };
  };
  const state = (s: { artifacts: { name: string; fingerprint: string; instances: number }[] }) =>
    s.artifacts.map(({ name, fingerprint, instances }) => ({ name, fingerprint, instances })).sort((a, b) => a.fingerprint.localeCompare(b.fingerprint));

  it('reports the containers of a Docker Engine and warns about those it skips', async () => {
    const res = await evident(['snapshot', 'docker', 'docker-host', '--socket', engine.socketPath], env);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^Snapshot docker-host#1 created/);
    expect(res.stderr).toMatch(/warning: skipped shop-cart-1: its image shop-cart has no repo digest/);
    expect(res.stderr).toMatch(/warning: skipped orphan: its image ghcr.io\/acme\/legacy:0.9 is no longer present locally/);
    const s = await snapshot('docker-host');
    expect(s.index).toBe(1);
    expect(state(s)).toEqual([
      { name: 'ghcr.io/acme/api:2.4.1', fingerprint: '10d3d260d39de8efc7d6f501e10871bb5632dd72d254331776b6a46bb53b6d20', instances: 1 },
      { name: 'nginx:1.25.3', fingerprint: NGINX, instances: 2 },
      { name: 'ghcr.io/acme/worker', fingerprint: '6bbc35a90af89d9db49be2e5b0a1d07a4bc5657f0da7bf2566914ac0c8d81441', instances: 1 },
      { name: 'redis', fingerprint: '8753a2b0574cbe680e9534454eb8a2692db42c2202c48893bd176cfcc7626afb', instances: 1 },
    ]);
    // The same state again makes no new snapshot.
    const again = await evident(['snapshot', 'docker', 'docker-host', '--socket', engine.socketPath], env);
    expect(again.stdout).toMatch(/No change: docker-host#1 is still current/);
  });

  it('finds the engine through DOCKER_HOST, filters by label and, with --dry-run, only prints', async () => {
    const res = await evident(['snapshot', 'docker', 'docker-host', '--label', 'com.docker.compose.service=web', '--dry-run', '--output', 'json'], { ...env, DOCKER_HOST: `unix://${engine.socketPath}` });
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual({ artifacts: [{ name: 'nginx:1.25.3', fingerprint: NGINX, instances: 2 }] });
    expect((await snapshot('docker-host')).index).toBe(1); // nothing was sent
  });

  it('exits 3 with a hint when no Docker Engine answers, and 2 for a malformed --label', async () => {
    const res = await evident(['snapshot', 'docker', 'docker-host', '--socket', path.join(tempDir(), 'docker.sock')], env);
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(/cannot reach the Docker Engine at unix:\/\/.*docker\.sock: ENOENT: is Docker running\?/);
    const label = await evident(['snapshot', 'docker', 'docker-host', '--label', '=web'], env);
    expect(label.code).toBe(2);
    expect(label.stderr).toMatch(/--label must be KEY or KEY=VALUE/);
  });

  it('reports kubectl get pods -A -o json output from a file, then from stdin', async () => {
    const file = path.join(K8S, 'pods-all-namespaces.json');
    const res = await evident(['snapshot', 'k8s', 'prod-k8s', '--from-file', file, '--exclude-namespaces', 'kube-system,kube-public'], env);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/warning: skipped prod\/worker-8d6f5c7b9-tq4vn\/metrics-agent: no image ID yet/);
    const s = await snapshot('prod-k8s');
    const expected = readPodListFile(file, { excludeNamespaces: ['kube-system'] }).artifacts;
    expect(state(s)).toEqual(state({ artifacts: expected }));
    expect(s.artifacts.find((a) => a.fingerprint === RUNNER)).toMatchObject({ name: '274425519734.dkr.ecr.eu-central-1.amazonaws.com/runner:16d9990', instances: 3 });
    expect(s.artifacts.map((a) => a.name)).not.toContain('registry.k8s.io/coredns/coredns:v1.11.1');

    const piped = await evident(['snapshot', 'kubernetes', 'shop-k8s', '--from-file', '-', '--output', 'json'], env, fs.readFileSync(path.join(K8S, 'pods-shop-namespace-dockershim.json')));
    expect(piped.code, piped.stderr).toBe(0);
    expect(JSON.parse(piped.stdout)).toMatchObject({ created: true, index: 1 });
    expect(state(await snapshot('shop-k8s'))).toEqual([
      { name: 'shop/cart:dev', fingerprint: '719acb762f6705c838fc01b24c01804c95e48ed84cd5e81dd49a6b2f29445246', instances: 1 },
      { name: 'gcr.io/kuar-demo/kuard-amd64:1', fingerprint: 'bd17153e9a3319f401acc7a27759243f37d422c06cbbf01cb3e1f54bbbfe14f4', instances: 2 },
    ]);
  });

  it('reads a cluster through its API with --kubeconfig and the namespace flags', async () => {
    const kubeconfig = kube.kubeconfig();
    const dry = await evident(['snapshot', 'k8s', 'live-k8s', '-k', kubeconfig, '-n', 'prod', '--dry-run'], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toMatch(/dry run: would report 7 running artifact\(s\) to live-k8s/);
    expect(dry.stdout).toMatch(new RegExp(`^${RUNNER}  3  274425519734\\.dkr\\.ecr\\.eu-central-1\\.amazonaws\\.com/runner:16d9990$`, 'm'));
    const res = await evident(['snapshot', 'k8s', 'live-k8s', '--kubeconfig', kubeconfig, '--namespaces-regex', '^kube-,^monitoring$'], env);
    expect(res.code, res.stderr).toBe(0);
    const s = await snapshot('live-k8s');
    expect(s.index).toBe(1);
    expect(state(s)).toEqual(state(readPodListFile(path.join(K8S, 'pods-all-namespaces.json'), { namespacesRegex: ['^kube-', '^monitoring$'] })));
    expect(s.artifacts).toHaveLength(5);
  });

  it.each([
    ['malformed/not-json.json', /not-json\.json is not valid JSON/],
    ['malformed/wrong-kind.json', /wrong-kind\.json: \$\.kind: is "DeploymentList", not a PodList or List/],
    ['malformed/items-not-a-list.json', /items-not-a-list\.json: \$\.items: expected a list/],
    ['malformed/imageid-missing.json', /imageid-missing\.json: \$\.items\[1\]\.status\.containerStatuses\[0\]\.imageID: missing/],
    ['absent.json', /--from-file: cannot read .*absent\.json/],
  ])('exits 2 on the malformed file %s, naming it and the JSON path', async (file, message) => {
    const res = await evident(['snapshot', 'k8s', 'prod-k8s', '--from-file', path.join(K8S, file)], env);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(message);
    expect(res.stdout).toBe('');
  });

  it('exits 2 on contradictory flags and 3 when the cluster does not answer', async () => {
    const both = await evident(['snapshot', 'k8s', 'prod-k8s', '--from-file', path.join(K8S, 'empty.json'), '-n', 'a', '-x', 'b'], env);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/cannot be combined/);
    const fileAndCluster = await evident(['snapshot', 'k8s', 'prod-k8s', '--from-file', path.join(K8S, 'empty.json'), '--kubeconfig', kube.kubeconfig()], env);
    expect(fileAndCluster.code).toBe(2);
    const gone = await startFakeKubeApi('k8s/empty.json');
    const kubeconfig = gone.kubeconfig();
    await gone.close();
    const down = await evident(['snapshot', 'k8s', 'prod-k8s', '--kubeconfig', kubeconfig], env);
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/cannot reach the Kubernetes API at http:\/\/127\.0\.0\.1:\d+ .*ECONNREFUSED/);
  });

  it('explains itself in --help, with examples', async () => {
    for (const kind of ['docker', 'k8s']) {
      const res = await evident(['snapshot', kind, '--help']);
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(/Examples:\n {2}evident snapshot /);
    }
  });
});
