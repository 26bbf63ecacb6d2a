import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { evident } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';

// `evident audit analyze` and `evident pipeline export` through the built CLI: the output shapes.

const YAML = `version: "0.1"
name: shapes
steps:
  lint: { run: "echo lint", inputs: [src/a.c] }
  build: { run: "mkdir -p out && cat src/a.c > out/app", needs: [lint], inputs: [src/a.c], outputs: [out/app] }
  unit.test: { run: "cat out/app", needs: [build], inputs: [out/app] }
  docs: { run: "echo docs" }
`;

describe('evident audit analyze', () => {
  let dir: string;
  const env = () => ({ HOME: tempDir('evident-home-') });
  beforeAll(async () => {
    dir = tempDir('evident-audit-');
    fs.writeFileSync(path.join(dir, 'attest.yaml'), YAML);
    fs.mkdirSync(path.join(dir, 'src'));
    fs.writeFileSync(path.join(dir, 'src/a.c'), 'int a;\n');
    for (let i = 0; i < 2; i++) {
      const r = await evident(['run', '-f', path.join(dir, 'attest.yaml'), '--jobs', '1'], env());
      expect(r.code, r.stderr).toBe(0);
    }
  }, 60_000);

  it('prints executions, hit rate, per-step figures and the critical path from the receipts, as JSON and as text', async () => {
    const json = await evident(['audit', 'analyze', '-f', path.join(dir, 'attest.yaml'), '--output', 'json'], env());
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(Object.keys(report).sort()).toEqual(['average_duration_secs', 'cache_hit_rate', 'critical_path', 'executions', 'period_days', 'slowest_steps', 'steps', 'suggestions', 'unreadable_receipts']);
    expect(report).toMatchObject({ period_days: 30, executions: 2, cache_hit_rate: 0.5, unreadable_receipts: [] });
    expect(report.average_duration_secs).toBeGreaterThan(0);
    // First run: four misses; second: four hits.
    expect(report.steps.map((s: { step: string; runs: number; hits: number; misses: number; failures: number }) => [s.step, s.runs, s.hits, s.misses, s.failures]).sort())
      .toEqual([['build', 2, 1, 1, 0], ['docs', 2, 1, 1, 0], ['lint', 2, 1, 1, 0], ['unit.test', 2, 1, 1, 0]]);
    expect(report.slowest_steps.length).toBeGreaterThan(0);
    for (const s of report.slowest_steps) expect(s).toEqual({ step: expect.any(String), avg_secs: expect.any(Number), runs: 2 });
    expect(report.critical_path.steps).toEqual(['lint', 'build', 'unit.test']);
    expect(Array.isArray(report.suggestions)).toBe(true);

    const text = await evident(['audit', 'analyze', '-f', path.join(dir, 'attest.yaml'), '--period', '7'], env());
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^Pipeline Performance Analysis \(7 days\)\n═+\nTotal Executions: 2\nAverage Duration: .+\nCache Hit Rate: 50\.0%\nSlowest Steps:\n1\. /);
    expect(text.stdout).toContain('Critical Path: lint -> build -> unit.test');
    expect(text.stdout).toContain('Optimization Opportunities:');
  });

  it('says there is nothing to analyse without receipts, and refuses a period below 1', async () => {
    const empty = tempDir('evident-audit-empty-');
    const none = await evident(['audit', 'analyze', '-f', path.join(empty, 'attest.yaml')], env());
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no receipt in the last 30 days .*run `evident run` first/);
    const bad = await evident(['audit', 'analyze', '-f', path.join(dir, 'attest.yaml'), '--period', '0'], env());
    expect(bad.code).toBe(2);
  });
});

describe('evident pipeline export', () => {
  let file: string;
  beforeAll(() => {
    const dir = tempDir('evident-export-');
    file = path.join(dir, 'attest.yaml');
    fs.writeFileSync(file, YAML);
  });

  it('writes a GitHub Actions workflow that parses, one job per step, needs kept (with job ids for odd names)', async () => {
    const r = await evident(['pipeline', 'export', '--format', 'github-actions', '--evident-repo', 'acme/evident', '-f', file]);
    expect(r.code, r.stderr).toBe(0);
    const doc = parse(r.stdout) as { name: string; on: Record<string, unknown>; jobs: Record<string, { name: string; needs?: string[]; steps: { run?: string }[] }> };
    expect(doc.name).toBe('shapes');
    expect(Object.keys(doc.on).sort()).toEqual(['pull_request', 'push']);
    expect(Object.keys(doc.jobs).sort()).toEqual(['build', 'docs', 'lint', 'unit_test']);
    expect(doc.jobs.build!.needs).toEqual(['lint']);
    expect(doc.jobs.unit_test!.needs).toEqual(['build']);
    expect(doc.jobs.lint!.needs).toBeUndefined();
    expect(doc.jobs.unit_test!.name).toBe('unit.test');
    expect(doc.jobs.unit_test!.steps.at(-1)!.run).toMatch(/^evident run --only unit\.test( -f \S+)?$/);
    expect(doc.jobs.unit_test!.steps[1]).toMatchObject({ uses: 'acme/evident@v0.1.0' });
    // A lockfile in the workspace: each job installs the project's dependencies first.
    fs.writeFileSync(path.join(path.dirname(file), 'package-lock.json'), '{}');
    const withLock = await evident(['pipeline', 'export', '--format', 'github-actions', '--evident-repo', 'acme/evident', '--evident-ref', 'main', '-f', file]);
    fs.rmSync(path.join(path.dirname(file), 'package-lock.json'));
    const steps = (parse(withLock.stdout) as typeof doc).jobs.lint!.steps as { uses?: string; run?: string }[];
    expect(steps.map((s) => s.uses ?? s.run)).toEqual(['actions/checkout@v4', 'acme/evident@main', expect.stringMatching(/npm ci$/), expect.stringMatching(/^evident run --only lint/)]);
    const missing = await evident(['pipeline', 'export', '--format', 'github-actions', '-f', file]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('--evident-repo');
    const bad = await evident(['pipeline', 'export', '--format', 'github-actions', '--evident-repo', 'acme/evident', '--evident-ref', '-x;y', '-f', file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--evident-ref must be a tag, branch or commit');
  });

  it('writes a GitLab CI file that parses: stages are the parallel groups, needs kept; -o writes a file', async () => {
    const out = path.join(tempDir('evident-export-out-'), 'ci', '.gitlab-ci.yml');
    const r = await evident(['pipeline', 'export', '--format', 'gitlab-ci', '-f', file, '-o', out], { EVIDENT_EXPORT_REPO: 'acme/evident' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`wrote ${out} (gitlab-ci, 4 jobs)`);
    const doc = parse(fs.readFileSync(out, 'utf8')) as Record<string, { stage: string; needs: string[]; script: string[] }> & { stages: string[] };
    expect(doc.stages).toEqual(['group-1', 'group-2', 'group-3']);
    expect([doc.lint!.stage, doc.docs!.stage, doc.build!.stage, doc.unit_test!.stage]).toEqual(['group-1', 'group-1', 'group-2', 'group-3']);
    expect([doc.lint!.needs, doc.build!.needs, doc.unit_test!.needs]).toEqual([[], ['lint'], ['build']]);
    expect(doc.build!.script).toEqual([expect.stringMatching(/^evident run --only build/)]);
    const bad = await evident(['pipeline', 'export', '--format', 'jenkins', '-f', file]);
    expect(bad.code).toBe(2);
  });
});
