import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evident, startServerProcess, type ServerProcess } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';

// `evident run --remote-cache` and `--report` against a real server, from two checkouts.

const YAML = `version: "0.1"
name: remote-demo
steps:
  build:
    run: "mkdir -p out && printf 'app' > out/app.txt && printf '#!/bin/sh\\n' > out/run.sh && chmod +x out/run.sh"
    inputs: [src/]
    outputs: [out/]
  test:
    run: "cat out/app.txt > report.txt"
    needs: [build]
    outputs: [report.txt]
`;
const SHA = 'a'.repeat(40);

function checkout(): string {
  const dir = tempDir('evident-checkout-');
  fs.writeFileSync(path.join(dir, 'attest.yaml'), YAML);
  fs.mkdirSync(path.join(dir, 'src'));
  fs.writeFileSync(path.join(dir, 'src', 'main.c'), 'int main;');
  return dir;
}

describe('evident run --remote-cache / --report', () => {
  let server: ServerProcess;
  let env: Record<string, string>;
  beforeAll(async () => {
    server = await startServerProcess(['--data-dir', tempDir()]);
    env = { HOME: tempDir('evident-home-'), EVIDENT_HOST: server.url, EVIDENT_ORG: 'default', EVIDENT_API_TOKEN: server.token! };
  }, 60_000);
  afterAll(async () => server?.stop());

  it('a second checkout trusting the first one\'s key is all remote hits; without trust, loud misses; unreachable, a warning', async () => {
    const a = checkout();
    const first = await evident(['run', '-f', path.join(a, 'attest.yaml'), '--remote-cache', server.url], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).not.toContain('not uploaded');

    const untrusting = checkout();
    const loud = await evident(['run', '-f', path.join(untrusting, 'attest.yaml'), '--remote-cache', server.url], env);
    expect(loud.code, loud.stderr).toBe(0);
    expect(loud.stdout).toMatch(/\[OK\] build \([\d.]+s\) - cache miss \(remote entry signed by untrusted key [0-9a-f]{8}\)/);

    const b = checkout();
    const trust = await evident(['keys', 'trust', path.join(a, '.evident', 'keys', 'public.key'), '--name', 'ci-a', '--workspace', b], env);
    expect(trust.code, trust.stderr).toBe(0);
    // A dry run says what the run will take from the server, and downloads and writes nothing.
    const dry = await evident(['run', '-f', path.join(b, 'attest.yaml'), '--remote-cache', server.url, '--dry=json'], env);
    expect(dry.code, dry.stderr).toBe(0);
    const plan = JSON.parse(dry.stdout) as { remote_cache: string; steps: { name: string; cache: string; provisional?: boolean }[] };
    expect(plan.steps.map((s) => [s.name, s.cache, s.provisional ?? false])).toEqual([['build', 'remote', false], ['test', 'remote', false]]);
    expect(plan.remote_cache).toBe(`${server.url} (org default)`);
    expect(fs.existsSync(path.join(b, 'out'))).toBe(false);
    expect(fs.existsSync(path.join(b, '.evident', 'keys', 'private.key'))).toBe(false);
    const dryUntrusting = await evident(['run', '-f', path.join(untrusting, 'attest.yaml'), '--remote-cache', server.url, '--dry'], env);
    expect(dryUntrusting.stdout).toMatch(/^build +1 +hit/m);
    const fresh = checkout();
    const dryFresh = await evident(['run', '-f', path.join(fresh, 'attest.yaml'), '--remote-cache', server.url, '--dry'], env);
    expect(dryFresh.stdout).toMatch(/^build +1 +miss .*\(remote: remote entry signed by untrusted key [0-9a-f]{8}\)/m);
    const second = await evident(['run', '-f', path.join(b, 'attest.yaml'), '--remote-cache', server.url], env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/^\[OK\] build \([\d.]+s\) - remote cache hit\n\[OK\] test \([\d.]+s\) - remote cache hit\n$/);
    for (const f of ['out/app.txt', 'out/run.sh', 'report.txt']) expect(fs.readFileSync(path.join(b, f))).toEqual(fs.readFileSync(path.join(a, f)));
    expect(fs.statSync(path.join(b, 'out/run.sh')).mode & 0o111).not.toBe(0);
    expect(fs.statSync(path.join(b, 'out/app.txt')).mode & 0o111).toBe(0);

    const c = checkout();
    const down = await evident(['run', '-f', path.join(c, 'attest.yaml'), '--remote-cache', 'http://127.0.0.1:9'], env);
    expect(down.code, down.stderr).toBe(0);
    expect(down.stderr).toContain('warning: remote cache http://127.0.0.1:9 (org default) not used for the rest of this run: cannot reach');
    expect(down.stdout).toContain('[OK] build');
  }, 120_000);

  it('takes the remote cache from attest.yaml (cache.remote); --remote-cache wins over it', async () => {
    const a = checkout();
    const withRemote = (dir: string, url: string) => fs.writeFileSync(path.join(dir, 'attest.yaml'), YAML.replace('steps:', `cache:\n  remote: "${url}"\nsteps:`));
    withRemote(a, server.url);
    const first = await evident(['run', '-f', path.join(a, 'attest.yaml')], env);
    expect(first.code, first.stderr).toBe(0);
    const b = checkout();
    withRemote(b, server.url);
    expect((await evident(['keys', 'trust', path.join(a, '.evident', 'keys', 'public.key'), '--name', 'ci-a', '--workspace', b], env)).code).toBe(0);
    const second = await evident(['run', '-f', path.join(b, 'attest.yaml')], env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/^\[OK\] build \([\d.]+s\) - remote cache hit\n\[OK\] test \([\d.]+s\) - remote cache hit\n$/);
    // The flag wins: attest.yaml names the live server, the flag an unreachable one.
    const c = checkout();
    withRemote(c, server.url);
    const flag = await evident(['run', '-f', path.join(c, 'attest.yaml'), '--remote-cache', 'http://127.0.0.1:9'], env);
    expect(flag.code, flag.stderr).toBe(0);
    expect(flag.stderr).toContain('remote cache http://127.0.0.1:9 (org default) not used');
    expect(flag.stdout).not.toContain('remote cache hit');
  }, 120_000);

  it('--report records flow, trail, artifacts with provenance and step attestations; --dry-run sends nothing', async () => {
    const dir = checkout();
    const dry = await evident(['run', '-f', path.join(dir, 'attest.yaml'), '--report', '--commit', SHA, '--dry-run'], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('would report to');
    expect((await evident(['get', 'flow', 'remote-demo'], env)).code).not.toBe(0);

    const ran = await evident(['run', '-f', path.join(dir, 'attest.yaml'), '--report', '--commit', SHA, '--output', 'json'], env);
    expect(ran.code, ran.stderr).toBe(0);
    const summary = JSON.parse(ran.stdout);
    const trail = JSON.parse((await evident(['get', 'trail', SHA, '--flow', 'remote-demo', '--output', 'json'], env)).stdout);
    const outputs = summary.steps.flatMap((s: { outputs: { path: string; sha256: string }[] }) => s.outputs);
    expect(outputs).toHaveLength(3);
    // The declared directory out/ is one `dir` artifact with Kosli's directory fingerprint; report.txt a file.
    const fingerprinted = await evident(['fingerprint', path.join(dir, 'out'), '-t', 'dir'], env);
    expect(fingerprinted.code, fingerprinted.stderr).toBe(0);
    const dirFp = fingerprinted.stdout.trim().split(/\s+/).find((w) => /^[0-9a-f]{64}$/.test(w))!;
    const reportFp = outputs.find((o: { path: string }) => o.path === 'report.txt').sha256;
    const text = JSON.stringify(trail);
    expect(text).toContain(dirFp);
    expect(text).toContain(reportFp);
    expect(text).not.toContain('out_app_txt');
    // Each artifact's provenance went through `attest provenance`: type provenance, bound by fingerprint.
    const attestations = JSON.parse((await evident(['get', 'attestation', 'out.provenance', '--flow', 'remote-demo', '--trail', SHA, '--output', 'json'], env)).stdout || 'null');
    expect(JSON.stringify(attestations)).toMatch(/"type":"provenance"/);
    expect(JSON.stringify(attestations)).toContain(dirFp);
    expect(text).toMatch(/"build"/);
    expect(text).toContain('cat out/app.txt > report.txt');
    const dirStatement = JSON.parse(fs.readFileSync(path.join(dir, '.evident', 'provenance', 'build', 'out%2F.intoto.json'), 'utf8'));
    const statement = JSON.parse(Buffer.from(dirStatement.payload, 'base64').toString());
    expect(statement.subject).toEqual([{ name: 'out/', digest: { sha256: dirFp } }]);

    const bad = await evident(['run', '-f', path.join(dir, 'attest.yaml'), '--report', '--commit', SHA], { ...env, EVIDENT_HOST: 'http://127.0.0.1:9' });
    expect(bad.code).toBe(3);
    expect(bad.stdout).toContain('[OK] build');
  }, 120_000);
});
