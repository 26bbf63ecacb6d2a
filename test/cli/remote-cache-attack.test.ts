import { generateKeyPairSync, sign } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheEntrySigningBytes, ed25519InTotoKey, inTotoKeyId } from '../../src/formats/index.js';
import { evident, startServerProcess, type ServerProcess } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';

// Issue 14 finding 2 (reliability report F5), as a real attack: a server process; an attacker holding a
// member token, who builds the same repository to learn the cache keys and knows the genuine producer's
// public key; the genuine producer P; a consumer C that trusts only P. The attacker tries to occupy P's
// slot (forged signature, or its own signature under P's key id), then stores entries of 21 producers of
// its own first. P must still store its entry (201), and C must get remote hits.

const YAML = `version: "0.1"
name: attack
steps:
  build: { run: "mkdir -p out && printf app > out/app.txt", inputs: [src/], outputs: [out/] }
  test: { run: "cat out/app.txt > report.txt", needs: [build], inputs: [out/app.txt], outputs: [report.txt] }
`;

function checkout(): string {
  const dir = tempDir('evident-attack-');
  fs.writeFileSync(path.join(dir, 'attest.yaml'), YAML);
  fs.mkdirSync(path.join(dir, 'src'));
  fs.writeFileSync(path.join(dir, 'src', 'main.c'), 'int main;');
  return dir;
}

function randomProducer() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const hex = publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('hex');
  return { keyId: inTotoKeyId(ed25519InTotoKey(hex)), publicKey: `ed25519:${hex}`, privateKey };
}

describe('remote cache: a member token cannot keep a trusted producer out', () => {
  let server: ServerProcess;
  let member: string;
  let home: string;
  beforeAll(async () => {
    server = await startServerProcess(['--data-dir', tempDir()]);
    home = tempDir('evident-home-');
    const res = await fetch(`${server.url}/api/v1/orgs/default/tokens`, {
      method: 'POST', headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'attacker', role: 'member' }),
    });
    expect(res.status).toBe(201);
    member = ((await res.json()) as { secret: string }).secret;
  }, 60_000);
  afterAll(async () => server?.stop());

  it('forged and impersonating entries are refused (422); 21 other producers do not hide P; C gets remote hits', async () => {
    const envAs = (token: string) => ({ HOME: home, EVIDENT_HOST: server.url, EVIDENT_ORG: 'default', EVIDENT_API_TOKEN: token });
    // The attacker builds the public repository with its own key: it now knows both cache keys, and the
    // objects are in the vault.
    const x = checkout();
    const built = await evident(['run', '-f', path.join(x, 'attest.yaml'), '--remote-cache', server.url], envAs(member));
    expect(built.code, built.stderr).toBe(0);
    const keys = fs.readdirSync(path.join(x, '.evident/cache/metadata/entries')).map((f) => f.slice(0, 64));
    expect(keys).toHaveLength(2);
    const entryOf = async (key: string) => {
      const res = await fetch(`${server.url}/api/v1/orgs/default/cache/entries/${key}`, { headers: { authorization: `Bearer ${member}` } });
      return ((await res.json()) as { entries: { entry: Record<string, unknown> }[] }).entries[0]!.entry;
    };

    // P's public key is public.
    const a = checkout();
    expect((await evident(['keys', 'generate', '--name', 'p', '--workspace', a], envAs(server.token!))).code).toBe(0);
    const pPublic = fs.readFileSync(path.join(a, '.evident/keys/public.key'), 'utf8').trim();
    const pKeyId = inTotoKeyId(ed25519InTotoKey(pPublic.slice('ed25519:'.length)));

    const put = (key: string, body: unknown) => fetch(`${server.url}/api/v1/orgs/default/cache/entries/${key}`, {
      method: 'PUT', headers: { authorization: `Bearer ${member}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    for (const key of keys) {
      const { signature: _s, producer: _p, ...body } = await entryOf(key);
      const squat = { ...body, producer: { key_id: pKeyId, public_key: pPublic }, signature: Buffer.alloc(64, 7).toString('base64') };
      const forged = await put(key, squat);
      expect(forged.status).toBe(422);
      const mine = randomProducer();
      const underP = { ...body, producer: { key_id: pKeyId, public_key: mine.publicKey } };
      expect((await put(key, { ...underP, signature: sign(null, cacheEntrySigningBytes(underP), mine.privateKey).toString('base64') })).status).toBe(422);
      for (let i = 0; i < 21; i++) {
        const junk = randomProducer();
        const signed = { ...body, producer: { key_id: junk.keyId, public_key: junk.publicKey } };
        expect((await put(key, { ...signed, signature: sign(null, cacheEntrySigningBytes(signed), junk.privateKey).toString('base64') })).status).toBe(201);
      }
    }

    // The genuine producer runs: its entries are stored.
    const produced = await evident(['run', '-f', path.join(a, 'attest.yaml'), '--remote-cache', server.url], envAs(server.token!));
    expect(produced.code, produced.stderr).toBe(0);
    expect(produced.stderr).not.toContain('not uploaded');
    for (const key of keys) {
      const res = await fetch(`${server.url}/api/v1/orgs/default/cache/entries/${key}?key_ids=${pKeyId}`, { headers: { authorization: `Bearer ${member}` } });
      expect(res.status).toBe(200);
      const entries = ((await res.json()) as { entries: { entry: { producer: { key_id: string } } }[] }).entries;
      expect(entries.map((e) => e.entry.producer.key_id)).toEqual([pKeyId]);
    }

    // The consumer trusts only P: remote hits, not misses.
    const c = checkout();
    expect((await evident(['keys', 'trust', path.join(a, '.evident/keys/public.key'), '--name', 'p', '--workspace', c], envAs(member))).code).toBe(0);
    const consumed = await evident(['run', '-f', path.join(c, 'attest.yaml'), '--remote-cache', server.url], envAs(member));
    expect(consumed.code, consumed.stderr).toBe(0);
    expect(consumed.stdout).toMatch(/^\[OK\] build \([\d.]+s\) - remote cache hit\n\[OK\] test \([\d.]+s\) - remote cache hit\n$/);
  }, 120_000);
});
