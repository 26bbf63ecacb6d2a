import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evident, startServerProcess, type ServerProcess } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';

const RUNNER = '9af401c4350b21e3f1df17d6ad808da43d9646e75b6da902cc7c492bcfb9c625';
const SHAS = '76c442c04283c4ca1af22d882750eb960cf53c0aa041bbdb2db9df2f2c1282be';
const SHA = '16d9990ad23a40eecaf087abac2a58a2d2a4b3f4';

describe('environments, snapshots and artifact history (seed 002)', () => {
  let server: ServerProcess;
  let env: Record<string, string>;
  const dir = tempDir('evident-env-');
  const state = (artifacts: { name: string; fingerprint: string; instances: number }[]) => {
    const f = path.join(dir, `s${Math.random()}.json`);
    fs.writeFileSync(f, JSON.stringify({ artifacts }));
    return f;
  };
  beforeAll(async () => {
    server = await startServerProcess(['--data-dir', tempDir()]);
    env = { HOME: tempDir('evident-home-'), EVIDENT_HOST: server.url, EVIDENT_ORG: 'default', EVIDENT_API_TOKEN: server.token! };
    for (const args of [
      ['create', 'flow', 'runner'], ['begin', 'trail', SHA, '--flow', 'runner'],
      ['attest', 'artifact', '--fingerprint', RUNNER, '--name', 'runner', '--display-name', 'cyberdojo/runner:16d9990', '--commit', SHA, '--flow', 'runner', '--trail', SHA],
      ['create', 'environment', 'aws-prod', '--type', 'ecs'],
    ]) {
      const res = await evident(args, env);
      expect(res.code, `${args.join(' ')}: ${res.stderr}`).toBe(0);
    }
  }, 60_000);
  afterAll(async () => server?.stop());

  const report = async (artifacts: { name: string; fingerprint: string; instances: number }[]) =>
    JSON.parse((await evident(['snapshot', 'artifacts', 'aws-prod', '--file', state(artifacts), '--output', 'json'], env)).stdout);

  it('numbers deployment expectations per environment', async () => {
    const x = await evident(['expect', 'deployment', RUNNER, '--environment', 'aws-prod', '--output', 'json'], env);
    expect(x.code, x.stderr).toBe(0);
    expect(JSON.parse(x.stdout)).toMatchObject({ environment: 'aws-prod', number: 1, fingerprint: RUNNER });
    expect((await evident(['expect', 'deployment', 'nothex', '--environment', 'aws-prod'], env)).code).toBe(2);
    expect((await evident(['expect', 'deployment', RUNNER, '--environment', 'nowhere'], env)).code).toBe(1);
  });

  it('creates a snapshot only when the running set or the instance counts change', async () => {
    const runner = { name: 'runner:16d9990', fingerprint: RUNNER };
    const shas = { name: 'shas:7c45272', fingerprint: SHAS, instances: 1 };
    expect(await report([{ ...runner, instances: 3 }, shas])).toMatchObject({ created: true, index: 1 });
    expect(await report([shas, { ...runner, instances: 3 }])).toMatchObject({ created: false, index: 1 });
    expect(await report([{ ...runner, instances: 1 }, shas])).toMatchObject({ created: true, index: 2 });
    expect(await report([shas])).toMatchObject({ created: true, index: 3 });
  });

  it('addresses snapshots as ENV, ENV#N, ENV~N and ENV@{time}, with the fields scripts read', async () => {
    const get = async (expr: string) => JSON.parse((await evident(['get', 'snapshot', expr, '--output', 'json-evident'], env)).stdout);
    const first = await get('aws-prod#1');
    expect(first).toMatchObject({ environment: 'aws-prod', index: 1 });
    expect(first.artifacts.find((a: { fingerprint: string }) => a.fingerprint === RUNNER)).toMatchObject({ name: 'runner:16d9990', flow: 'runner', git_commit: SHA, instances: 3 });
    expect((await get('aws-prod')).index).toBe(3);
    expect((await get('aws-prod~1')).index).toBe(2);
    expect((await get(`aws-prod@{${new Date(Date.now() + 60_000).toISOString()}}`)).index).toBe(3);
    expect((await evident(['get', 'snapshot', 'aws-prod#9'], env)).code).toBe(1);
    expect((await evident(['get', 'snapshot', 'aws-prod@{someday}'], env)).code).toBe(2);
    const table = await evident(['get', 'snapshot', 'aws-prod#1'], env);
    expect(table.stdout).toMatch(/^COMMIT +ARTIFACT +FLOW +RUNNING_SINCE +REPLICAS +COMPLIANT\n16d9990 +Name: runner:16d9990 +runner +just now +3 +true\n +Fingerprint: 9af401c4/m);
    const list = JSON.parse((await evident(['list', 'snapshots', 'aws-prod', '--output', 'json-evident'], env)).stdout);
    expect(list.items.map((s: { index: number }) => s.index)).toEqual([3, 2, 1]);
  });

  it('diffs snapshots in the JSON shape Kosli users read, also across environments', async () => {
    const d = JSON.parse((await evident(['diff', 'snapshots', 'aws-prod#1', 'aws-prod#3', '--show-unchanged', '--output', 'json'], env)).stdout);
    expect(d.snappish1).toMatchObject({ snapshot_id: 'aws-prod#1', artifacts: [{ fingerprint: RUNNER, name: 'runner:16d9990', flow: 'runner', instance_count: 3 }] });
    expect(d.snappish2).toEqual({ snapshot_id: 'aws-prod#3', artifacts: [] });
    expect(d['not-changed'].artifacts.map((a: { fingerprint: string }) => a.fingerprint)).toEqual([SHAS]);
    const brief = JSON.parse((await evident(['diff', 'snapshots', 'aws-prod#1', 'aws-prod#3', '--output', 'json'], env)).stdout);
    expect(brief['not-changed']).toEqual({ artifacts: [] });
    expect(brief.snappish1).toEqual(d.snappish1);
    const scaled = JSON.parse((await evident(['diff', 'snapshots', 'aws-prod#1', 'aws-prod#2', '--output', 'json'], env)).stdout);
    expect(scaled.changed.artifacts).toEqual([expect.objectContaining({ fingerprint: RUNNER, instance_count_1: 3, instance_count_2: 1 })]);
    for (const key of ['name', 'fingerprint', 'flow', 'commit_url', 'instance_count', 'most_recent_timestamp']) expect(scaled.changed.artifacts[0]).toHaveProperty(key);
    const text = await evident(['diff', 'snapshots', 'aws-prod#1', 'aws-prod#2', '--show-unchanged'], env);
    expect(text.stdout).toMatch(/Instance count changed \(1\)\n  runner:16d9990  9af401c4350b  runner  3 -> 1 instances/);
    expect((await evident(['diff', 'snapshots', 'aws-prod#1', 'nowhere'], env)).code).toBe(1);
  });

  it('logs what started, scaled and exited, and tells the artifact\'s life in seed 002\'s words', async () => {
    const events = JSON.parse((await evident(['log', 'environment', 'aws-prod', '--output', 'json-evident'], env)).stdout);
    expect(events.filter((e: { fingerprint: string }) => e.fingerprint === RUNNER).map((e: { snapshot: number; type: string }) => `${e.snapshot}:${e.type}`)).toEqual(['1:started', '2:scaled', '3:exited']);
    // Kosli's --reverse: the same events the other way round.
    const reversed = JSON.parse((await evident(['log', 'environment', 'aws-prod', '--reverse', '--output', 'json-evident'], env)).stdout);
    expect(reversed).toEqual([...events].reverse());
    // Kosli's --interval/-i: two snapshot expressions, either end defaulting to NOW, in either order.
    const snaps = async (...args: string[]) => JSON.parse((await evident(['log', 'environment', 'aws-prod', ...args, '--output', 'json-evident'], env)).stdout)
      .map((e: { snapshot: number }) => e.snapshot);
    expect(await snaps('--interval', '2..3')).toEqual(events.filter((e: { snapshot: number }) => e.snapshot >= 2).map((e: { snapshot: number }) => e.snapshot));
    expect(await snaps('-i', '~1..')).toEqual(await snaps('--start', '2', '--end', 'NOW'));
    expect(await snaps('-i', 'NOW..2')).toEqual(await snaps('-i', '2..NOW'));
    expect(await snaps('-i', '1..1')).toEqual(events.filter((e: { snapshot: number }) => e.snapshot === 1).map((e: { snapshot: number }) => e.snapshot));
    const lone = await evident(['log', 'environment', 'aws-prod', '-i', '2'], env);
    expect(lone.code).toBe(2);
    expect(lone.stderr).toMatch(/--interval "2": give two snapshot expressions joined by "\.\."/);
    expect((await evident(['log', 'environment', 'aws-prod', '-i', '1..2', '--start', '1'], env)).stderr).toMatch(/not both/);
    const art = JSON.parse((await evident(['get', 'artifact', RUNNER, '--output', 'json'], env)).stdout);
    expect(art.history.map((h: { event: string }) => h.event)).toEqual([
      'Artifact created',
      'Deployment #1 to aws-prod environment',
      'Started running in aws-prod#1 environment',
      'Scaled down from 3 to 1 in aws-prod#2 environment',
      'No longer running in aws-prod#3 environment',
    ]);
    expect(art).toMatchObject({ running: [], exited: ['aws-prod#3'] });
    const shas = JSON.parse((await evident(['get', 'snapshot', 'aws-prod', '--output', 'json-evident'], env)).stdout).artifacts[0];
    expect(shas).toMatchObject({ fingerprint: SHAS, flow: null, instances: 1 });
  });

  it('refuses bad reports and logical environments with clear errors, writing nothing', async () => {
    const bad = await evident(['snapshot', 'artifacts', 'aws-prod', '--file', state([{ name: 'x', fingerprint: 'nope', instances: 0 }])], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/artifacts\/0\/(fingerprint|instances)/);
    expect((await evident(['snapshot', 'artifacts', 'nowhere', '--file', state([])], env)).code).toBe(1);
    expect((await evident(['create', 'environment', 'all', '--type', 'logical', '--included-environments', 'aws-prod'], env)).code).toBe(0);
    const toLogical = await evident(['snapshot', 'artifacts', 'all', '--file', state([])], env);
    expect(toLogical.code).toBe(2);
    expect(toLogical.stderr).toMatch(/logical environment/);
    const union = JSON.parse((await evident(['get', 'snapshot', 'all', '--output', 'json-evident'], env)).stdout);
    expect(union.artifacts.map((a: { fingerprint: string }) => a.fingerprint)).toEqual([SHAS]);
    expect((await evident(['create', 'environment', 'x', '--type', 'mainframe'], env)).code).toBe(2);
  });

  it('reports files and directories of a server, by path or by a paths spec', async () => {
    const app = path.join(dir, 'app');
    fs.mkdirSync(path.join(app, 'logs'), { recursive: true });
    fs.writeFileSync(path.join(app, 'sample.txt'), 'some content.');
    fs.writeFileSync(path.join(app, 'logs', 'x.log'), 'noise');
    const jar = path.join(dir, 'app.jar');
    fs.writeFileSync(jar, 'hello world!');
    expect((await evident(['create', 'environment', 'host', '--type', 'server'], env)).code).toBe(0);
    const spec = path.join(dir, 'paths.yml');
    fs.writeFileSync(spec, 'version: 1\nartifacts:\n  app:\n    path: app\n    exclude: [logs]\n  jar:\n    path: app.jar\n');
    const res = await evident(['snapshot', 'paths', 'host', '--paths-file', spec], env);
    expect(res.code, res.stderr).toBe(0);
    const snap = JSON.parse((await evident(['get', 'snapshot', 'host', '--output', 'json-evident'], env)).stdout);
    // Kosli vectors: {sample.txt: "some content."} and the file "hello world!"
    expect(snap.artifacts.map((a: { name: string; fingerprint: string }) => [a.name, a.fingerprint]).sort()).toEqual([
      ['app', '388ab80164bbd9d96f132b046b8d09354f68b79a3668da7b507625cd1230dddf'],
      ['jar', '7509e5bda0c762d2bac7f90d758b5b2263fa01ccbc542ab5e3df163be08e6ca9'],
    ]);
    const same = await evident(['snapshot', 'server', 'host', '--path', jar, '--output', 'json'], env);
    expect(JSON.parse(same.stdout)).toMatchObject({ created: true, index: 2 });
    expect((await evident(['snapshot', 'server', 'host', '--path', path.join(dir, 'missing')], env)).code).toBe(2);
    fs.writeFileSync(spec, 'version: 2\n');
    expect((await evident(['snapshot', 'paths', 'host', '--paths-file', spec], env)).stderr).toMatch(/expected \{version: 1/);
  });

  it('shows expected versus running (--expected) and archives an environment', async () => {
    expect((await evident(['create', 'environment', 'staging', '--type', 'k8s'], env)).code).toBe(0);
    expect((await evident(['expect', 'deployment', RUNNER, '--environment', 'staging'], env)).code).toBe(0);
    await evident(['snapshot', 'artifacts', 'staging', '--file', state([{ name: 'shas', fingerprint: SHAS, instances: 1 }])], env);
    const drift = await evident(['get', 'environment', 'staging', '--expected', '--output', 'json-evident'], env);
    expect(drift.code, drift.stderr).toBe(0);
    expect(JSON.parse(drift.stdout)).toMatchObject({
      environment: 'staging', snapshot: 1, in_sync: false,
      items: [{ state: 'not-running', fingerprint: RUNNER, flow: 'runner', instances: 0, expectation: { number: 1 } }, { state: 'never-expected', fingerprint: SHAS }],
    });
    const table = await evident(['get', 'environment', 'staging', '--expected'], env);
    expect(table.stdout).toMatch(/EXPECTED, NOT RUNNING\s+runner/);
    expect(table.stdout).toMatch(/RUNNING, NEVER EXPECTED\s+shas/);
    expect(table.stderr).toMatch(/staging: drift \(2 artifact\(s\)\)/);

    const archived = await evident(['archive', 'environment', 'staging', '--output', 'json'], env);
    expect(archived.code, archived.stderr).toBe(0);
    expect(JSON.parse(archived.stdout).archived_at).toMatch(/^\d{4}-/);
    const names = async (...extra: string[]) => JSON.parse((await evident(['list', 'environments', '--output', 'json-evident', ...extra], env)).stdout).map((e: { name: string }) => e.name);
    expect(await names()).not.toContain('staging');
    expect(await names('--include-archived')).toContain('staging');
    const refused = await evident(['snapshot', 'artifacts', 'staging', '--file', state([])], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/archived/);
    expect((await evident(['archive', 'environment', 'nowhere'], env)).code).toBe(1);
  }, 120_000);
});
