import fs from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FilesystemBlobStore } from '../../src/store/index.js';
import { bearer, testApp, type TestApp } from '../helpers/app.js';

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const LIMIT = 64 * 1024;

interface Part { filename?: string; data: Buffer | string; field?: string }

/** A multipart/form-data body written by hand, as any client could send it. */
function form(parts: Part[]): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----evident${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = p.filename === undefined ? `form-data; name="${p.field ?? 'note'}"` : `form-data; name="${p.field ?? 'file'}"; filename="${p.filename}"`;
    const type = p.filename === undefined ? '' : 'Content-Type: application/octet-stream\r\n';
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${type}\r\n`), Buffer.from(p.data), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort();
}

describe('the evidence vault over HTTP', () => {
  let t: TestApp;
  let reporter: string;
  let reader: string;
  let globex: string;
  let root: string;
  beforeAll(async () => {
    t = await testApp({ evidence: { maxBytes: LIMIT } });
    const acme = await t.auth.org('acme');
    reporter = (await t.auth.issue(acme, { name: 'ci', role: 'reporter' })).secret;
    reader = (await t.auth.issue(acme, { name: 'r', role: 'reader' })).secret;
    const { org } = await t.auth.ensureOrg('globex');
    globex = (await t.auth.issue(org, { name: 'g', role: 'member' })).secret;
    root = (t.store.blobs as FilesystemBlobStore).root;
  });
  afterAll(async () => t.close());

  const upload = (parts: Part[], token = reporter, org = 'acme') => {
    const { payload, headers } = form(parts);
    return t.app.inject({ method: 'POST', url: `/api/v1/orgs/${org}/evidence`, headers: { ...bearer(token), ...headers }, payload });
  };
  const download = (digest: string, token = reader, org = 'acme', method: 'GET' | 'HEAD' = 'GET') =>
    t.app.inject({ method, url: `/api/v1/orgs/${org}/evidence/${digest}`, headers: bearer(token) });

  it('uploads files and downloads the same bytes, with digest, length, ETag and a safe file name', async () => {
    const junit = Buffer.from('<testsuite tests="3" failures="0"/>');
    const binary = randomBytes(40_000);
    const res = await upload([{ filename: 'junit.xml', data: junit }, { data: 'ignored field' }, { filename: 'reports/ünïcode (q).bin', data: binary }]);
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({
      items: [
        { digest: sha256(junit), size: junit.length, name: 'junit.xml' },
        { digest: sha256(binary), size: binary.length, name: 'reports/ünïcode (q).bin' },
      ],
    });
    const got = await download(sha256(binary));
    expect(got.statusCode).toBe(200);
    expect(got.rawPayload.equals(binary)).toBe(true);
    expect(got.headers).toMatchObject({
      'content-type': 'application/octet-stream',
      'content-length': String(binary.length),
      etag: `"sha256:${sha256(binary)}"`,
      'x-content-type-options': 'nosniff',
    });
    expect(got.headers['content-disposition']).toBe(`attachment; filename="_n_code _q_.bin"; filename*=UTF-8''%C3%BCn%C3%AFcode%20%28q%29.bin`);
    const head = await download(sha256(junit), reader, 'acme', 'HEAD');
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-length']).toBe(String(junit.length));
    expect(head.headers.etag).toBe(`"sha256:${sha256(junit)}"`);
    expect(head.rawPayload).toHaveLength(0);
    const cached = await t.app.inject({ method: 'GET', url: `/api/v1/orgs/acme/evidence/${sha256(junit)}`, headers: { ...bearer(reader), 'if-none-match': `"sha256:${sha256(junit)}"` } });
    expect(cached.statusCode).toBe(304);
  });

  it('stores the same content once, however often and by whoever it is uploaded', async () => {
    const data = 'same bytes, twice';
    const before = filesUnder(root).length;
    expect((await upload([{ filename: 'a.txt', data }, { filename: 'b.txt', data }])).json().items.map((i: { digest: string }) => i.digest)).toEqual([sha256(data), sha256(data)]);
    expect((await upload([{ filename: 'c.txt', data }], globex, 'globex')).statusCode).toBe(201);
    expect(filesUnder(root).length).toBe(before + 1);
  });

  it('refuses a file over the limit with 413, and records nothing of that upload', async () => {
    const small = randomBytes(100);
    const big = randomBytes(LIMIT + 1);
    const before = filesUnder(root);
    const res = await upload([{ filename: 'small.bin', data: small }, { filename: 'huge.bin', data: big }]);
    expect(res.statusCode).toBe(413);
    expect(res.json().error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: expect.stringMatching(/evidence file "huge\.bin".*limit of 64 KiB.*no file of this upload was recorded/) });
    expect(filesUnder(root).filter((f) => !before.includes(f))).toEqual([`${sha256(small).slice(0, 2)}/${sha256(small).slice(2)}`]);
    expect((await download(sha256(big))).statusCode).toBe(404);
    // The small file's bytes reached the store, but no org was granted them.
    expect((await download(sha256(small))).statusCode).toBe(404);
    // Exactly at the limit is fine.
    expect((await upload([{ filename: 'edge.bin', data: randomBytes(LIMIT) }])).statusCode).toBe(201);
  });

  it("never lets another org's token read this org's evidence, nor tells it whether the bytes exist", async () => {
    const secret = 'acme-only evidence';
    await upload([{ filename: 'secret.txt', data: secret }]);
    expect((await download(sha256(secret), globex)).statusCode).toBe(403);
    const probe = await download(sha256(secret), globex, 'globex');
    const absent = await download('e'.repeat(64), globex, 'globex');
    expect(probe.statusCode).toBe(404);
    expect(absent.statusCode).toBe(404);
    expect(probe.json().error.message.replace(sha256(secret), 'X')).toBe(absent.json().error.message.replace('e'.repeat(64), 'X'));
    expect((await download(sha256(secret), globex, 'globex', 'HEAD')).statusCode).toBe(404);
    expect((await upload([{ filename: 'x', data: 'x' }], globex)).statusCode).toBe(403);
  });

  it('keeps a file name like ../../etc/passwd as metadata only', async () => {
    const data = 'root:x:0:0';
    const before = filesUnder(root);
    const res = await upload([{ filename: '../../etc/passwd', data }, { filename: '..\\..\\win.ini', data: 'w' }, { filename: '', data: 'nameless' }]);
    expect(res.statusCode).toBe(201);
    expect(res.json().items.map((i: { name: string | null }) => i.name)).toEqual(['etc/passwd', 'win.ini', null]);
    const added = filesUnder(root).filter((f) => !before.includes(f));
    expect(added.every((f) => /^[0-9a-f]{2}\/[0-9a-f]{62}$/.test(f))).toBe(true);
    expect((await download(sha256(data))).headers['content-disposition']).toMatch(/^attachment; filename="passwd"/);
    expect((await download(sha256('nameless'))).headers['content-disposition']).toMatch(new RegExp(`filename="sha256-${sha256('nameless')}"`));
  });

  // Reliability report F15: a right-to-left override made `report\u202Etxt.exe` display as "reportexe.txt".
  it('strips bidi, zero-width and other format characters from file names', async () => {
    const res = await upload([
      { filename: 'report\u202Etxt.exe', data: 'bidi' },
      { filename: 'a\u200Bb\u2066c\u2069\uFEFF.txt', data: 'zero-width' },
      { filename: 'line\u2028sep\u0085.txt', data: 'separators' },
    ]);
    expect(res.statusCode).toBe(201);
    expect(res.json().items.map((i: { name: string | null }) => i.name)).toEqual(['reporttxt.exe', 'abc.txt', 'linesep.txt']);
    expect((await download(sha256('bidi'))).headers['content-disposition']).not.toMatch(/%E2%80%AE/i);
  });

  it('answers bad requests clearly: digests, content types, roles, empty and broken forms', async () => {
    for (const bad of ['abc', 'A'.repeat(64), `${'a'.repeat(63)}g`, '..%2F..%2Fetc%2Fpasswd']) {
      const res = await download(bad);
      expect(res.statusCode, bad).toBe(400);
      expect(res.json().error.code).toBe('INVALID_ARGUMENT');
    }
    expect((await download('abc', reader, 'acme', 'HEAD')).statusCode).toBe(400);
    const json = await t.app.inject({ method: 'POST', url: '/api/v1/orgs/acme/evidence', headers: bearer(reporter), payload: { file: ['x'] } });
    expect(json.statusCode).toBe(400);
    expect(json.json().error.message).toMatch(/multipart\/form-data/);
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/orgs/acme/evidence', headers: { ...bearer(reporter), 'content-type': 'text/plain' }, payload: 'x' })).statusCode).toBe(400);
    expect((await upload([{ filename: 'r.txt', data: 'r' }], reader)).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/orgs/acme/evidence', ...form([{ filename: 'a', data: 'a' }]) })).statusCode).toBe(401);
    expect((await download(sha256('x'), 'evd_nope')).statusCode).toBe(401);
    const noFiles = await upload([{ data: 'just a field' }]);
    expect(noFiles.statusCode).toBe(400);
    expect(noFiles.json().error.message).toMatch(/no file parts/);
    const { payload, headers } = form([{ filename: 'cut.bin', data: randomBytes(5000) }]);
    const truncated = await t.app.inject({ method: 'POST', url: '/api/v1/orgs/acme/evidence', headers: { ...bearer(reporter), ...headers }, payload: payload.subarray(0, 3000) });
    expect(truncated.statusCode).toBe(400);
    expect(truncated.json().error.message).toMatch(/multipart/);
  });

  it('fails the download of a blob altered on disk instead of serving it (TAMPERED)', async () => {
    const data = 'the approval said yes';
    await upload([{ filename: 'approval.txt', data }]);
    const file = path.join(root, sha256(data).slice(0, 2), sha256(data).slice(2));
    fs.chmodSync(file, 0o600);
    fs.writeFileSync(file, 'the approval said no!');
    const res = await download(sha256(data));
    expect(res.statusCode).toBe(500);
    expect(res.json().error.code).toBe('TAMPERED');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers.etag).toBeUndefined();
    expect(res.headers['cache-control']).toBeUndefined();
  });

  it('documents upload and download in the OpenAPI document', async () => {
    const doc = (await t.app.inject('/api/v1/openapi.json')).json();
    const post = doc.paths['/api/v1/orgs/{org}/evidence'].post;
    expect(Object.keys(post.requestBody.content)).toEqual(['multipart/form-data']);
    expect(Object.keys(post.responses)).toEqual(expect.arrayContaining(['201', '401', '403', '413']));
    const get = doc.paths['/api/v1/orgs/{org}/evidence/{digest}'].get;
    expect(Object.keys(get.responses['200'].content)).toEqual(['application/octet-stream']);
  });
});
