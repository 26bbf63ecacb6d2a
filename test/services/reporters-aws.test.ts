import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EvidentError } from '../../src/core/index.js';
import {
  collectEcs, collectLambda, collectS3, compileNameFilter, decodeCodeSha256, fingerprintDir, parseEcsTasks, parseLambdaFunctions, selectS3Objects,
} from '../../src/services/index.js';
import { fingerprintFileList } from '../../src/services/fingerprint/index.js';
import { tempDir } from '../helpers/engines.js';
import { fakeAwsEnv, startFakeAws, type FakeAws } from '../helpers/fake-aws.js';

const FIXTURES = path.resolve('test/fixtures/aws');
const fixture = (name: string): unknown => JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8'));
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

const ECR = '274425519734.dkr.ecr.eu-central-1.amazonaws.com';
const RUNNER = '9af401c4350b21e3f1df17d6ad808da43d9646e75b6da902cc7c492bcfb9c625';
const SHAS = '76c442c04283c4ca1af22d882750eb960cf53c0aa041bbdb2db9df2f2c1282be';
const DIFFER = '1a2b170f2e4b3c1d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5';
const REPORT = '0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0';
const IMAGE = 'd2c3f1a0b9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2';

/** Runs `fn` and returns the EvidentError it throws (failing the test if it throws anything else). */
function evidentError(fn: () => unknown): EvidentError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(EvidentError);
    return err as EvidentError;
  }
  throw new Error('expected an EvidentError, nothing was thrown');
}

async function rejection(p: Promise<unknown>): Promise<EvidentError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(EvidentError);
  return err as EvidentError;
}

const isValidReport = (artifacts: { name: string; fingerprint: string; instances: number }[]) => {
  const fps = artifacts.map((a) => a.fingerprint);
  return new Set(fps).size === fps.length && artifacts.every((a) => /^[0-9a-f]{64}$/.test(a.fingerprint) && Number.isInteger(a.instances) && a.instances >= 1 && a.name !== '');
};

describe('ECS: aws ecs describe-tasks JSON', () => {
  it('reports the running containers of RUNNING tasks, one entry per image digest', () => {
    const state = parseEcsTasks(fixture('ecs/describe-tasks.json'), 'tasks.json');
    expect(state.artifacts).toEqual([
      { name: `${ECR}/differ`, fingerprint: DIFFER, instances: 1 }, // pinned by digest in `image`, no imageDigest
      { name: `${ECR}/runner:16d9990`, fingerprint: RUNNER, instances: 3 }, // three tasks; the STOPPED and PENDING ones do not count
      { name: `${ECR}/shas:7c45272`, fingerprint: SHAS, instances: 1 },
    ]);
    expect(state.runningTasks).toBe(5);
    // The fluent-bit sidecar has no imageDigest: skipped and said so; the exited init container is not running.
    expect(state.skipped).toEqual([expect.objectContaining({ container: 'log-router', image: 'public.ecr.aws/aws-observability/aws-for-fluent-bit:stable', reason: expect.stringMatching(/no image digest/) })]);
    expect(state.artifacts.map((a) => a.fingerprint)).not.toContain(REPORT);
  });

  it('accepts a list of documents (pages), an empty document, and filters by cluster and service', () => {
    const pages = fixture('ecs/describe-tasks-pages.json');
    expect(parseEcsTasks(pages).artifacts).toEqual([
      { name: `${ECR}/report:3f2a1b0`, fingerprint: REPORT, instances: 1 },
      { name: `${ECR}/runner:16d9990`, fingerprint: RUNNER, instances: 2 },
    ]);
    expect(parseEcsTasks(pages, 'x', { cluster: (c) => c === 'batch' }).artifacts.map((a) => a.fingerprint)).toEqual([REPORT]);
    // A standalone task (group family:...) belongs to no service: a service filter leaves it out.
    expect(parseEcsTasks(pages, 'x', { service: () => true }).artifacts.map((a) => a.fingerprint)).toEqual([RUNNER]);
    expect(parseEcsTasks(fixture('ecs/describe-tasks-empty.json'))).toEqual({ artifacts: [], skipped: [], runningTasks: 0 });
    expect(parseEcsTasks({ tasks: [] }).artifacts).toEqual([]);
  });

  it('names the source and the JSON path of malformed input', () => {
    expect(evidentError(() => parseEcsTasks(fixture('ecs/describe-tasks-malformed.json'), '--from-file bad.json')).message)
      .toBe('--from-file bad.json: /tasks/1/containers/0/imageDigest must be a string');
    expect(evidentError(() => parseEcsTasks(fixture('ecs/list-tasks-not-describe.json'), 'f')).message).toMatch(/^f: \/ must be the output of aws ecs describe-tasks/);
    expect(evidentError(() => parseEcsTasks([{ tasks: [{ lastStatus: 'RUNNING' }] }], 'f')).message).toBe('f: /0/tasks/0/containers must be a list of containers');
    expect(evidentError(() => parseEcsTasks({ tasks: [{ containers: [] }] }, 'f')).message).toBe('f: /tasks/0/lastStatus is missing (a string is required)');
    expect(evidentError(() => parseEcsTasks({ tasks: [{ lastStatus: 'RUNNING', containers: [{ imageDigest: `sha256:${RUNNER}` }] }] }, 'f')).code).toBe('INVALID_ARGUMENT');
    expect(evidentError(() => parseEcsTasks(null, 'f')).code).toBe('INVALID_ARGUMENT');
  });

  it('never throws anything but an EvidentError, whatever the JSON', () => {
    fc.assert(fc.property(fc.jsonValue(), (doc) => {
      try {
        expect(isValidReport(parseEcsTasks(doc).artifacts)).toBe(true);
      } catch (err) {
        expect(err).toBeInstanceOf(EvidentError);
      }
    }), { numRuns: 500 });
  });

  it('counts every running container with a digest exactly once, one entry per fingerprint', () => {
    const digest = fc.constantFrom(RUNNER, SHAS, DIFFER, REPORT);
    const container = fc.record({ image: fc.constantFrom('a/x:1', 'a/x:2', 'b/y'), imageDigest: fc.option(digest.map((d) => `sha256:${d}`), { nil: undefined }), lastStatus: fc.constantFrom('RUNNING', 'STOPPED') });
    const task = fc.record({ lastStatus: fc.constantFrom('RUNNING', 'PENDING', 'STOPPED'), containers: fc.array(container, { maxLength: 4 }) });
    fc.assert(fc.property(fc.array(task, { maxLength: 12 }), (tasks) => {
      const state = parseEcsTasks(JSON.parse(JSON.stringify({ tasks, failures: [] })));
      expect(isValidReport(state.artifacts)).toBe(true);
      const running = tasks.filter((t) => t.lastStatus === 'RUNNING').flatMap((t) => t.containers).filter((c) => c.lastStatus === 'RUNNING');
      expect(state.artifacts.reduce((n, a) => n + a.instances, 0)).toBe(running.filter((c) => c.imageDigest).length);
      expect(state.skipped.length).toBe(running.filter((c) => !c.imageDigest).length);
    }));
  });
});

describe('Lambda: aws lambda list-functions / get-function JSON', () => {
  it('decodes Zip CodeSha256 from base64 and takes an Image CodeSha256 as the image digest (as Kosli)', () => {
    const state = parseLambdaFunctions(fixture('lambda/list-functions.json'));
    expect(state.artifacts).toEqual([
      // helloworld and helloworld-eu deploy the same zip: one fingerprint, two instances.
      { name: 'helloworld', fingerprint: '7411bd9bc4867669448f0fc961796186f0ab02fe53c6f5ec6cbfd132bd1f4ff2', instances: 2 },
      { name: 'my-function', fingerprint: 'b14d1c276fe13997afc15fe54f10ae42a2b780364fde2f20528a9451546663a1', instances: 1 },
      { name: 'my-python-function', fingerprint: '650ba40aac6d92a160c85d9c538d40be3f7d4ca43f84d8a13ed0ed45c734f262', instances: 1 },
      { name: 'payments', fingerprint: IMAGE, instances: 1 },
    ]);
    expect(state.functions).toEqual(['helloworld', 'helloworld-eu', 'my-function', 'my-python-function', 'payments']);
  });

  it('reads get-function documents, a list of them, and only $LATEST', () => {
    expect(parseLambdaFunctions(fixture('lambda/get-function-zip.json')).artifacts).toEqual([{ name: 'my-function', fingerprint: 'e6d4f6aa0cd8507a2ac11eb5ea9676769927ff427516bcc99a52a275669a0a09', instances: 1 }]);
    expect(parseLambdaFunctions(fixture('lambda/get-functions.json')).artifacts.map((a) => [a.name, a.fingerprint])).toEqual([
      ['my-function', 'e6d4f6aa0cd8507a2ac11eb5ea9676769927ff427516bcc99a52a275669a0a09'], ['payments', IMAGE],
    ]);
    // Without CodeSha256, the digest that Code.ResolvedImageUri pins.
    expect(parseLambdaFunctions(fixture('lambda/get-function-image-resolved-only.json')).artifacts).toEqual([{ name: 'payments', fingerprint: IMAGE, instances: 1 }]);
    const versions = parseLambdaFunctions(fixture('lambda/list-functions-all-versions.json'));
    expect(versions.artifacts).toEqual([{ name: 'my-function', fingerprint: 'b14d1c276fe13997afc15fe54f10ae42a2b780364fde2f20528a9451546663a1', instances: 1 }]);
    expect(versions.skipped).toEqual([{ function: 'my-function:1', reason: 'only $LATEST is reported' }]);
    expect(parseLambdaFunctions(fixture('lambda/list-functions-empty.json'))).toEqual({ artifacts: [], skipped: [], functions: [] });
    expect(parseLambdaFunctions(fixture('lambda/list-functions.json'), 'f', (n) => n.startsWith('my-')).functions).toEqual(['my-function', 'my-python-function']);
  });

  it('names the source and the JSON path of malformed input', () => {
    expect(evidentError(() => parseLambdaFunctions(fixture('lambda/list-functions-malformed.json'), '--from-file fns.json')).message)
      .toBe('--from-file fns.json: /Functions/1/CodeSha256 must be the base64 of a SHA-256 (44 characters)');
    expect(evidentError(() => parseLambdaFunctions(fixture('lambda/conflicting-documents.json'), 'f')).message).toBe('f: /1/Configuration describes function my-function with other code than /0/Functions/0 does');
    expect(evidentError(() => parseLambdaFunctions({ Functions: [{ FunctionName: 'x', PackageType: 'Image', CodeSha256: 'abc' }] }, 'f')).message).toMatch(/\/Functions\/0\/CodeSha256 must be the 64-hex image digest/);
    expect(evidentError(() => parseLambdaFunctions({ Functions: [{ FunctionName: 'x', PackageType: 'Layer' }] }, 'f')).message).toBe('f: /Functions/0/PackageType must be "Zip" or "Image"');
    expect(evidentError(() => parseLambdaFunctions({ Functions: {} }, 'f')).message).toBe('f: /Functions must be a list of functions');
    expect(evidentError(() => parseLambdaFunctions({ tasks: [] }, 'f')).message).toMatch(/must be the output of aws lambda list-functions/);
  });

  it('decodes base64 CodeSha256 vectors, and nothing that is not one', () => {
    expect(decodeCodeSha256('dQnlvaDHYtK6x/kNdYtbImP6Acy8VCq1498WO+CObKk=')).toBe('7509e5bda0c762d2bac7f90d758b5b2263fa01ccbc542ab5e3df163be08e6ca9'); // "hello world!"
    expect(decodeCodeSha256('47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'); // ""
    for (const bad of ['', 'abc=', '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU', '47DEQpj8HBSa-_TImW+5JCeuQeRkm5NMpJWZG3hSuFU=', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']) {
      expect(decodeCodeSha256(bad), bad).toBeUndefined();
    }
    fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
      expect(decodeCodeSha256(Buffer.from(bytes).toString('base64'))).toBe(Buffer.from(bytes).toString('hex'));
    }));
  });

  it('never throws anything but an EvidentError, and never reports a fingerprint twice', () => {
    fc.assert(fc.property(fc.jsonValue(), (doc) => {
      try {
        expect(isValidReport(parseLambdaFunctions(doc).artifacts)).toBe(true);
      } catch (err) {
        expect(err).toBeInstanceOf(EvidentError);
      }
    }), { numRuns: 500 });
    const fn = fc.record({ FunctionName: fc.constantFrom('a', 'b', 'c', 'd'), CodeSha256: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('base64')) });
    fc.assert(fc.property(fc.uniqueArray(fn, { selector: (f) => f.FunctionName }), (Functions) => {
      const state = parseLambdaFunctions({ Functions });
      expect(isValidReport(state.artifacts)).toBe(true);
      expect(state.artifacts.reduce((n, a) => n + a.instances, 0)).toBe(Functions.length);
    }));
  });
});

describe("Kosli's include/exclude name filters", () => {
  const flags: [string, string, string, string] = ['--a', '--a-regex', '--x', '--x-regex'];
  it('include by name or regex, or exclude by name or regex, never both', () => {
    expect(compileNameFilter({}, flags)).toMatchObject({ active: false, onlyNames: undefined });
    const names = compileNameFilter({ include: ['prod'] }, flags);
    expect([names.matches('prod'), names.matches('prod-2'), names.onlyNames]).toEqual([true, false, ['prod']]);
    const re = compileNameFilter({ include: ['a'], includeRegex: ['^prod-'] }, flags);
    expect([re.matches('a'), re.matches('prod-2'), re.matches('x-prod-'), re.onlyNames]).toEqual([true, true, false, undefined]);
    const ex = compileNameFilter({ exclude: ['sandbox'], excludeRegex: ['-test$'] }, flags);
    expect(['prod', 'sandbox', 'api-test'].map(ex.matches)).toEqual([true, false, false]);
    expect(evidentError(() => compileNameFilter({ include: ['a'], excludeRegex: ['b'] }, flags)).message).toMatch(/--a\/--a-regex cannot be combined with --x\/--x-regex/);
    expect(evidentError(() => compileNameFilter({ excludeRegex: ['('] }, flags)).message).toMatch(/^--x-regex: "\(" is not a valid regular expression/);
  });
});

describe('S3: which objects make the artifact', () => {
  const listed = (...keys: string[]) => keys.map((key) => ({ key, size: 1 }));
  it('takes the directory under a prefix, never its look-alike siblings, or the one object the prefix names', () => {
    const keys = listed('site/index.html', 'site/css/a.css', 'site-old/index.html', 'site', 'site/');
    expect(evidentError(() => selectS3Objects('b', 'site', keys)).message).toMatch(/s3:\/\/b\/site is both an object and the prefix of 2 other object\(s\): give --prefix site\//);
    const dir = selectS3Objects('b', 'site/', keys);
    expect(dir).toMatchObject({ kind: 'dir', name: 's3://b/site' });
    expect(dir.objects.map((o) => o.path)).toEqual(['index.html', 'css/a.css']);
    expect(selectS3Objects('b', 'site', listed('site', 'site-old/x'))).toEqual({ kind: 'file', name: 's3://b/site', objects: [{ key: 'site', path: '', size: 1 }] });
    expect(selectS3Objects('b', '', listed('a', 'b/c')).name).toBe('s3://b');
    // One object left is fingerprinted as that file (Kosli's SingleVirtualFile).
    expect(selectS3Objects('b', 'site/', listed('site/index.html', 'site/'))).toMatchObject({ kind: 'file', name: 's3://b/site/index.html' });
    expect(evidentError(() => selectS3Objects('b', 'nothing/', listed('site/x'))).code).toBe('NOT_FOUND');
  });

  it("filters keys as Kosli does: literal prefixes or regular expressions, include or exclude", () => {
    const keys = listed('app/a.js', 'app/a.js.map', 'docs/x.md', 'logs/1.txt');
    const paths = (filter: object) => selectS3Objects('b', '', keys, filter).objects.map((o) => o.key);
    expect(paths({ include: ['app/', '/docs'] })).toEqual(['app/a.js', 'app/a.js.map', 'docs/x.md']);
    expect(paths({ exclude: ['logs'], excludeRegex: ['\\.map$'] })).toEqual(['app/a.js', 'docs/x.md']);
    expect(paths({ includeRegex: ['\\.(js|md)$'] })).toEqual(['app/a.js', 'docs/x.md']);
    expect(evidentError(() => paths({ include: ['a'], exclude: ['b'] })).code).toBe('INVALID_ARGUMENT');
    expect(evidentError(() => paths({ includeRegex: ['['] })).message).toMatch(/^--include-regex/);
  });

  it('refuses keys that cannot form one directory tree, naming every key', () => {
    const err = evidentError(() => selectS3Objects('b', '', listed('a//b', 'a/b', 'x/../y', 'f', 'f/g', 'ok')));
    expect(err.message).toMatch(/^s3:\/\/b\/ cannot be fingerprinted as one directory \(3 problem\(s\)\):/);
    expect(err.message).toContain('object keys "a//b", "a/b" are the same path "a/b"');
    expect(err.message).toContain('object key "x/../y" contains a ".." segment');
    expect(err.message).toContain('object key "f" is a file where object key "f/g" needs a directory');
    // Leading slashes and "." segments fold as a local copy's paths would.
    expect(selectS3Objects('b', '', listed('/a', './b/c')).objects.map((o) => o.path)).toEqual(['a', 'b/c']);
  });

  it('places any keys S3 can hold in one tree, or refuses them with an EvidentError', () => {
    const key = fc.array(fc.constantFrom('a', 'b', '', '.', '..', 'é', 'x.txt'), { minLength: 1, maxLength: 4 }).map((p) => p.join('/'));
    fc.assert(fc.property(fc.uniqueArray(key, { maxLength: 8 }), fc.constantFrom('', 'a', 'a/'), (keys, prefix) => {
      let s;
      try {
        s = selectS3Objects('b', prefix, listed(...keys));
      } catch (err) {
        expect(err).toBeInstanceOf(EvidentError);
        return;
      }
      // What was accepted must make a tree: no path twice, and the directory fingerprint never refuses it.
      const paths = s.objects.map((o) => o.path);
      expect(new Set(paths).size).toBe(paths.length);
      if (s.kind === 'dir') expect(fingerprintFileList(s.objects.map((o) => ({ path: o.path, sha256: sha256(o.key) })))).toMatch(/^[0-9a-f]{64}$/);
    }), { numRuns: 300 });
  });
});

describe('directory fingerprints from (path, content digest) pairs', () => {
  const S = 'some content. And some more.';
  const files = (tree: Record<string, string>) => Object.entries(tree).map(([p, content]) => ({ path: p, sha256: sha256(content) }));
  it('match the Kosli vectors (test/vectors/kosli-fingerprints.md)', () => {
    expect(fingerprintFileList([])).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(fingerprintFileList(files({ 'sample.txt': 'some content.' }))).toBe('388ab80164bbd9d96f132b046b8d09354f68b79a3668da7b507625cd1230dddf');
    const nested = { 'nested-dir/file2': 'content2', 'sample.yaml': S, 'nested-dir/file1': 'content1' };
    expect(fingerprintFileList(files(nested))).toBe('5d3c17dae9e208bbb92ee04ff8342abf77cb0959764def4af3ccfe9a2109d4a7');
    expect(fingerprintFileList(files({ ...nested, 'logs/file1': 'content1' }), { exclude: ['logs', 'nested-dir/file1'] })).toBe('2acbc9efc1f86f89086a9539244946839599b3639da7f4959744c20234cb4f40');
    const ignore = 'logs\n*/logs';
    expect(fingerprintFileList(files({ ...nested, '.kosli_ignore': ignore }), { ignoreFiles: { '.kosli_ignore': ignore } })).toBe('4048004ce6f91e8ce27c35e5e857948a46750567cf7c873ee32b120f4318363c');
    expect(evidentError(() => fingerprintFileList(files({ a: '1', 'a/b': '2' }))).message).toMatch(/"a" is both a file and a directory|cannot fingerprint/);
  });

  it('equal fingerprintDir of the same tree on disk', async () => {
    const name = fc.constantFrom('a', 'b', 'a.txt', 'B', 'z-z', 'é', '.kosli_ignore');
    const treePaths = fc.uniqueArray(fc.array(name, { minLength: 1, maxLength: 3 }).map((p) => p.join('/')), { maxLength: 8 })
      .filter((ps) => !ps.some((p) => ps.some((q) => q.startsWith(p + '/'))));
    await fc.assert(fc.asyncProperty(treePaths, fc.array(fc.string(), { minLength: 8, maxLength: 8 }), async (paths, contents) => {
      const root = tempDir('evident-filelist-');
      const pairs = paths.map((p, i) => {
        fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
        fs.writeFileSync(path.join(root, p), contents[i]!);
        return { path: p, sha256: sha256(contents[i]!) };
      });
      const ignoreFiles = paths.includes('.kosli_ignore') ? { '.kosli_ignore': contents[paths.indexOf('.kosli_ignore')]! } : {};
      let expected: string | EvidentError;
      try {
        expected = await fingerprintDir(root);
      } catch (err) {
        expected = err as EvidentError;
      }
      if (typeof expected === 'string') expect(fingerprintFileList(pairs, { ignoreFiles })).toBe(expected);
      else expect(() => fingerprintFileList(pairs, { ignoreFiles })).toThrow(EvidentError);
    }), { numRuns: 40 });
  });
});

describe('the live reporters, against a fake AWS', () => {
  let fake: FakeAws;
  const saved = { ...process.env };
  const tasks = (fixture('ecs/describe-tasks.json') as { tasks: Record<string, unknown>[] }).tasks;
  const batch = ((fixture('ecs/describe-tasks-pages.json') as { tasks: Record<string, unknown>[] }[])[1]!).tasks;
  const site = { 'site/index.html': '<h1>hi</h1>', 'site/css/a.css': 'body{}', 'site/logs/x.log': 'noise', 'site/.kosli_ignore': 'logs\n', 'site-old/index.html': 'old', 'config.json': '{}' };
  beforeAll(async () => {
    fake = await startFakeAws({
      ecs: { prod: tasks, batch, empty: [] },
      lambda: (fixture('lambda/list-functions.json') as { Functions: Record<string, unknown>[] }).Functions,
      s3: { web: site },
    });
    Object.assign(process.env, fakeAwsEnv());
  });
  afterEach(() => {
    fake.calls.length = 0;
    process.env.AWS_ACCESS_KEY_ID = fakeAwsEnv().AWS_ACCESS_KEY_ID;
  });
  afterAll(async () => {
    process.env = saved;
    await fake?.close();
  });

  it('ECS: lists every cluster (paginated), their RUNNING tasks and describes them', async () => {
    const state = await collectEcs({ endpoint: fake.url });
    expect(state.clusters).toEqual(['batch', 'empty', 'prod']);
    expect(state.artifacts).toEqual([
      { name: `${ECR}/differ`, fingerprint: DIFFER, instances: 1 },
      { name: `${ECR}/report:3f2a1b0`, fingerprint: REPORT, instances: 1 },
      { name: `${ECR}/runner:16d9990`, fingerprint: RUNNER, instances: 3 },
      { name: `${ECR}/shas:7c45272`, fingerprint: SHAS, instances: 1 },
    ]);
    expect(fake.calls.filter((c) => c === 'ECS.ListClusters')).toHaveLength(2); // 3 clusters, 2 a page
    expect(fake.calls).toContain('ECS.ListTasks prod');
  });

  it('ECS: named clusters and services are asked for directly; regexes filter by the task group', async () => {
    const named = await collectEcs({ endpoint: fake.url, clusters: { include: ['prod'] }, services: { include: ['shas'] } });
    expect(named.artifacts.map((a) => a.fingerprint)).toEqual([SHAS]);
    expect(fake.calls).not.toContain('ECS.ListClusters');
    expect(fake.calls).toContain('ECS.ListTasks prod shas');
    const regex = await collectEcs({ endpoint: fake.url, clusters: { excludeRegex: ['^empty$'] }, services: { excludeRegex: ['^runner$'] } });
    expect(regex.clusters).toEqual(['batch', 'prod']);
    expect(regex.artifacts.map((a) => a.fingerprint)).toEqual([DIFFER, SHAS]); // the standalone task has no service
  });

  it('ECS: describes tasks 100 at a time', async () => {
    const many = Array.from({ length: 150 }, (_, i) => ({ ...tasks[0]!, taskArn: `arn:aws:ecs:eu-central-1:274425519734:task/big/${i}` }));
    const big = await startFakeAws({ ecs: { big: many }, pageSize: 100 });
    try {
      const state = await collectEcs({ endpoint: big.url, clusters: { include: ['big'] } });
      expect(state.artifacts).toEqual([{ name: `${ECR}/runner:16d9990`, fingerprint: RUNNER, instances: 150 }]);
      expect(big.calls.filter((c) => c.startsWith('ECS.DescribeTasks'))).toHaveLength(2);
    } finally {
      await big.close();
    }
  });

  it('ECS: an unknown cluster is NOT_FOUND, a denied principal FORBIDDEN', async () => {
    expect((await rejection(collectEcs({ endpoint: fake.url, clusters: { include: ['nope'] } }))).message).toMatch(/^ECS ListTasks in cluster nope: not found \(ClusterNotFoundException\): Cluster not found\./);
    process.env.AWS_ACCESS_KEY_ID = 'DENIED';
    const denied = await rejection(collectEcs({ endpoint: fake.url }));
    expect([denied.code, denied.message]).toEqual(['FORBIDDEN', expect.stringMatching(/^ECS ListClusters: access denied by AWS \(AccessDeniedException\)/)]);
  });

  it('Lambda: lists every function (paginated) and filters by name', async () => {
    const all = await collectLambda({ endpoint: fake.url });
    expect(all.artifacts.map((a) => [a.name, a.instances])).toEqual([['helloworld', 2], ['my-function', 1], ['my-python-function', 1], ['payments', 1]]);
    expect(fake.calls.filter((c) => c === 'Lambda.ListFunctions')).toHaveLength(3); // 5 functions, 2 a page
    const some = await collectLambda({ endpoint: fake.url, functions: { include: ['payments', 'gone'] } });
    expect([some.artifacts, some.missing]).toEqual([[{ name: 'payments', fingerprint: IMAGE, instances: 1 }], ['gone']]);
    expect((await collectLambda({ endpoint: fake.url, functions: { excludeRegex: ['^my-', 'hello'] } })).functions).toEqual(['payments']);
    process.env.AWS_ACCESS_KEY_ID = 'DENIED';
    expect((await rejection(collectLambda({ endpoint: fake.url }))).code).toBe('FORBIDDEN');
  });

  it('S3: a prefix is fingerprinted as the same directory on disk would be; ignored objects are not downloaded', async () => {
    const local = tempDir('evident-s3-');
    for (const [key, content] of Object.entries(site)) {
      if (!key.startsWith('site/')) continue;
      fs.mkdirSync(path.dirname(path.join(local, key.slice(5))), { recursive: true });
      fs.writeFileSync(path.join(local, key.slice(5)), content);
    }
    const report = await collectS3({ bucket: 'web', prefix: 'site/', endpoint: fake.url, pathStyle: true, concurrency: 2 });
    expect(report).toEqual({ artifact: { name: 's3://web/site', fingerprint: await fingerprintDir(local), instances: 1 }, kind: 'dir', objects: 3, excluded: ['logs'] });
    expect(fake.calls).not.toContain('S3.GetObject web/site/logs/x.log');
    expect(fake.calls.filter((c) => c.startsWith('S3.ListObjectsV2'))).toHaveLength(2); // 4 keys under "site/", 2 a page
  });

  it('S3: one object is a file; the whole bucket is a directory; --name renames', async () => {
    expect((await collectS3({ bucket: 'web', prefix: 'config.json', endpoint: fake.url, pathStyle: true })).artifact).toEqual({ name: 's3://web/config.json', fingerprint: sha256('{}'), instances: 1 });
    const whole = await collectS3({ bucket: 'web', endpoint: fake.url, pathStyle: true, name: 'website', exclude: ['site/.kosli_ignore'] });
    const expected = fingerprintFileList(Object.entries(site).filter(([k]) => k !== 'site/.kosli_ignore').map(([k, v]) => ({ path: k, sha256: sha256(v) })));
    expect(whole).toMatchObject({ artifact: { name: 'website', fingerprint: expected, instances: 1 }, kind: 'dir', objects: 5 });
  });

  it('S3: an unknown bucket is NOT_FOUND, a denied principal FORBIDDEN', async () => {
    const missing = await rejection(collectS3({ bucket: 'nope', endpoint: fake.url, pathStyle: true }));
    expect([missing.code, missing.message]).toEqual(['NOT_FOUND', 'S3 ListObjectsV2 of s3://nope/: not found (NoSuchBucket): The specified bucket does not exist']);
    process.env.AWS_ACCESS_KEY_ID = 'DENIED';
    expect((await rejection(collectS3({ bucket: 'web', endpoint: fake.url, pathStyle: true }))).code).toBe('FORBIDDEN');
  });
});
