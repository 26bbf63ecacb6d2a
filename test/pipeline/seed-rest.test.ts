import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createHmac } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Ajv } from 'ajv';
import { VERSION } from '../../src/core/index.js';
import {
  EventDispatcher, analyze, exportPipeline, findBwrap, loadSpec, parseSpec, readReceipts, sandboxUsable, signatureOf, writableDirs,
} from '../../src/pipeline/index.js';
import { attestationObservers } from '../../src/pipeline/index.js';
import { exists, read, run, workspace, write } from './runner-helpers.js';

// Issue #6 item 9: deterministic mode, reproducibility checks, event handlers, audit analyze, pipeline
// export and the sandbox isolation level.

const pipeline = (steps: string, extra = '') => `version: "0.1"\nname: demo\n${extra}steps:\n${steps}`;

describe('--deterministic', () => {
  it('gives each step SOURCE_DATE_EPOCH from the commit, TZ=UTC, LC_ALL=C and a sorted environment, recorded in the record', async () => {
    const dir = workspace(pipeline('  a: { run: "env > out.txt; date +%Z >> out.txt", outputs: [out.txt], env: { ZZ: "1", AA: "2" } }\n'));
    const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, env: { ...process.env, GIT_COMMITTER_DATE: '2024-01-02T03:04:05Z', GIT_AUTHOR_DATE: '2024-01-02T03:04:05Z' } });
    git('init', '-q');
    git('-c', 'user.email=t@e', '-c', 'user.name=t', 'commit', '-q', '--allow-empty', '-m', 'x');
    const r = await run(dir, { deterministic: true });
    expect(r.record.ok).toBe(true);
    const lines = read(dir, 'out.txt').trim().split('\n');
    expect(lines).toContain('SOURCE_DATE_EPOCH=1704164645');
    expect(lines).toContain('TZ=UTC');
    expect(lines).toContain('LC_ALL=C');
    expect(lines.at(-1)).toBe('UTC');
    const names = lines.slice(0, -1).map((l) => l.split('=')[0]!).filter((n) => /^[A-Z_][A-Z0-9_]*$/.test(n));
    expect(names.indexOf('AA')).toBeLessThan(names.indexOf('ZZ'));
    const env = r.record.steps[0]!.env;
    expect(env).toMatchObject({ SOURCE_DATE_EPOCH: '1704164645', TZ: 'UTC', LC_ALL: 'C', AA: '2', ZZ: '1' });
    expect(Object.keys(env)).toEqual(Object.keys(env).sort());
    expect(fs.statSync(path.join(dir, 'out.txt')).mtimeMs).toBe(1704164645000);
  });

  it('falls back to SOURCE_DATE_EPOCH=0 with a warning outside a git repository', async () => {
    const dir = workspace(pipeline('  a: { run: "echo $SOURCE_DATE_EPOCH > e.txt", outputs: [e.txt] }\n'));
    fs.mkdirSync(path.join(dir, '.git'));  // an empty .git: not a repository, and git stops looking upwards
    const r = await run(dir, { deterministic: true });
    expect(read(dir, 'e.txt').trim()).toBe('0');
    expect(r.warnings.join('\n')).toMatch(/--deterministic: no commit time .*SOURCE_DATE_EPOCH=0/);
  });

  it('is off by default: no SOURCE_DATE_EPOCH added', async () => {
    const dir = workspace(pipeline('  a: { run: "echo ${SOURCE_DATE_EPOCH:-unset} > e.txt", outputs: [e.txt] }\n'));
    const r = await run(dir, { noCache: true });
    expect(read(dir, 'e.txt').trim()).toBe(process.env.SOURCE_DATE_EPOCH ?? 'unset');
    expect(r.record.steps[0]!.env.SOURCE_DATE_EPOCH).toBeUndefined();
  });
});

describe('reproducible steps', () => {
  it('pass when both runs make the same bytes (the command runs twice)', async () => {
    const dir = workspace(pipeline('  build: { run: "echo x >> runs.log; mkdir -p out; echo same > out/app.tar", outputs: [out/app.tar], attestation: { reproducible: true } }\n'));
    const r = await run(dir);
    expect(r.detail.build).toBe('cache miss');
    expect(read(dir, 'runs.log')).toBe('x\nx\n');
  });

  it('fail with the differing files when the output changes between runs (require_reproducible)', async () => {
    const dir = workspace(pipeline(
      '  build: { run: "mkdir -p out; date +%s%N > out/app.tar; echo fixed > out/lib.a", outputs: [out/] }\n',
      'attestation: { require_reproducible: true }\n',
    ));
    const r = await run(dir);
    expect(r.record.ok).toBe(false);
    expect(r.lines[0]).toMatch(/^\[FAIL\] build .*- not reproducible: out\/app\.tar differs$/);
  });

  it('are not checked when the step is not marked (the command runs once)', async () => {
    const dir = workspace(pipeline('  build: { run: "echo x >> runs.log; date +%s%N > o.txt", outputs: [o.txt] }\n'));
    expect((await run(dir)).record.ok).toBe(true);
    expect(read(dir, 'runs.log')).toBe('x\n');
  });
});

interface Hit { body: string; signature: string | undefined }
const servers: http.Server[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));

async function receiver(statuses: number[]): Promise<{ url: string; hits: Hit[] }> {
  const hits: Hit[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c)).on('end', () => {
      hits.push({ body, signature: req.headers['x-evident-signature'] as string | undefined });
      res.statusCode = statuses[hits.length - 1] ?? 200;
      res.end();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, hits };
}

describe('event handlers', () => {
  it('file: one JSON line per event, filtered by type, in order', async () => {
    const dir = workspace(pipeline(
      '  a: { run: "echo a > a.txt", outputs: [a.txt] }\n  b: { run: "exit 3", needs: [a] }\n',
      'events:\n  handlers:\n    - { type: file, path: logs/all.jsonl, events: ["*"] }\n    - { type: file, path: fail.jsonl, events: [step.failed] }\n',
    ));
    await run(dir);
    const all = read(dir, 'logs/all.jsonl').trim().split('\n').map((l) => JSON.parse(l) as { type: string; step?: string; run_id: string });
    expect(all.map((e) => `${e.type}${e.step ? ` ${e.step}` : ''}`)).toEqual([
      'pipeline.started', 'step.started a', 'cache.miss a', 'step.completed a', 'step.started b', 'cache.miss b', 'step.failed b', 'pipeline.completed',
    ]);
    expect(new Set(all.map((e) => e.run_id)).size).toBe(1);
    const failed = read(dir, 'fail.jsonl').trim().split('\n').map((l) => JSON.parse(l) as { type: string; exit_code: number });
    expect(failed).toEqual([expect.objectContaining({ type: 'step.failed', step: 'b', exit_code: 3 })]);
    await run(dir);
    expect(read(dir, 'logs/all.jsonl')).toContain('"type":"cache.hit","timestamp"');
  });

  it('webhook: POSTs signed with HMAC-SHA256 of the body, the secret from the named variable', async () => {
    const { url, hits } = await receiver([]);
    const warnings: string[] = [];
    const d = new EventDispatcher([{ type: 'webhook', url, events: ['step.failed'], secretEnv: 'HOOK_SECRET' }], { workspace: '/nonexistent', pipeline: 'p', warn: (m) => warnings.push(m), env: { HOOK_SECRET: 's3cret' } });
    d.emit('step.started', { step: 'a' });
    d.emit('step.failed', { step: 'a' });
    await d.close();
    expect(hits).toHaveLength(1);
    const expected = `sha256=${createHmac('sha256', 's3cret').update(hits[0]!.body).digest('hex')}`;
    expect(hits[0]!.signature).toBe(expected);
    expect(signatureOf(hits[0]!.body, 'other')).not.toBe(expected);
    expect(JSON.parse(hits[0]!.body)).toMatchObject({ type: 'step.failed', step: 'a', pipeline: 'p' });
    expect(warnings).toEqual([]);
  });

  it('webhook: retries on 500 and gives up after N retries with a warning', async () => {
    const { url, hits } = await receiver([500, 500, 200]);
    const warnings: string[] = [];
    const ok = new EventDispatcher([{ type: 'webhook', url, events: ['*'], retries: 2 }], { workspace: '/x', pipeline: 'p', warn: (m) => warnings.push(m), baseDelayMs: 5 });
    ok.emit('pipeline.started');
    await ok.close();
    expect(hits).toHaveLength(3);
    expect(warnings).toEqual([]);

    const dead = await receiver([500, 500, 500, 500, 500]);
    const giveUp = new EventDispatcher([{ type: 'webhook', url: dead.url, events: ['*'], retries: 1 }], { workspace: '/x', pipeline: 'p', warn: (m) => warnings.push(m), baseDelayMs: 5 });
    giveUp.emit('pipeline.completed');
    await giveUp.close();
    expect(dead.hits).toHaveLength(2);
    expect(warnings).toEqual([expect.stringMatching(/pipeline\.completed not delivered to .*: HTTP 500/)]);
  });

  it('webhook: not sent when the secret variable is unset; a failing endpoint never fails the run', async () => {
    const { url, hits } = await receiver([]);
    const dir = workspace(pipeline('  a: { run: "true" }\n', `events:\n  handlers:\n    - { type: webhook, url: "${url}", secret_env: EVIDENT_TEST_UNSET_SECRET }\n    - { type: webhook, url: "http://127.0.0.1:1/x", retries: 0 }\n`));
    const r = await run(dir);
    expect(r.record.ok).toBe(true);
    expect(hits).toHaveLength(0);
    expect(r.warnings.filter((w) => w.includes('EVIDENT_TEST_UNSET_SECRET is not set'))).toHaveLength(1);
    expect(r.warnings.some((w) => /not delivered to http:\/\/127\.0\.0\.1:1\/x/.test(w))).toBe(true);
  });

  it('the spec refuses a bad secret_env or retries', () => {
    const { problems } = parseSpec(pipeline('  a: { run: "true" }\n', 'events:\n  handlers:\n    - { type: webhook, url: "http://x", secret_env: "not a name", retries: 99 }\n'));
    expect(problems.map((p) => p.path)).toEqual(['events.handlers[0].secret_env', 'events.handlers[0].retries']);
  });

  it('signature.created follows a signed receipt', async () => {
    const dir = workspace(pipeline('  a: { run: "true" }\n', 'events:\n  handlers:\n    - { type: file, path: ev.jsonl, events: [signature.created] }\n'));
    const loaded = loadSpec(path.join(dir, 'attest.yaml'));
    const events = new EventDispatcher(loaded.spec.events, { workspace: dir, pipeline: 'demo', warn: () => {} });
    const { signatureObserver } = await import('../../src/pipeline/index.js');
    const observers = [...(await attestationObservers({ workspace: dir, sign: true, provenance: false })), signatureObserver(events, { signed: true })];
    await run(dir, { observers, events });
    expect(JSON.parse(read(dir, 'ev.jsonl'))).toMatchObject({ type: 'signature.created', subject: 'receipt' });
  });
});

describe('audit analyze', () => {
  it('reads the stored receipts: executions, hit rate, slowest steps, critical path and the file that changes every run', async () => {
    const dir = workspace(pipeline(
      '  stamp: { run: "date +%s%N > stamp.txt", outputs: [stamp.txt], cache: false }\n' +
      '  build: { run: "cat stamp.txt src.txt > app.txt", inputs: [stamp.txt, src.txt], outputs: [app.txt], needs: [stamp] }\n' +
      '  lint: { run: "cp src.txt lint.txt", inputs: [src.txt], outputs: [lint.txt] }\n',
    ), { 'src.txt': 'x' });
    for (let i = 0; i < 3; i++) await run(dir, { observers: await attestationObservers({ workspace: dir, sign: false, provenance: false }) });
    const { receipts, unreadable } = readReceipts(dir, 30);
    expect(receipts).toHaveLength(3);
    const report = analyze(receipts, { periodDays: 30, unreadable, graph: loadSpec(path.join(dir, 'attest.yaml')).spec.steps });
    expect(report.executions).toBe(3);
    // build: 3 misses; lint: 1 miss then 2 hits; stamp: cache disabled (not counted).
    expect(report.cacheHitRate).toBeCloseTo(2 / 6);
    expect(report.steps.find((s) => s.step === 'lint')).toMatchObject({ hits: 2, misses: 1, runs: 3 });
    // The critical path weighs steps by their average duration: with build made slow, stamp -> build.
    for (const r of receipts) for (const st of r.steps) st.duration_secs = st.name === 'build' ? 5 : 1;
    expect(analyze(receipts, { periodDays: 30, graph: loadSpec(path.join(dir, 'attest.yaml')).spec.steps }).criticalPath).toEqual({ steps: ['stamp', 'build'], durationSecs: 6 });
    for (const r of receipts) for (const st of r.steps) st.duration_secs = st.name === 'lint' ? 9 : 1;
    expect(analyze(receipts, { periodDays: 30, graph: loadSpec(path.join(dir, 'attest.yaml')).spec.steps }).criticalPath?.steps).toEqual(['lint']);
    expect(report.suggestions).toContain('build never hits the cache: its inputs include a file that changes every run (stamp.txt)');
    expect(report.suggestions.some((s) => s.startsWith('lint'))).toBe(false);
    expect(readReceipts(dir, 30, Date.now() + 31 * 86_400_000).receipts).toHaveLength(0);
  });
});

describe('pipeline export', () => {
  const spec = parseSpec(pipeline('  lint: { run: "npm run lint" }\n  test: { run: "npm test" }\n  build.app: { run: "make", needs: [lint, test] }\n  deploy: { run: "./deploy.sh", needs: [build.app] }\n')).spec!;
  const workflowSchema = new Ajv({ strict: false, allErrors: true, validateFormats: false }).compile(JSON.parse(fs.readFileSync('test/fixtures/schemastore/github-workflow.json', 'utf8')));

  it('github-actions: one job per step, needs kept, Evident installed with the repository\'s action, each running evident run --only STEP', () => {
    const text = exportPipeline(spec, 'github-actions', 'attest.yaml', { repo: 'acme/evident', ref: 'v1.2.3', npmCi: true });
    const doc = parse(text) as { on: object; jobs: Record<string, { needs?: string[]; steps: { uses?: string; run?: string; with?: Record<string, string> }[] }> };
    expect(workflowSchema(doc), JSON.stringify(workflowSchema.errors)).toBe(true);
    expect(Object.keys(doc.jobs)).toEqual(['lint', 'test', 'build_app', 'deploy']);
    expect(doc.jobs.build_app!.needs).toEqual(['lint', 'test']);
    expect(doc.jobs.deploy!.needs).toEqual(['build_app']);
    expect(doc.jobs.lint!.needs).toBeUndefined();
    expect(text).not.toContain('npm install -g evident');
    // The action's real inputs (action.yml).
    const inputs = Object.keys((parse(fs.readFileSync('action.yml', 'utf8')) as { inputs: object }).inputs);
    for (const [id, job] of Object.entries(doc.jobs)) {
      expect(job.steps[0]!.uses).toBe('actions/checkout@v4');
      expect(job.steps[1]).toMatchObject({ uses: 'acme/evident@v1.2.3', with: { 'node-version': '24', token: '${{ secrets.EVIDENT_API_TOKEN }}' } });
      for (const input of Object.keys(job.steps[1]!.with!)) expect(inputs).toContain(input);
      expect(job.steps[2]!.run).toBe('npm ci');
      expect(job.steps.at(-1)!.run).toBe(`evident run --only ${id === 'build_app' ? 'build.app' : id}`);
    }
    expect(doc.on).toBeDefined();
    // Without a lockfile no npm ci; the default ref is this version's tag.
    const plain = parse(exportPipeline(spec, 'github-actions', 'attest.yaml', { repo: 'acme/evident' })) as typeof doc;
    expect(plain.jobs.lint!.steps.map((s) => s.uses ?? s.run)).toEqual(['actions/checkout@v4', `acme/evident@v${VERSION}`, 'evident run --only lint']);
    expect(workflowSchema(plain)).toBe(true);
  });

  it('gitlab-ci: stages from the parallel groups, needs kept, Evident packed from its repository at the ref', () => {
    const doc = parse(exportPipeline(spec, 'gitlab-ci', 'ci/attest.yaml', { repo: 'acme/evident', ref: 'main', npmCi: true, dir: 'ci' })) as Record<string, { stage: string; needs: string[]; script: string[] }> & {
      stages: string[]; variables: Record<string, string>; default: { image: string; before_script: string[] };
    };
    expect(doc.stages).toEqual(['group-1', 'group-2', 'group-3']);
    expect(doc.variables).toEqual({ EVIDENT_REPO: 'https://github.com/acme/evident.git', EVIDENT_REF: 'main' });
    expect(doc.default.image).toBe('node:24');
    expect(doc.default.before_script.join('\n')).toMatch(/git -C \/tmp\/evident-src checkout --quiet "\$EVIDENT_REF"[\s\S]*npm pack[\s\S]*npm install -g .*\/tmp\/evident-\*\.tgz[\s\S]*\(cd ci && npm ci\)$/);
    expect(JSON.stringify(doc)).not.toContain('npm install -g evident');
    expect(doc.lint).toMatchObject({ stage: 'group-1', needs: [] });
    expect(doc.build_app).toMatchObject({ stage: 'group-2', needs: ['lint', 'test'], script: ['evident run --only build.app -f ci/attest.yaml'] });
    expect(doc.deploy!.stage).toBe('group-3');
    const url = parse(exportPipeline(spec, 'gitlab-ci', 'attest.yaml', { repo: 'https://gitlab.example.com/tools/evident.git' })) as typeof doc;
    expect(url.variables.EVIDENT_REPO).toBe('https://gitlab.example.com/tools/evident.git');
  });

  it('refuses a repository, ref or Node version that would not work, or could inject', () => {
    expect(() => exportPipeline(spec, 'github-actions', 'attest.yaml', { repo: 'https://github.com/acme/evident' })).toThrow(/--evident-repo must be OWNER\/REPO/);
    expect(() => exportPipeline(spec, 'gitlab-ci', 'attest.yaml', { repo: 'acme/evident; rm -rf /' })).toThrow(/--evident-repo/);
    expect(() => exportPipeline(spec, 'github-actions', 'attest.yaml', { repo: 'acme/evident', ref: '-x' })).toThrow(/--evident-ref must be a tag/);
    expect(() => exportPipeline(spec, 'gitlab-ci', 'attest.yaml', { repo: 'acme/evident', ref: 'a"b' })).toThrow(/--evident-ref/);
    expect(() => exportPipeline(spec, 'github-actions', 'attest.yaml', { repo: 'acme/evident', nodeVersion: 'lts' })).toThrow(/--node-version/);
  });
});

describe('sandbox isolation', () => {
  it('is part of the spec: process or sandbox', () => {
    expect(parseSpec(pipeline('  a: { run: "true", isolation: sandbox }\n')).spec!.steps.get('a')!.isolation).toBe('sandbox');
    expect(parseSpec(pipeline('  a: { run: "true", isolation: docker }\n')).problems[0]).toMatchObject({ path: 'steps.a.isolation' });
  });

  it('makes the directories of the declared outputs writable, nothing else', () => {
    const dir = workspace(pipeline('  a: { run: "true" }\n'));
    write(dir, 'dist/old.txt', 'x');
    const step = { name: 'a', run: 'true', inputs: [], outputs: ['out/app.tar', 'dist', 'gen/**/*.js'], needs: [], env: {}, cache: true, reproducible: false };
    expect(writableDirs(dir, step)).toEqual([path.join(dir, 'dist'), path.join(dir, 'gen'), path.join(dir, 'out')]);
  });

  it('fails clearly, before running anything, where bubblewrap is not installed', async () => {
    const dir = workspace(pipeline('  a: { run: "touch ran" }\n'));
    const saved = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await expect(run(dir, { isolation: 'sandbox' })).rejects.toThrow('sandbox isolation needs bubblewrap (bwrap), which is not installed: apt-get install bubblewrap');
    } finally {
      process.env.PATH = saved;
    }
    expect(exists(dir, 'ran')).toBe(false);
  });

  const usable = findBwrap() !== undefined && sandboxUsable().ok;
  it.skipIf(!usable)('runs the step read-only except its outputs, with a private /tmp and no network', async () => {
    const dir = workspace(pipeline(
      '  a: { run: "echo ok > out/r.txt; (echo no > elsewhere.txt) 2>/dev/null && echo wrote >> out/r.txt; echo t > /tmp/evident-sandbox-probe; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d \' \\\\n\' >> out/r.txt", outputs: [out/r.txt], isolation: sandbox }\n',
    ));
    const r = await run(dir);
    expect(r.record.ok).toBe(true);
    const text = read(dir, 'out/r.txt');
    expect(text.split('\n')[0]).toBe('ok');
    expect(text).not.toContain('wrote');
    expect(exists(dir, 'elsewhere.txt')).toBe(false);
    expect(fs.existsSync('/tmp/evident-sandbox-probe')).toBe(false);
    expect(text.split('\n')[1]!.trim()).toBe('lo');
  });
});
