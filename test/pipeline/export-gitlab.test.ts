import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportPipeline, parseSpec } from '../../src/pipeline/index.js';
import { tempDir } from '../helpers/engines.js';

// `pipeline export --format gitlab-ci` checked by GitLab's own rules: gitlab-ci-local (firecow/gitlab-ci-local,
// a devDependency pinned to 4.70.0, the last release that runs on Node 20) parses the file, expands it and
// validates it against the JSON schema GitLab publishes for .gitlab-ci.yml (gitlab-org/gitlab
// app/assets/javascripts/editor/schema/ci.json, bundled in the tool), then lists the jobs it would run.

const TOOL = path.resolve('node_modules/gitlab-ci-local/dist/index.js');

const pipeline = (steps: string) => parseSpec(`version: "0.1"\nname: demo\nsteps:\n${steps}`).spec!;

/** `gitlab-ci-local --list` over `text` as .gitlab-ci.yml in a fresh git repository. */
function list(text: string): { status: number | null; out: string; table: string } {
  const dir = tempDir('evident-gitlab-');
  fs.writeFileSync(path.join(dir, '.gitlab-ci.yml'), text);
  const git = (...args: string[]) => spawnSync('git', ['-c', 'user.email=ci@example.com', '-c', 'user.name=ci', ...args], { cwd: dir });
  git('init', '-q', '.');
  git('add', '-A');
  git('commit', '-qm', 'pipeline');
  const r = spawnSync(process.execPath, [TOOL, '--list'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  // The table goes to stdout, everything else (the schema check's result included) to stderr.
  return { status: r.status, out: `${r.stdout}\n${r.stderr}`, table: r.stdout };
}

/** The jobs of `--list`'s table: name, stage and needs of each row after the header. */
function jobs(out: string): { name: string; stage: string; needs: string }[] {
  const lines = out.split('\n');
  const header = lines.findIndex((l) => /^name\s+description\s+stage/.test(l));
  return lines.slice(header + 1).filter((l) => l.trim() !== '').map((l) => {
    const cells = l.split(/\s{2,}/);
    return { name: cells[0]!, stage: cells[1]!, needs: cells.at(-1)! };
  });
}

describe('pipeline export --format gitlab-ci, validated by gitlab-ci-local against GitLab\'s schema', () => {
  const spec = pipeline('  lint: { run: "npm run lint" }\n  test: { run: "npm test" }\n  build.app: { run: "make", needs: [lint, test] }\n  deploy: { run: "./deploy.sh", needs: [build.app] }\n');

  it('a pipeline with parallel groups and needs: valid, every step a job (named as GitLab allows) in its stage, needs kept', () => {
    const r = list(exportPipeline(spec, 'gitlab-ci', 'attest.yaml', { repo: 'acme/evident', ref: 'v1.2.3', npmCi: true }));
    expect(r.out).toContain('json schema validated');
    expect(r.status, r.out).toBe(0);
    const listed = jobs(r.table);
    expect(listed.map((j) => j.name).sort()).toEqual(['build_app', 'deploy', 'lint', 'test']);
    const by = new Map(listed.map((j) => [j.name, j]));
    expect(by.get('lint')!.stage).toBe(by.get('test')!.stage);
    expect(by.get('build_app')!.needs).toBe('[lint,test]');
    expect(by.get('deploy')!.needs).toBe('[build_app]');
  });

  it('Evident from a self-hosted GitLab URL, a step in a subdirectory, names GitLab reserves: all valid', () => {
    const odd = pipeline('  stages: { run: "true" }\n  variables: { run: "true", needs: [stages] }\n  default: { run: "echo hi", needs: [variables] }\n');
    const text = exportPipeline(odd, 'gitlab-ci', 'ci/attest.yaml', { repo: 'https://gitlab.example.com/tools/evident.git', ref: 'main', dir: 'ci' });
    const r = list(text);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('json schema validated');
    expect(jobs(r.table).map((j) => j.name).sort()).toEqual(['default_2', 'stages_2', 'variables_2']);
  });

  it('the check is live: a key GitLab does not know, or a job without a script, is refused', () => {
    const text = exportPipeline(spec, 'gitlab-ci', 'attest.yaml', { repo: 'acme/evident' });
    const unknown = list(text.replace(/^ {2}image:/m, '  imagez:'));
    expect(unknown.status).not.toBe(0);
    expect(unknown.out).toMatch(/imagez.*not expected/);
    const noScript = list(text.replace(/^ {2}script:/m, '  scripts:'));
    expect(noScript.status).not.toBe(0);
    expect(noScript.out).toMatch(/scripts.*not expected|must have script/);
  });
});
