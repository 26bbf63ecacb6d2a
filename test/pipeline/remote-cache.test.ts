import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  generateWorkspaceKey, signRemoteEntry, trustPublicKey, trustedKeys, verifyRemoteEntry,
  type KeySigner, type RemoteCacheOptions, type RemoteCacheStore, type RemoteEntry,
} from '../../src/pipeline/index.js';
import { isExec, read, run, workspace } from './runner-helpers.js';

// The remote tier against an in-memory server: what is uploaded, what is trusted, what is refused.

class FakeServer implements RemoteCacheStore {
  entriesByKey = new Map<string, unknown[]>();
  objects = new Map<string, Uint8Array>();
  down = false;
  private check() {
    if (this.down) throw new Error('cannot reach http://127.0.0.1:9: ECONNREFUSED');
  }
  async entries(key: string) {
    this.check();
    return this.entriesByKey.get(key) ?? [];
  }
  async putEntry(entry: RemoteEntry) {
    this.check();
    const list = this.entriesByKey.get(entry.key) ?? [];
    if (!list.some((e) => (e as RemoteEntry).producer.key_id === entry.producer.key_id)) list.push(JSON.parse(JSON.stringify(entry)));
    this.entriesByKey.set(entry.key, list);
  }
  async hasObjects(digests: readonly string[]) {
    this.check();
    return new Set(digests.filter((d) => this.objects.has(d)));
  }
  async getObject(digest: string) {
    this.check();
    const bytes = this.objects.get(digest);
    if (!bytes) throw new Error('404');
    return bytes;
  }
  async putObjects(files: readonly { abs: string }[]) {
    this.check();
    return files.map((f) => {
      const bytes = fs.readFileSync(f.abs);
      const digest = createHash('sha256').update(bytes).digest('hex');
      this.objects.set(digest, bytes);
      return digest;
    });
  }
}

const YAML = `version: "0.1"
name: demo
steps:
  build:
    run: "mkdir -p out && printf 'app' > out/app.txt && printf '#!/bin/sh\\necho hi\\n' > out/run.sh && chmod +x out/run.sh && echo built"
    inputs: [src/]
    outputs: [out/]
  test:
    run: "cat out/app.txt > report.txt"
    needs: [build]
    outputs: [report.txt]
`;

function remote(server: FakeServer, dir: string, signer?: KeySigner): RemoteCacheOptions {
  return { store: server, trusted: trustedKeys(dir), label: 'fake', ...(signer ? { signer } : {}) };
}

async function producer(server: FakeServer) {
  const a = workspace(YAML, { 'src/main.c': 'int main;' });
  const key = generateWorkspaceKey(a, { name: 'ci-a' });
  const first = await run(a, { remote: remote(server, a, key) });
  expect(first.record.ok).toBe(true);
  return { a, key };
}

describe('remote cache', () => {
  it('uploads after a run; a second checkout that trusts the key restores everything from it', async () => {
    const server = new FakeServer();
    const { a, key } = await producer(server);
    expect(server.entriesByKey.size).toBe(2);
    const b = workspace(YAML, { 'src/main.c': 'int main;' });
    trustPublicKey(b, key, 'ci-a');
    const second = await run(b, { remote: remote(server, b) });
    expect(second.detail).toEqual({ build: 'remote cache hit', test: 'remote cache hit' });
    expect(second.lines[0]).toMatch(/^\[OK\] build \(\d+\.\ds\) - remote cache hit$/);
    for (const f of ['out/app.txt', 'out/run.sh', 'report.txt']) expect(read(b, f)).toBe(read(a, f));
    expect(isExec(b, 'out/run.sh')).toBe(true);
    expect(isExec(b, 'out/app.txt')).toBe(false);
    expect(read(b, '.evident/logs/build.log')).toBe('built\n');
    // Adopted locally: the next run is a plain local hit, without asking the server.
    server.down = true;
    const third = await run(b, { remote: remote(server, b) });
    expect(third.detail).toEqual({ build: 'cache hit', test: 'cache hit' });
    expect(third.warnings).toEqual([]);
  });

  it('an entry signed by an untrusted key is a loud miss, and the step runs', async () => {
    const server = new FakeServer();
    const { key } = await producer(server);
    const b = workspace(YAML, { 'src/main.c': 'int main;' });
    const ran = await run(b, { remote: remote(server, b) });
    expect(ran.detail.build).toBe(`cache miss (remote entry signed by untrusted key ${key.keyId.slice(0, 8)})`);
    expect(ran.warnings.some((w) => w.includes('untrusted key'))).toBe(true);
    expect(read(b, 'out/app.txt')).toBe('app');
  });

  it('an unsigned or re-signed-by-someone-else entry is never a hit', async () => {
    const server = new FakeServer();
    const { a, key } = await producer(server);
    const [entry] = [...server.entriesByKey.values()][0] as RemoteEntry[];
    const trusted = trustedKeys(a);
    expect(verifyRemoteEntry(entry, entry!.key, trusted).ok).toBe(true);
    expect(verifyRemoteEntry({ ...entry, signature: '' }, entry!.key, trusted)).toEqual({ ok: false, reason: 'remote entry is unsigned' });
    const forged = { ...entry!, outputs: entry!.outputs.map((o) => ({ ...o, executable: !o.executable })) };
    expect(verifyRemoteEntry(forged, entry!.key, trusted)).toEqual({ ok: false, reason: `remote entry has a bad signature (key ${key.keyId.slice(0, 8)})` });
    const other = workspace(YAML);
    const mallory = generateWorkspaceKey(other, { name: 'mallory' });
    const resigned = signRemoteEntry({ v: 1, key: entry!.key, step: entry!.step, created_at: '', duration_secs: 0, files: forged.outputs, log: entry!.log }, mallory);
    expect(verifyRemoteEntry(resigned, entry!.key, trusted)).toEqual({ ok: false, reason: `remote entry signed by untrusted key ${mallory.keyId.slice(0, 8)}` });
  });

  it('a tampered object on the server is a loud miss; nothing of it is restored', async () => {
    const server = new FakeServer();
    const { key } = await producer(server);
    const app = createHash('sha256').update('app').digest('hex');
    server.objects.set(app, new TextEncoder().encode('evil'));
    const b = workspace(YAML, { 'src/main.c': 'int main;' });
    trustPublicKey(b, key, 'ci-a');
    const ran = await run(b, { remote: remote(server, b) });
    expect(ran.detail.build).toMatch(/^cache miss \(remote object [0-9a-f]{12} is corrupted/);
    expect(read(b, 'out/app.txt')).toBe('app');
    expect(ran.record.ok).toBe(true);
  });

  it('an unreachable server is a warning; the run proceeds locally', async () => {
    const server = new FakeServer();
    server.down = true;
    const b = workspace(YAML, { 'src/main.c': 'int main;' });
    const ran = await run(b, { remote: remote(server, b, generateWorkspaceKey(b)) });
    expect(ran.record.ok).toBe(true);
    expect(ran.detail.build).toBe('cache miss');
    expect(ran.warnings).toEqual([expect.stringContaining('remote cache fake not used for the rest of this run: cannot reach')]);
  });
});
