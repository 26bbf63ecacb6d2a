import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evident, startServerProcess, type ServerProcess } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';

// Issue #17 item 1, "done when": deleting any single entry from a package, or omitting the newest one, makes
// verify package exit 1 naming what is missing; a package exported before a later attestation still verifies
// as complete as of its checkpoint. Through the real CLI and server (docs/log.md, "Complete packages").

const FP = 'a1'.repeat(32);
const OTHER = 'b2'.repeat(32);

describe('complete packages: subject map proof and prev chains (issue #17)', () => {
  let server: ServerProcess;
  let env: Record<string, string>;
  const dir = tempDir('evident-chain-');
  const offline = { HOME: tempDir('evident-offline-') };

  async function api(url: string, body: unknown): Promise<void> {
    const res = await fetch(`${server.url}/api/v1/orgs/default${url}`, {
      method: 'POST', headers: { authorization: `Bearer ${server.token!}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    expect(res.ok, `${url}: ${await res.clone().text()}`).toBe(true);
  }

  const attest = (name: string, fingerprint?: string) =>
    api('/flows/app/trails/t1/attestations/generic', { name, compliant: true, ...(fingerprint ? { fingerprint } : {}) });

  async function exportTo(name: string, args: string[]): Promise<{ file: string; pkg: { entries: { index: number; entry: string }[] } & Record<string, unknown> }> {
    const file = path.join(dir, name);
    const res = await evident(['export', ...args, '-o', file, '--key', server.verifierKey], env);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    return { file, pkg: JSON.parse(fs.readFileSync(file, 'utf8')) };
  }

  async function verify(pkg: unknown, name: string): Promise<{ code: number; out: string }> {
    const file = path.join(dir, name);
    fs.writeFileSync(file, JSON.stringify(pkg));
    const res = await evident(['verify', 'package', file, '--key', server.verifierKey, '--offline'], offline);
    return { code: res.code, out: res.stdout + res.stderr };
  }

  beforeAll(async () => {
    server = await startServerProcess(['--data-dir', tempDir()], { EVIDENT_NO_DEMO: '1' });
    env = { HOME: tempDir('evident-home-'), EVIDENT_HOST: server.url, EVIDENT_ORG: 'default', EVIDENT_API_TOKEN: server.token! };
    await api('/flows', { name: 'app' });
    await api('/flows/app/trails', { name: 't1' });
    await api('/flows/app/trails/t1/artifacts', { name: 'app', fingerprint: FP });
    await attest('lint');
    await attest('unit', FP);
    await api('/flows/app/trails/t1/artifacts', { name: 'lib', fingerprint: OTHER });
    await attest('scan', FP);
    await api('/environments', { name: 'prod', type: 'server' });
    await api('/environments/prod/expectations', { fingerprint: FP });
  }, 120_000);
  afterAll(async () => server?.stop());

  it('a trail package is complete; deleting any single entry, or the newest, fails naming the missing entry', async () => {
    const { file, pkg } = await exportTo('trail.json', ['trail', 't1', '--flow', 'app']);
    expect(pkg.entries.map((e) => JSON.parse(e.entry).type)).toEqual([
      'trail.begun', 'artifact.reported', 'attestation.reported', 'attestation.reported', 'artifact.reported', 'attestation.reported',
    ]);
    const ok = await evident(['verify', 'package', file, '--key', server.verifierKey, '--offline'], offline);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/\[OK\] Complete as of checkpoint size \d+: the map proves entry \d+ is the newest about trail app\/t1, and the package holds all 6 entries of its chain back to the first/);
    const newest = pkg.entries[pkg.entries.length - 1]!.index;
    for (let i = 0; i < pkg.entries.length; i++) {
      const copy = structuredClone(pkg);
      const [gone] = copy.entries.splice(i, 1);
      const res = await verify(copy, `trail-without-${gone!.index}.json`);
      expect(res.code, res.out).toBe(1);
      expect(res.out).toContain(`[FAIL] Incomplete: log entry ${gone!.index}`);
      expect(res.out).toContain(gone!.index === newest ? 'the newest about trail app/t1' : 'is missing (entry');
    }
  }, 300_000);

  it('an artifact package holds its chain; deleting any entry of it, or the newest, fails', async () => {
    const { pkg } = await exportTo('artifact.json', ['artifact', FP]);
    const chain = pkg.entries.filter((e) => JSON.stringify(JSON.parse(e.entry)).includes(FP) && JSON.parse(e.entry).type !== 'snapshot.created');
    expect(chain.map((e) => JSON.parse(e.entry).type)).toEqual(['artifact.reported', 'attestation.reported', 'attestation.reported', 'deployment.expected']);
    expect((await verify(pkg, 'artifact-ok.json')).code).toBe(0);
    for (const gone of chain) {
      const copy = structuredClone(pkg);
      copy.entries = copy.entries.filter((e) => e.index !== gone.index);
      const res = await verify(copy, `artifact-without-${gone.index}.json`);
      expect(res.code, res.out).toBe(1);
      expect(res.out).toContain(`log entry ${gone.index}`);
    }
    // Without its map proof, or with another subject's, a package cannot claim completeness.
    const bare = structuredClone(pkg);
    delete bare.map_proof;
    expect((await verify(bare, 'no-proof.json')).out).toContain('has no map proof');
    const forged = structuredClone(pkg) as unknown as { map_proof: { proof: { leaf: { index: number } } } };
    forged.map_proof.proof.leaf.index -= 1;
    const res = await verify(forged, 'forged-proof.json');
    expect(res.code).toBe(1);
    expect(res.out).toContain('does not lead to the map root');
  }, 300_000);

  it('an environment package, and a package exported before a later attestation, stay complete as of their checkpoint', async () => {
    const envPkg = await exportTo('prod.json', ['environment', 'prod']);
    expect(envPkg.pkg.entries.map((e) => JSON.parse(e.entry).type)).toEqual(['environment.created', 'deployment.expected']);
    expect((await verify(envPkg.pkg, 'prod-ok.json')).code).toBe(0);
    const before = await exportTo('trail-before.json', ['trail', 't1', '--flow', 'app']);
    await attest('later', FP);
    const after = await exportTo('trail-after.json', ['trail', 't1', '--flow', 'app']);
    expect(after.pkg.entries.length).toBe(before.pkg.entries.length + 1);
    const old = await verify(before.pkg, 'trail-before-check.json');
    expect(old.code, old.out).toBe(0);
    expect(old.out).toContain('[OK] Complete as of checkpoint size');
    // The newer package without the newest entry is incomplete: its checkpoint's map names that entry.
    const cut = structuredClone(after.pkg);
    cut.entries.pop();
    const res = await verify(cut, 'trail-after-cut.json');
    expect(res.code).toBe(1);
    expect(res.out).toMatch(/log entry \d+, the newest about trail app\/t1 at checkpoint size \d+ \(the map proves it\), is missing/);
  }, 300_000);
});
