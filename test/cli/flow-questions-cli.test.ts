import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServices, loadLogKey } from '../../src/services/index.js';
import { openStore } from '../../src/store/index.js';
import { evident, startServerProcess, type ServerProcess } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';
import { FACTS, SteppingClock, buildFixtureOrg, commit } from '../helpers/fixture-org.js';

// Few CLI runs, in parallel: the answers themselves are checked at the service and HTTP levels.
describe("templates, tags and seed 000's questions from the CLI", () => {
  let server: ServerProcess;
  let env: Record<string, string>;
  const work = tempDir('evident-work-');

  beforeAll(async () => {
    // The fixture org is written before the server starts, with the key the server will load.
    const dataDir = tempDir();
    const key = loadLogKey({ dataDir });
    const store = await openStore({ dataDir });
    const services = createServices(store, key.signer, { clock: new SteppingClock() });
    const { org } = await services.auth.ensureOrg('default');
    const { secret } = await services.auth.issue(org, { name: 'admin', role: 'admin' });
    await buildFixtureOrg(services, org);
    await store.close();
    server = await startServerProcess(['--data-dir', dataDir]);
    env = { HOME: tempDir('evident-home-'), EVIDENT_HOST: server.url, EVIDENT_ORG: 'default', EVIDENT_API_TOKEN: secret, TZ: 'UTC' };
  }, 120_000);
  afterAll(async () => server?.stop());

  const run = (args: string[]) => evident(args, env);

  it('refuses a bad template file with exit 2 and file:line:column, creates nothing; tags a flow; answers the questions', async () => {
    const bad = path.join(work, 'flow.yml');
    fs.writeFileSync(bad, 'version: 1\ntrail:\n  attestations:\n  - name: scan\n    type: snik\n');
    const [create, getBad, tag, lastDeployed, lacking, search] = await Promise.all([
      run(['create', 'flow', 'newflow', '--template-file', bad]),
      run(['get', 'flow', 'newflow']),
      run(['tag', 'flow', 'svc-09', '--set', 'team=edge', '--set', 'tier=2', '--output', 'json']),
      run(['list', 'flows', '--sort', 'last-deployment', '--limit', '3']),
      run(['list', 'flows', '--missing-attestation-type', 'snyk', '--output', 'json-evident']),
      run(['search', commit(4, 1).slice(0, 7)]),
    ]);
    expect(create.code, create.stderr).toBe(2);
    expect(create.stderr).toContain(`${bad}:5:11: trail.attestations[0].type: unknown attestation type 'snik' (did you mean 'snyk'?)`);
    expect(create.stdout).toBe('');
    expect(getBad.code).toBe(1); // never created (the CLI checked the file before sending anything)

    expect(tag.code, tag.stderr).toBe(0);
    expect(JSON.parse(tag.stdout).tags).toEqual({ team: 'edge', tier: '2' });

    expect(lastDeployed.code, lastDeployed.stderr).toBe(0);
    const lines = lastDeployed.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+LAST DEPLOYMENT\s+DEPLOYED AT\s+COMPLIANCE\s+LATEST TRAIL\s+DESCRIPTION$/);
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/).slice(0, 2))).toEqual([['svc-04', 'aws-beta#3'], ['svc-08', 'aws-beta#3'], ['svc-06', 'aws-prod#2']]);
    expect(lines[1]).toMatch(/aws-beta#3\s+Fri, 01 Mar 2024 \d\d:\d\d:00 UTC\s+COMPLIANT\s+t2\s+service 4$/);
    expect(lastDeployed.stderr).toMatch(/more: --cursor \S+/);

    expect(lacking.code, lacking.stderr).toBe(0);
    expect(JSON.parse(lacking.stdout).items.map((f: { name: string }) => f.name)).toEqual(FACTS.missingSnyk);

    expect(search.code, search.stderr).toBe(0);
    expect(search.stdout).toMatch(/svc-04\s+t1\s+svc-04:1\s+\w{12}\s+041ca/);
    expect(search.stdout).toMatch(/aws-prod since #1 \(Fri, 01 Mar 2024 \d\d:\d\d:00 UTC\)\s+aws-beta#3\s+commit/);
  }, 60_000);

  it('shows a trail\'s compliance and refuses bad tags and sorts with usage errors', async () => {
    const [trail, badTag, badSort, help] = await Promise.all([
      run(['get', 'trail', 't1', '--flow', 'svc-01']),
      run(['tag', 'flow', 'svc-01', '--set', 'no-equals-sign']),
      run(['list', 'flows', '--sort', 'newest']),
      run(['list', 'flows', '--help']),
    ]);
    expect(trail.code, trail.stderr).toBe(0);
    expect(trail.stdout).toMatch(/Compliance\s+INCOMPLETE/);
    expect(trail.stdout).toMatch(/svc-01 \(011ffff\)\s+unit-tests\s+junit\s+MISSING\s+-\s+yes/);
    expect(trail.stdout).toMatch(/svc-01 \(011ffff\)\s+snyk-scan\s+snyk\s+COMPLETE\s+yes\s+yes/);
    expect(badTag.code).toBe(2);
    expect(badTag.stderr).toMatch(/--set "no-equals-sign": write KEY=VALUE/);
    expect(badSort.code).not.toBe(0);
    expect(badSort.stderr).toMatch(/newest/);
    expect(help.stdout).toMatch(/--missing-attestation-type <type>/);
    expect(help.stdout).toMatch(/evident list flows --missing-attestation-type snyk/);
  }, 60_000);
});
