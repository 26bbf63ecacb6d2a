import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/engines.js';

// action.yml and every example workflow in the docs, against SchemaStore's published schemas for GitHub
// Actions files (test/fixtures/schemastore/SOURCE.md says which commit).

const schema = (name: string): ValidateFunction => {
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  return ajv.compile(JSON.parse(fs.readFileSync(path.join('test/fixtures/schemastore', name), 'utf8')));
};
const actionSchema = schema('github-action.json');
const workflowSchema = schema('github-workflow.json');

const errorsOf = (validate: ValidateFunction, doc: unknown) => (validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));

interface Action {
  inputs: Record<string, { default?: string }>;
  runs: { using: string; steps: { run?: string; shell?: string; uses?: string; env?: Record<string, string> }[] };
}
const action = parse(fs.readFileSync('action.yml', 'utf8')) as Action;

/** The ```yaml blocks of the docs that are workflows (they have `on:` and `jobs:` at the top). */
function docWorkflows(): { where: string; doc: unknown }[] {
  const files = ['README.md', ...fs.readdirSync('docs').filter((f) => f.endsWith('.md')).map((f) => path.join('docs', f))];
  const found: { where: string; doc: unknown }[] = [];
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    for (const match of text.matchAll(/^```ya?ml\n([\s\S]*?)^```/gm)) {
      const body = match[1]!;
      if (!/^on:/m.test(body) || !/^jobs:/m.test(body)) continue;
      const line = text.slice(0, match.index).split('\n').length;
      found.push({ where: `${file}:${line}`, doc: parse(body) });
    }
  }
  return found;
}

describe('GitHub Actions files against the SchemaStore schemas', () => {
  it('action.yml is a valid composite action whose inputs are host, org, token, ref and node-version', () => {
    expect(errorsOf(actionSchema, action)).toEqual([]);
    expect(action.runs.using).toBe('composite');
    expect(Object.keys(action.inputs).sort()).toEqual(['host', 'node-version', 'org', 'ref', 'token']);
  });

  it('the schema is live: a composite run step without a shell, or an unknown key, is refused', () => {
    const noShell = structuredClone(action);
    delete noShell.runs.steps[1]!.shell;
    expect(errorsOf(actionSchema, noShell)).not.toEqual([]);
    expect(errorsOf(actionSchema, { ...action, run: 'x' })).not.toEqual([]);
    expect(errorsOf(workflowSchema, { on: 'push', jobs: { a: { 'runs-on': 'ubuntu-latest', steps: [{ uses: 'x@v1', runs: 'typo' }] } } })).not.toEqual([]);
  });

  it('every example workflow in the docs is valid, and the docs install the CLI with the action', () => {
    const workflows = docWorkflows();
    expect(workflows.length).toBeGreaterThanOrEqual(2);
    for (const { where, doc } of workflows) expect(errorsOf(workflowSchema, doc), where).toEqual([]);
    const all = workflows.map((w) => JSON.stringify(w.doc)).join('\n');
    expect(all).not.toContain('npm install --global evident');
    expect(all).not.toContain('npm install -g evident');
    expect(all).toMatch(/"uses":"OWNER\/evident@/);
  });

  it("the action's scripts parse as bash and take inputs from the environment, never spliced in", () => {
    for (const step of action.runs.steps.filter((s) => s.run)) {
      expect(step.shell).toBe('bash');
      execFileSync('bash', ['-n', '-c', step.run!]);
      expect(step.run).not.toContain('${{');
    }
  });

  it('host, org and token become EVIDENT_HOST, EVIDENT_ORG and EVIDENT_API_TOKEN (masked); a line break is refused', () => {
    const script = action.runs.steps.at(-1)!.run!;
    const bin = tempDir();
    fs.writeFileSync(path.join(bin, 'evident'), '#!/bin/sh\necho 0.1.0\n', { mode: 0o755 });
    const run = (inputs: Record<string, string>) => {
      const envFile = path.join(tempDir(), 'env');
      fs.writeFileSync(envFile, '');
      const result = spawnSync('bash', ['-c', script], {
        env: { PATH: `${bin}:${process.env.PATH}`, GITHUB_ENV: envFile, EVIDENT_ACTION_HOST: '', EVIDENT_ACTION_ORG: '', EVIDENT_ACTION_TOKEN: '', ...inputs },
        encoding: 'utf8',
      });
      return { code: result.status, stdout: result.stdout, env: fs.readFileSync(envFile, 'utf8') };
    };
    const ok = run({ EVIDENT_ACTION_HOST: 'https://evident.example', EVIDENT_ACTION_ORG: 'acme', EVIDENT_ACTION_TOKEN: 'evd_secret' });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('::add-mask::evd_secret');
    expect(ok.env.split('\n').filter(Boolean).sort()).toEqual(['EVIDENT_API_TOKEN=evd_secret', 'EVIDENT_HOST=https://evident.example', 'EVIDENT_ORG=acme']);
    const none = run({});
    expect(none.code).toBe(0);
    expect(none.env).toBe('');
    const injected = run({ EVIDENT_ACTION_ORG: 'acme\nNODE_OPTIONS=--require=/tmp/x.js' });
    expect(injected.code).toBe(1);
    expect(injected.env).toBe('');
  });
});
