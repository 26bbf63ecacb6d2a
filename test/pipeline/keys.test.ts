import fs from 'node:fs';
import path from 'node:path';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { EvidentError } from '../../src/core/index.js';
import { inTotoKeyId } from '../../src/formats/index.js';
import {
  generateWorkspaceKey, loadSignerFromFile, loadWorkspaceSigner, parsePublicKeyText, readPublicKeyFile, trustPublicKey, trustedKeys,
} from '../../src/pipeline/index.js';
import { evident } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof EvidentError ? err.code : 'not an EvidentError';
  }
  return undefined;
}

describe('workspace keys', () => {
  it('generates private.key (PKCS#8 PEM, 0600), public.key (ed25519:<hex>) and trusts itself', () => {
    const ws = tempDir();
    const key = generateWorkspaceKey(ws, { name: 'ci' });
    const dir = path.join(ws, '.evident', 'keys');
    expect(fs.statSync(path.join(dir, 'private.key')).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(path.join(dir, 'private.key'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(fs.readFileSync(path.join(dir, 'public.key'), 'utf8')).toBe(`ed25519:${key.publicHex}\n`);
    expect(key.keyId).toBe(inTotoKeyId(key.inToto));
    expect(trustedKeys(ws).map((t) => [t.name, t.keyId])).toEqual([['ci', key.keyId]]);
    expect(loadWorkspaceSigner(ws)!.keyId).toBe(key.keyId);
  });

  it('refuses to replace a key without force, and a trusted name taken by another key', () => {
    const ws = tempDir();
    generateWorkspaceKey(ws, { name: 'a' });
    expect(code(() => generateWorkspaceKey(ws, { name: 'b' }))).toBe('CONFLICT');
    expect(code(() => generateWorkspaceKey(ws, { name: 'a', force: true }))).toBe('CONFLICT');
    const rotated = generateWorkspaceKey(ws, { name: 'b', force: true });
    expect(loadWorkspaceSigner(ws)!.keyId).toBe(rotated.keyId);
    expect(trustedKeys(ws).map((t) => t.name)).toEqual(['a', 'b']);
  });

  it('refuses a group- or world-readable private key with a clear error', () => {
    const ws = tempDir();
    generateWorkspaceKey(ws, { name: 'k' });
    const file = path.join(ws, '.evident', 'keys', 'private.key');
    for (const mode of [0o644, 0o640, 0o604, 0o620]) {
      fs.chmodSync(file, mode);
      expect(() => loadWorkspaceSigner(ws)).toThrow(/accessible by group or others.*chmod 600/);
    }
    fs.chmodSync(file, 0o400);
    expect(loadWorkspaceSigner(ws)).toBeDefined();
  });

  it('reads public keys as ed25519:<hex>, securesystemslib JSON and PEM, all to one key id', () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const hex = publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('hex');
    const fromText = parsePublicKeyText(`ed25519:${hex}\n`);
    const fromJson = parsePublicKeyText(JSON.stringify({ keytype: 'ed25519', scheme: 'ed25519', keyval: { public: hex } }));
    const fromPem = parsePublicKeyText(publicKey.export({ format: 'pem', type: 'spki' }).toString());
    expect(new Set([fromText.keyId, fromJson.keyId, fromPem.keyId]).size).toBe(1);
    expect(readPublicKeyFile('test/vectors/in-toto/owner.pub').keyId).toBe('4e30088e97347509f7ea23482ac5965798d711070c5f7af173ab0eccb6ae07f0');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
    for (const bad of [rsa, 'ed25519:ABC', 'ed25519:' + 'a'.repeat(63), '{"keytype":"rsa"}', '{', 'hello']) {
      expect(code(() => parsePublicKeyText(bad)), bad).toBe('INVALID_ARGUMENT');
    }
  });

  it('loads an in-toto-keygen style securesystemslib private key and checks its public half', () => {
    const ws = tempDir();
    const { privateKey } = generateKeyPairSync('ed25519');
    const jwk = privateKey.export({ format: 'jwk' });
    const seed = Buffer.from(jwk.d!, 'base64url').toString('hex');
    const pub = Buffer.from(jwk.x!, 'base64url').toString('hex');
    const file = path.join(ws, 'owner');
    fs.writeFileSync(file, JSON.stringify({ keytype: 'ed25519', scheme: 'ed25519', keyval: { public: pub, private: seed } }), { mode: 0o600 });
    expect(loadSignerFromFile(file).publicHex).toBe(pub);
    fs.writeFileSync(file, JSON.stringify({ keytype: 'ed25519', scheme: 'ed25519', keyval: { public: 'ab'.repeat(32), private: seed } }));
    expect(() => loadSignerFromFile(file)).toThrow(/does not belong/);
    expect(code(() => loadSignerFromFile(path.join(ws, 'missing')))).toBe('INVALID_ARGUMENT');
  });

  it('trusting the same key twice is a no-op; another key under a taken name is a conflict; names are checked', () => {
    const ws = tempDir();
    const a = parsePublicKeyText(`ed25519:${'11'.repeat(32)}`);
    const b = parsePublicKeyText(`ed25519:${'22'.repeat(32)}`);
    expect(trustPublicKey(ws, a, 'alice')).toEqual({ name: 'alice', added: true });
    expect(trustPublicKey(ws, a, 'other')).toEqual({ name: 'alice', added: false });
    expect(code(() => trustPublicKey(ws, b, 'alice'))).toBe('CONFLICT');
    for (const bad of ['../x', '.hidden', '', 'a/b', 'x'.repeat(65)]) expect(code(() => trustPublicKey(ws, b, bad)), bad).toBe('INVALID_ARGUMENT');
  });
});

describe('evident keys (CLI)', () => {
  beforeAll(() => {
    expect(fs.existsSync('dist/src/cli/commands/keys.js'), 'run npx tsc -p tsconfig.json first').toBe(true);
  });

  it('generate, list, trust and list --trusted', async () => {
    const ws = tempDir();
    const gen = await evident(['--output', 'json', 'keys', 'generate', '--name', 'ci', '--workspace', ws]);
    expect(gen.code, gen.stderr).toBe(0);
    const key = JSON.parse(gen.stdout);
    expect(key.public_key).toMatch(/^ed25519:[0-9a-f]{64}$/);

    const other = tempDir();
    const otherKey = JSON.parse((await evident(['--output', 'json', 'keys', 'generate', '--name', 'x', '--workspace', other])).stdout);
    const trust = await evident(['keys', 'trust', path.join(other, '.evident', 'keys', 'public.key'), '--name', 'build-server', '--workspace', ws]);
    expect(trust.code, trust.stderr).toBe(0);
    expect(trust.stdout).toContain(`Trusted ${otherKey.key_id} as "build-server"`);

    const list = await evident(['keys', 'list', '--workspace', ws]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/KEY ID\s+NAME\s+TRUSTED\s+WORKSPACE KEY/);
    expect(list.stdout).toMatch(new RegExp(`${key.key_id}\\s+ci\\s+yes\\s+yes`));
    expect(list.stdout).toMatch(new RegExp(`${otherKey.key_id}\\s+build-server\\s+yes`));
    // --pem: each key as SubjectPublicKeyInfo PEM that openssl/Node read back to the same raw key
    const pem = await evident(['keys', 'list', '--pem', '--workspace', ws]);
    expect(pem.code, pem.stderr).toBe(0);
    const blocks = pem.stdout.split(/^# /m).filter(Boolean);
    const raw = (b: string) => createPublicKey(b.slice(b.indexOf('-----BEGIN'))).export({ format: 'der', type: 'spki' }).subarray(12).toString('hex');
    const byTitle = Object.fromEntries(blocks.map((b) => [b.split('\n')[0], `ed25519:${raw(b)}`]));
    expect(byTitle).toEqual({ [`ci (key id ${key.key_id})`]: key.public_key, [`build-server (key id ${otherKey.key_id})`]: otherKey.public_key });

    const again = await evident(['keys', 'generate', '--workspace', ws]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists.*--force/);
  });

  it('--help shows examples and where the keys live', async () => {
    const help = await evident(['keys', 'generate', '--help']);
    expect(help.stdout).toContain('Examples:');
    expect((await evident(['keys', '--help'])).stdout).toContain('.evident/keys/private.key');
  });
});
