import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evident, startServerProcess, type ServerProcess } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';

// The demo organisation's runner at commit 16d9990 (src/services/demo/catalogue.ts), promoted to aws-prod
// by a release trail with ONE approval for everything it promoted (src/services/demo/release-scene.ts).
const RUNNER = '9af401c4350b21e3f1df17d6ad808da43d9646e75b6da902cc7c492bcfb9c625';

interface Entry {
  index: number;
  e: Record<string, unknown> & { type: string };
}

/**
 * What the package must hold, written independently of src/cli/verify/artifact-scope.ts, kind by kind,
 * from every entry of the log (docs/log.md, "Evidence packages").
 */
function expectedByKind(all: Entry[], fp: string): Record<string, number[]> {
  const of = (type: string) => all.filter((x) => x.e.type === type);
  const reports = of('artifact.reported').filter((x) => x.e.fingerprint === fp);
  const trailKey = (x: Entry) => `${String(x.e.flow)}/${String(x.e.trail)}`;
  const reportTrails = new Set(reports.map(trailKey));
  const names = new Set(reports.map((x) => `${trailKey(x)}/${String(x.e.artifact)}`));
  const byFingerprint = of('attestation.reported').filter((x) => x.e.artifact_fingerprint === fp);
  const trails = new Set([...reportTrails, ...byFingerprint.map(trailKey)]);
  const flows = new Set([...trails].map((t) => t.split('/')[0]!));
  const attestations = of('attestation.reported').filter((x) =>
    x.e.artifact_fingerprint === fp ||
    (x.e.artifact_fingerprint === null && trails.has(trailKey(x)) &&
      (x.e.artifact_name === null || (reportTrails.has(trailKey(x)) && names.has(`${trailKey(x)}/${String(x.e.artifact_name)}`)))),
  );
  const customTypes = new Set(attestations.map((x) => String(x.e.attestation_type)).filter((t) => t.startsWith('custom:')).map((t) => t.slice(7)));
  const snapshots: Entry[] = [];
  const wasRunning = new Map<string, boolean>();
  for (const x of of('snapshot.created')) {
    const env = String(x.e.environment);
    const running = (x.e.artifacts as { fingerprint: string }[]).some((a) => a.fingerprint === fp);
    if (running || wasRunning.get(env)) snapshots.push(x);
    wasRunning.set(env, running);
  }
  const expectations = of('deployment.expected').filter((x) => x.e.fingerprint === fp);
  const allowances = of('artifact.allowed').filter((x) => x.e.fingerprint === fp);
  const environments = new Set([...snapshots, ...expectations, ...allowances].map((x) => String(x.e.environment)));
  const attachments = all.filter((x) => (x.e.type === 'policy.attached' || x.e.type === 'policy.detached') && environments.has(String(x.e.environment)));
  const versionsUsed = new Set(attachments.filter((x) => x.e.type === 'policy.attached').map((x) => `${String(x.e.policy)}@${String(x.e.version)}`));
  const policies = of('policy.created').filter((x) => {
    const version = of('policy.created').filter((y) => y.e.policy === x.e.policy && y.index <= x.index).length;
    return versionsUsed.has(`${String(x.e.policy)}@${version}`);
  });
  const idx = (xs: Entry[]) => xs.map((x) => x.index).sort((a, b) => a - b);
  return {
    'artifact.reported': idx(reports),
    'attestation.reported': idx(attestations),
    'flow.created': idx(of('flow.created').filter((x) => flows.has(String(x.e.flow)))),
    'trail.begun': idx(of('trail.begun').filter((x) => trails.has(trailKey(x)))),
    'attestation_type.created': idx(of('attestation_type.created').filter((x) => customTypes.has(String(x.e.attestation_type)))),
    'snapshot.created': idx(snapshots),
    'deployment.expected': idx(expectations),
    'artifact.allowed': idx(allowances),
    'environment.created': idx(of('environment.created').filter((x) => environments.has(String(x.e.environment)))),
    'policy.attached': idx(attachments.filter((x) => x.e.type === 'policy.attached')),
    'policy.detached': idx(attachments.filter((x) => x.e.type === 'policy.detached')),
    'policy.created': idx(policies),
  };
}

describe('an evidence package holds every entry the log has about its artifact (D4)', () => {
  let server: ServerProcess;
  let env: Record<string, string>;
  const file = path.join(tempDir('evident-pkg-'), 'runner.json');

  beforeAll(async () => {
    server = await startServerProcess(['--data-dir', tempDir()], { EVIDENT_NO_DEMO: '' });
    env = { HOME: tempDir('evident-home-'), EVIDENT_HOST: server.url, EVIDENT_ORG: 'cyber-dojo', EVIDENT_API_TOKEN: server.info.demo!.token };
    // An exemption of the runner too, so that every kind of entry about an artifact is present.
    const allowed = await evident(['allow', 'artifact', RUNNER, '--environment', 'aws-beta', '--reason', 'vendor check'], env);
    expect(allowed.code, allowed.stderr).toBe(0);
  }, 60_000);
  afterAll(async () => server?.stop());

  it('the demo runner\'s package holds its release approval, and per kind every entry the log has about it', async () => {
    const exp = await evident(['export', 'artifact', RUNNER, '-o', file], env);
    expect(exp.code, exp.stderr).toBe(0);
    const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { entries: { index: number; entry: string }[] };
    const inPackage: Entry[] = pkg.entries.map((x) => ({ index: x.index, e: JSON.parse(x.entry) }));

    const approvals = inPackage.filter((x) => x.e.type === 'attestation.reported' && x.e.attestation_type === 'approval');
    expect(approvals.map((x) => x.e.attestation)).toContain('release-approval');

    const all: Entry[] = [];
    for (;;) {
      const page = await evident(['log', 'entries', '--start', String(all.length), '--output', 'json'], env);
      expect(page.code, page.stderr).toBe(0);
      const items = JSON.parse(page.stdout) as { index: number; entry: string }[];
      if (items.length === 0) break;
      all.push(...items.map((x) => ({ index: x.index, e: JSON.parse(x.entry) })));
    }
    const size = Number((await evident(['log', 'checkpoint'], env)).stdout.split('\n')[1]);
    expect(all).toHaveLength(size);

    const expected = expectedByKind(all, RUNNER);
    const got: Record<string, number[]> = {};
    for (const kind of Object.keys(expected)) got[kind] = inPackage.filter((x) => x.e.type === kind).map((x) => x.index);
    expect(got).toEqual(expected);
    // Nothing else, and every kind the demo has about the runner is there.
    expect(pkg.entries.length).toBe(Object.values(expected).flat().length);
    for (const kind of ['artifact.reported', 'attestation.reported', 'flow.created', 'trail.begun', 'snapshot.created', 'deployment.expected',
      'artifact.allowed', 'environment.created', 'policy.attached', 'policy.created']) {
      expect(expected[kind]!.length, kind).toBeGreaterThan(0);
    }

    const verified = await evident(['verify', 'package', file, '--key', (await evident(['log', 'key'], env)).stdout.trim()], env);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    const online = await evident(['verify', 'artifact', RUNNER], env);
    expect(online.code, online.stderr).toBe(0);
    expect(online.stdout).toContain(`[OK] All ${pkg.entries.length} entries are included in the checkpoint`);
  }, 60_000);
});
