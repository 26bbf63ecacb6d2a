import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evident, startServerProcess, type ServerProcess } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';
import { fakeAwsEnv, startFakeAws, type FakeAws } from '../helpers/fake-aws.js';

// `evident snapshot ecs|lambda|s3` end to end: the built CLI reads AWS CLI JSON (file or stdin) or talks to
// a fake AWS through the real SDK, and reports to a real server; the snapshots are read back.

const FIXTURES = path.resolve('test/fixtures/aws');
const ECR = '274425519734.dkr.ecr.eu-central-1.amazonaws.com';
const RUNNER = '9af401c4350b21e3f1df17d6ad808da43d9646e75b6da902cc7c492bcfb9c625';
const SHAS = '76c442c04283c4ca1af22d882750eb960cf53c0aa041bbdb2db9df2f2c1282be';
const DIFFER = '1a2b170f2e4b3c1d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5';
const IMAGE = 'd2c3f1a0b9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2';
const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');

describe('evident snapshot ecs|lambda|s3', () => {
  let server: ServerProcess;
  let fake: FakeAws;
  let env: Record<string, string>;
  const site = { 'site/index.html': '<h1>hi</h1>', 'site/css/a.css': 'body{}', 'config.json': '{}' };
  const run = async (args: string[], extra: Record<string, string> = {}) => evident(args, { ...env, ...extra });
  const snapshot = async (expr: string) => {
    const res = await run(['get', 'snapshot', expr, '--output', 'json-evident']);
    expect(res.code, res.stderr).toBe(0);
    return JSON.parse(res.stdout) as { index: number | null; artifacts: { name: string; fingerprint: string; instances: number }[] };
  };
  const running = async (expr: string) => (await snapshot(expr)).artifacts.map((a) => [a.name, a.fingerprint, a.instances]).sort();

  beforeAll(async () => {
    [server, fake] = await Promise.all([
      startServerProcess(['--data-dir', tempDir()]),
      startFakeAws({
        ecs: { prod: (JSON.parse(fs.readFileSync(path.join(FIXTURES, 'ecs/describe-tasks.json'), 'utf8')) as { tasks: Record<string, unknown>[] }).tasks },
        lambda: (JSON.parse(fs.readFileSync(path.join(FIXTURES, 'lambda/list-functions.json'), 'utf8')) as { Functions: Record<string, unknown>[] }).Functions,
        s3: { web: site },
      }),
    ]);
    env = { HOME: tempDir('evident-home-'), EVIDENT_HOST: server.url, EVIDENT_ORG: 'default', EVIDENT_API_TOKEN: server.token!, ...fakeAwsEnv() };
    for (const [name, type] of [['ecs-file', 'ecs'], ['ecs-live', 'ecs'], ['lambda-prod', 'lambda'], ['s3-prod', 's3']]) {
      const res = await run(['create', 'environment', name!, '--type', type!]);
      expect(res.code, res.stderr).toBe(0);
    }
  }, 60_000);
  afterAll(async () => {
    await Promise.all([server?.stop(), fake?.close()]);
  });

  it('ecs --from-file: describe-tasks JSON becomes the snapshot, skipped containers are named on stderr', async () => {
    const res = await run(['snapshot', 'ecs', 'ecs-file', '--from-file', path.join(FIXTURES, 'ecs/describe-tasks.json')]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^Snapshot ecs-file#1 created/);
    expect(res.stderr).toMatch(/warning: skipped container log-router \(public\.ecr\.aws\/aws-observability\/aws-for-fluent-bit:stable\) of task .*4444dddd: no image digest/);
    expect(await running('ecs-file')).toEqual([[`${ECR}/differ`, DIFFER, 1], [`${ECR}/runner:16d9990`, RUNNER, 3], [`${ECR}/shas:7c45272`, SHAS, 1]]);
  });

  it('ecs --from-file -: the aws ecs describe-tasks | evident pipeline, filtered by cluster', async () => {
    const pages = fs.readFileSync(path.join(FIXTURES, 'ecs/describe-tasks-pages.json'), 'utf8');
    const res = await evident(['snapshot', 'ecs', 'ecs-file', '--from-file', '-', '--clusters', 'prod', '--output', 'json'], env, pages);
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ created: true, index: 2 });
    expect(await running('ecs-file#2')).toEqual([[`${ECR}/runner:16d9990`, RUNNER, 2]]);
  });

  it('--dry-run prints the state and sends nothing', async () => {
    const res = await run(['snapshot', 'lambda', 'lambda-prod', '--from-file', path.join(FIXTURES, 'lambda/get-functions.json'), '--dry-run', '--output', 'json']);
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual({ artifacts: [
      { name: 'my-function', fingerprint: 'e6d4f6aa0cd8507a2ac11eb5ea9676769927ff427516bcc99a52a275669a0a09', instances: 1 },
      { name: 'payments', fingerprint: IMAGE, instances: 1 },
    ] });
    expect(await snapshot('lambda-prod')).toMatchObject({ index: null, artifacts: [] }); // still no snapshot at all
  });

  it('malformed input is a usage error (exit 2) naming the file and the JSON path', async () => {
    const bad = path.join(FIXTURES, 'ecs/describe-tasks-malformed.json');
    // Independent runs, started together: each CLI start costs a second or two.
    const [res, lambda, truncated, stdin, missing, both] = await Promise.all([
      run(['snapshot', 'ecs', 'ecs-file', '--from-file', bad]),
      run(['snapshot', 'lambda', 'lambda-prod', '--from-file', path.join(FIXTURES, 'lambda/list-functions-malformed.json')]),
      run(['snapshot', 'ecs', 'ecs-file', '--from-file', path.join(FIXTURES, 'ecs/describe-tasks-truncated.json')]),
      evident(['snapshot', 'lambda', 'lambda-prod', '--from-file', '-'], env, '{"Functions": [{"FunctionName": 7}]}'),
      run(['snapshot', 'ecs', 'ecs-file', '--from-file', path.join(FIXTURES, 'nope.json')]),
      run(['snapshot', 'ecs', 'ecs-file', '--from-file', bad, '--region', 'eu-west-1']),
    ]);
    expect([res.code, res.stderr.trim()]).toEqual([2, `Error: --from-file ${bad}: /tasks/1/containers/0/imageDigest must be a string`]);
    expect([lambda.code, lambda.stderr]).toEqual([2, expect.stringMatching(/list-functions-malformed\.json: \/Functions\/1\/CodeSha256 must be the base64 of a SHA-256/)]);
    expect([truncated.code, truncated.stderr]).toEqual([2, expect.stringMatching(/^Error: --from-file .*describe-tasks-truncated\.json: not valid JSON/)]);
    expect([stdin.code, stdin.stderr.trim()]).toEqual([2, 'Error: --from-file stdin: /Functions/0/FunctionName must be a function name']);
    expect([missing.code, missing.stderr]).toEqual([2, expect.stringMatching(/nope\.json: cannot read/)]);
    expect([both.code, both.stderr]).toEqual([2, expect.stringMatching(/--from-file reads a file: --region do not apply/)]);
    expect((await snapshot('ecs-file')).index).toBe(2); // nothing was reported
  }, 60_000);

  it('ecs and lambda through the AWS SDK (against a fake AWS)', async () => {
    const ecs = await run(['snapshot', 'ecs', 'ecs-live', '--endpoint', fake.url, '--services', 'runner,shas']);
    expect(ecs.code, ecs.stderr).toBe(0);
    expect(ecs.stderr).toMatch(/cluster prod: \d+ task\(s\)/);
    expect(await running('ecs-live')).toEqual([[`${ECR}/runner:16d9990`, RUNNER, 3], [`${ECR}/shas:7c45272`, SHAS, 1]]);
    const lambda = await run(['snapshot', 'lambda', 'lambda-prod', '--endpoint', fake.url, '--function-names', 'payments,my-function,gone']);
    expect(lambda.code, lambda.stderr).toBe(0);
    expect(lambda.stderr).toMatch(/warning: no function named gone/);
    expect(await running('lambda-prod')).toEqual([['my-function', 'b14d1c276fe13997afc15fe54f10ae42a2b780364fde2f20528a9451546663a1', 1], ['payments', IMAGE, 1]]);
  });

  it('s3: a prefix as a directory, one object as a file', async () => {
    const dir = await run(['snapshot', 's3', 's3-prod', '--bucket', 'web', '--prefix', 'site/', '--endpoint', fake.url]);
    expect(dir.code, dir.stderr).toBe(0);
    expect(dir.stderr).toMatch(/s3:\/\/web\/site: 2 object\(s\), fingerprinted as a directory/);
    // Kosli's directory digest of {index.html, css/a.css}: sha256(hex(sha256(name)) [+ hex(sha256(content))]...) in walk order.
    const expected = sha256([sha256('css'), sha256('a.css'), sha256('body{}'), sha256('index.html'), sha256('<h1>hi</h1>')].join(''));
    expect(await running('s3-prod')).toEqual([['s3://web/site', expected, 1]]);
    const file = await run(['snapshot', 's3', 's3-prod', '--bucket', 'web', '--prefix', 'config.json', '--name', 'config', '--endpoint', fake.url]);
    expect(file.code, file.stderr).toBe(0);
    expect(await running('s3-prod')).toEqual([['config', sha256('{}'), 1]]);
  });

  it('AWS errors are one clear line with the exit code of their kind', async () => {
    const without = (...names: string[]) => Object.fromEntries(Object.entries(env).filter(([k]) => !names.includes(k)));
    const [bucket, denied, noCreds, noRegion] = await Promise.all([
      run(['snapshot', 's3', 's3-prod', '--bucket', 'nope', '--endpoint', fake.url]),
      run(['snapshot', 's3', 's3-prod', '--bucket', 'web', '--endpoint', fake.url], fakeAwsEnv('DENIED')),
      evident(['snapshot', 'ecs', 'ecs-live', '--endpoint', fake.url], without('AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY')),
      evident(['snapshot', 'lambda', 'lambda-prod', '--endpoint', fake.url], without('AWS_REGION')),
    ]);
    expect([bucket.code, bucket.stderr.trim()]).toEqual([1, 'Error: S3 ListObjectsV2 of s3://nope/: not found (NoSuchBucket): The specified bucket does not exist']);
    expect([denied.code, denied.stderr]).toEqual([4, expect.stringMatching(/^Error: S3 ListObjectsV2 of s3:\/\/web\/: access denied by AWS \(AccessDenied\): Access Denied/)]);
    expect([noCreds.code, noCreds.stderr]).toEqual([4, expect.stringMatching(/no AWS credentials found/)]);
    expect([noRegion.code, noRegion.stderr]).toEqual([2, expect.stringMatching(/no AWS region: give --region or set AWS_REGION/)]);
    for (const r of [bucket, denied, noCreds, noRegion]) expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  }, 60_000);

  it('--help explains each command with examples', async () => {
    const cases = [['ecs', '| evident snapshot ecs aws-prod --from-file -'], ['lambda', 'aws lambda list-functions | evident snapshot lambda'], ['s3', '--bucket acme-static --prefix site/']];
    const results = await Promise.all(cases.map(([cmd]) => evident(['snapshot', cmd!, '--help'])));
    for (const [i, [, example]] of cases.entries()) {
      const res = results[i]!;
      expect(res.code).toBe(0);
      expect(res.stdout).toContain('Examples:');
      expect(res.stdout).toContain(example);
    }
  });
});
