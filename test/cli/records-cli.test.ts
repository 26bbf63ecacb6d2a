import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactText } from '../../src/cli/commands/get-artifact.js';
import { evident, startServerProcess, type ServerProcess } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';

const FP = '9af401c4350b21e3f1df17d6ad808da43d9646e75b6da902cc7c492bcfb9c625';
const SHA = '16d9990ad23a40eecaf087abac2a58a2d2a4b3f4';

describe('recording a pipeline from the CLI', () => {
  let server: ServerProcess;
  let env: Record<string, string>;
  const work = tempDir('evident-work-');

  beforeAll(async () => {
    server = await startServerProcess(['--data-dir', tempDir()]);
    env = { HOME: tempDir('evident-home-'), EVIDENT_HOST: server.url, EVIDENT_ORG: 'default', EVIDENT_API_TOKEN: server.token! };
  }, 60_000);
  afterAll(async () => server?.stop());

  const run = async (args: string[], extra: Record<string, string> = {}) => evident(args, { ...env, ...extra });

  it('creates a flow, begins a trail, reports an artifact and attestations, and shows the artifact like kosli get artifact', async () => {
    expect((await run(['create', 'flow', 'runner', '--description', 'cyber-dojo runner'])).code).toBe(0);
    const userData = path.join(work, 'user.json');
    fs.writeFileSync(userData, '{"pr": 7}');
    const trail = await run(['begin', 'trail', SHA, '--flow', 'runner', '--user-data', userData], {
      GITHUB_ACTIONS: 'true', GITHUB_SHA: SHA, GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'cyber-dojo/runner', GITHUB_RUN_ID: '2902808452',
    });
    expect(trail.code, trail.stderr).toBe(0);
    const art = await run(
      ['attest', 'artifact', '--fingerprint', FP, '--name', 'runner', '--display-name', 'cyberdojo/runner:16d9990', '--flow', 'runner', '--trail', SHA, '--annotate', 'team=core', '--output', 'json'],
      { GITHUB_ACTIONS: 'true', GITHUB_SHA: SHA, GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'cyber-dojo/runner', GITHUB_RUN_ID: '2902808452' },
    );
    expect(art.code, art.stderr).toBe(0);
    expect(JSON.parse(art.stdout)).toMatchObject({
      fingerprint: FP, git_commit: SHA, commit_url: `https://github.com/cyber-dojo/runner/commit/${SHA}`,
      build_url: 'https://github.com/cyber-dojo/runner/actions/runs/2902808452', annotations: { team: 'core' },
    });
    const att = await run(['attest', 'generic', '--name', 'runner.branch-coverage', '--compliant=true', '--fingerprint', FP, '--flow', 'runner', '--trail', SHA]);
    expect(att.code, att.stderr).toBe(0);

    const json = JSON.parse((await run(['get', 'artifact', 'runner:16d9990', '--output', 'json'])).stdout);
    expect(json).toMatchObject({ name: 'runner', fingerprint: FP, flow: 'runner', trail: SHA, git_commit: SHA, state: 'COMPLIANT', running: [], exited: [] });
    expect(json.history.map((h: { event: string }) => h.event)).toEqual(['Artifact created', 'branch-coverage evidence received']);
    for (const key of ['name', 'fingerprint', 'flow', 'trail', 'git_commit', 'commit_url', 'build_url', 'created_at', 'state', 'running', 'exited', 'history']) {
      expect(json).toHaveProperty(key);
    }
    const table = await run(['get', 'artifact', FP.slice(0, 8)]);
    expect(table.stdout).toMatch(/^Name: {9}cyberdojo\/runner:16d9990\nFlow: {9}runner\n/);
    expect(table.stdout).toMatch(/\nState: {8}COMPLIANT\nHistory:\n {4}Artifact created {19}\w{3}, /);
    expect(table.stdout).toMatch(/ {4}branch-coverage evidence received {2}\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d /);

    const flows = JSON.parse((await run(['list', 'flows', '--output', 'json-evident'])).stdout);
    expect(flows.items.map((f: { name: string }) => f.name)).toEqual(['runner']);
    const t = JSON.parse((await run(['get', 'trail', SHA, '--flow', 'runner', '--output', 'json'])).stdout);
    expect(t).toMatchObject({ git_commit: SHA, user_data: { pr: 7 } });
    expect(t.attestations).toHaveLength(1);
  });

  it('records an approval, searches by commit and lists artifacts', async () => {
    const ok = await run(['attest', 'approval', '--name', 'runner.release-approval', '--approver', 'alice@example.com', '--comment', 'CAB #42', '--fingerprint', FP, '--flow', 'runner', '--trail', SHA]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/approved by alice@example.com/);
    const found = await run(['search', SHA.slice(0, 7)]);
    expect(found.code).toBe(0);
    expect(found.stdout).toMatch(/runner .*cyberdojo\/runner:16d9990 .*commit/);
    const listed = JSON.parse((await run(['list', 'artifacts', '--flow', 'runner', '--output', 'json-evident'])).stdout);
    expect(listed.items.map((a: { fingerprint: string }) => a.fingerprint)).toEqual([FP]);
    expect((await run(['attest', 'approval', '--name', 'x', '--decision', 'maybe', '--flow', 'runner', '--trail', SHA])).code).toBe(2);
    const approval = JSON.parse((await run(['get', 'attestation', 'runner.release-approval', '--flow', 'runner', '--trail', SHA, '--output', 'json'])).stdout);
    expect(approval).toMatchObject({ type: 'approval', compliant: true, summary: { approver: 'alice@example.com', comment: 'CAB #42' } });
    expect((await run(['get', 'attestation', 'nothing', '--flow', 'runner', '--trail', SHA])).code).toBe(1);

    // get trail pages the trail's attestations as list commands page (--limit/--cursor, Kosli's --page-limit/--page).
    const getTrail = async (...flags: string[]) => {
      const r = await run(['get', 'trail', SHA, '--flow', 'runner', '--output', 'json', ...flags]);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { attestations: { entry_index: number }[]; attestation_count: number; next_cursor: string | null; compliance: { state: string } };
    };
    const ids = (t: { attestations: { entry_index: number }[] }) => t.attestations.map((a) => a.entry_index);
    const p1 = await getTrail('--limit', '1');
    expect(p1).toMatchObject({ attestation_count: 2, next_cursor: expect.any(String), compliance: { state: 'COMPLIANT' } });
    expect(p1.attestations).toHaveLength(1);
    const p2 = await getTrail('--limit', '1', '--cursor', p1.next_cursor!);
    expect(p2.next_cursor).toBeNull();
    expect([...ids(p1), ...ids(p2)]).toEqual(ids(await getTrail()));
    expect(ids(await getTrail('--page-limit', '1', '--page', '2'))).toEqual(ids(p2));
    expect((await getTrail('--page-limit', '1', '--page', '3')).attestations).toEqual([]);
    const bad = await run(['get', 'trail', SHA, '--flow', 'runner', '--cursor', 'nonsense']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/cursor/);
    const table = await run(['get', 'trail', SHA, '--flow', 'runner', '--limit', '1']);
    expect(table.stdout).toMatch(/Attestations +2\n/);
    expect(table.stderr + table.stdout).toMatch(/more attestations: --cursor \S+/);
  });

  it('fails clearly, with the right exit code, and writes nothing on bad input', async () => {
    const before = JSON.parse((await run(['log', 'checkpoint', '--output', 'json'])).stdout).note;
    const cases: [string[], number, RegExp][] = [
      [['attest', 'artifact', '--fingerprint', 'xyz', '--name', 'a', '--flow', 'runner', '--trail', SHA], 2, /fingerprint must be 64 lower-case hex/],
      [['attest', 'artifact', '--name', 'a', '--flow', 'runner', '--trail', SHA], 2, /give --fingerprint FP, or PATH with -t/],
      [['attest', 'artifact', '--fingerprint', FP, '--name', 'a', '--flow', 'runner', '--trail', 'nope'], 1, /trail "nope" does not exist in flow runner/],
      [['attest', 'generic', '--name', 'x', '--compliant=maybe', '--flow', 'runner', '--trail', SHA], 2, /--compliant must be true or false/],
      [['begin', 'trail', 't', '--flow', 'runner', '--user-data', '/nonexistent.json'], 2, /--user-data: cannot read/],
      [['create', 'flow', 'bad name'], 2, /invalid flow/],
      [['get', 'artifact', 'abc'], 2, /5 to 64 lower-case hex/],
      [['get', 'artifact', 'fffff'], 1, /no artifact matches/],
    ];
    for (const [args, code, message] of cases) {
      const res = await run(args);
      expect(res.code, `${args.join(' ')}: ${res.stderr}`).toBe(code);
      expect(res.stderr).toMatch(message);
      expect(res.stdout).toBe('');
    }
    const badJson = path.join(work, 'bad.json');
    fs.writeFileSync(badJson, '{"a": ');
    const res = await run(['begin', 'trail', 't', '--flow', 'runner', '--user-data', badJson]);
    expect(res.stderr).toMatch(/bad.json is not valid JSON/);
    expect(JSON.parse((await run(['log', 'checkpoint', '--output', 'json'])).stdout).note).toBe(before);
  });

  it('prints times in the seed layout', () => {
    const text = artifactText({
      name: 'runner', display_name: 'x', fingerprint: FP, flow: 'runner', trail: 't', git_commit: null, commit_url: null, build_url: null,
      annotations: null, created_at: '2022-08-22T09:35:00.000Z', entry_index: 0, state: 'COMPLIANT', attestations: [],
      compliance: { state: 'COMPLIANT', attestations: [], unexpected: [] },
      history: [{ event: 'Artifact created', timestamp: '2022-08-22T09:35:00.000Z' }], running: [], exited: [],
    }, Date.parse('2022-09-06T09:35:00.000Z'));
    expect(text).toMatch(/Created on: {3}\w{3}, 22 Aug 2022 \d\d:35:00 \S+ • 15 days ago/);
  });
});
