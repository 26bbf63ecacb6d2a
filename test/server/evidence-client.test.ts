import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvidentClient, evidenceDestination } from '../../src/client/index.js';
import type { FilesystemBlobStore } from '../../src/store/index.js';
import { testApp, type TestApp } from '../helpers/app.js';
import { tempDir } from '../helpers/engines.js';

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const LIMIT = 1024 * 1024;

/** Through a real socket: the client streams files with fetch + FormData and verifies what it downloads. */
describe('EvidentClient and the evidence vault', () => {
  let t: TestApp;
  let client: EvidentClient;
  let work: string;
  beforeAll(async () => {
    t = await testApp({ evidence: { maxBytes: LIMIT } });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.server.address() as AddressInfo;
    client = new EvidentClient({ host: `http://127.0.0.1:${port}`, org: 'acme', apiToken: t.adminToken });
    work = tempDir('evident-evidence-');
  });
  afterAll(async () => {
    await t.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('uploads a file and a directory (each file named by its relative path) and downloads them verified', async () => {
    const report = randomBytes(300_000);
    fs.writeFileSync(path.join(work, 'report.bin'), report);
    const dir = path.join(work, 'junit');
    fs.mkdirSync(path.join(dir, 'nested'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'b.xml'), '<b/>');
    fs.writeFileSync(path.join(dir, 'nested', 'a.xml'), '<a/>');
    fs.symlinkSync(path.join(dir, 'b.xml'), path.join(dir, 'link.xml'));
    fs.symlinkSync(dir, path.join(dir, 'loop')); // a link to a directory is skipped, so no endless walk
    const items = await client.uploadEvidence([{ path: path.join(work, 'report.bin') }, { path: dir }, { path: path.join(dir, 'b.xml'), name: 'renamed.xml' }]);
    expect(items).toEqual([
      { digest: sha256(report), size: report.length, name: 'report.bin' },
      { digest: sha256('<b/>'), size: 4, name: 'junit/b.xml' },
      { digest: sha256('<b/>'), size: 4, name: 'junit/link.xml' },
      { digest: sha256('<a/>'), size: 4, name: 'junit/nested/a.xml' },
      { digest: sha256('<b/>'), size: 4, name: 'renamed.xml' },
    ]);
    const out = path.join(work, 'out');
    const dest = evidenceDestination(out, items[3]!.name, items[3]!.digest);
    expect(dest).toBe(path.join(out, 'junit', 'nested', 'a.xml'));
    expect(await client.downloadEvidence(items[3]!.digest, dest, { dir: out })).toEqual({ digest: sha256('<a/>'), size: 4, path: dest });
    expect(fs.readFileSync(dest, 'utf8')).toBe('<a/>');
    const big = path.join(out, 'report.bin');
    await client.downloadEvidence(sha256(report), big);
    expect(fs.readFileSync(big).equals(report)).toBe(true);
  });

  it('reports an oversize file as PAYLOAD_TOO_LARGE, and an unknown digest as NOT_FOUND', async () => {
    // Far over the limit: the server answers before the client has sent it all, and must drain the rest
    // (else that connection stays stuck, and closing the server in afterAll hangs).
    fs.writeFileSync(path.join(work, 'huge.bin'), randomBytes(64 * LIMIT));
    await expect(client.uploadEvidence([{ path: path.join(work, 'huge.bin') }])).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: expect.stringMatching(/huge\.bin.*1 MiB/) });
    fs.writeFileSync(path.join(work, 'edge.bin'), randomBytes(LIMIT));
    expect(await client.uploadEvidence([{ path: path.join(work, 'edge.bin') }])).toHaveLength(1);
    await expect(client.downloadEvidence('d'.repeat(64), path.join(work, 'x'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(fs.existsSync(path.join(work, 'x'))).toBe(false);
    await expect(client.uploadEvidence([{ path: path.join(work, 'missing') }])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('never writes outside the destination directory', async () => {
    const out = path.join(work, 'safe');
    expect(evidenceDestination(out, '../../etc/passwd', 'a'.repeat(64))).toBe(path.join(out, 'etc', 'passwd'));
    expect(evidenceDestination(out, null, 'a'.repeat(64))).toBe(path.join(out, `sha256-${'a'.repeat(64)}`));
    const [item] = await client.uploadEvidence([{ path: path.join(work, 'report.bin') }]);
    await expect(client.downloadEvidence(item!.digest, path.join(work, 'elsewhere.bin'), { dir: out })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    fs.mkdirSync(out, { recursive: true });
    fs.symlinkSync(work, path.join(out, 'escape'));
    await expect(client.downloadEvidence(item!.digest, path.join(out, 'escape', 'x.bin'), { dir: out })).rejects.toThrow(/symbolic link/);
    expect(fs.existsSync(path.join(work, 'x.bin'))).toBe(false);
  });

  it('refuses bytes that do not match the digest, from a tampered store or a lying server, leaving nothing', async () => {
    const data = randomBytes(200_000);
    fs.writeFileSync(path.join(work, 'scan.sarif'), data);
    const [item] = await client.uploadEvidence([{ path: path.join(work, 'scan.sarif') }]);
    const root = (t.store.blobs as FilesystemBlobStore).root;
    const file = path.join(root, item!.digest.slice(0, 2), item!.digest.slice(2));
    fs.chmodSync(file, 0o600);
    const forged = Buffer.from(data);
    forged[150_000] = forged[150_000]! ^ 0xff;
    fs.writeFileSync(file, forged);
    const out = tempDir('evident-download-');
    // The server stops short of the last chunk, so the client sees the download break off.
    await expect(client.downloadEvidence(item!.digest, path.join(out, 'scan.sarif'))).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/broke off/) });
    expect(fs.readdirSync(out)).toEqual([]);

    const liar = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/octet-stream' }).end('not the evidence'));
    await new Promise<void>((resolve) => liar.listen(0, '127.0.0.1', resolve));
    try {
      const lied = new EvidentClient({ host: `http://127.0.0.1:${(liar.address() as AddressInfo).port}`, org: 'acme', apiToken: 'evd_x' });
      await expect(lied.downloadEvidence(sha256('the evidence'), path.join(out, 'e.txt'))).rejects.toMatchObject({ code: 'VERIFICATION_FAILED' });
      expect(fs.readdirSync(out)).toEqual([]);
    } finally {
      liar.close();
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
