import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64, fromHex, toHex } from '../../src/web/app/verify/bytes.js';
import { leafHash, verifyInclusion } from '../../src/web/app/verify/merkle.js';
import { keyIdFor, parseCheckpointText, parseVerifierKey, verifyNote } from '../../src/web/app/verify/note.js';
import { bearer, testApp, type TestApp } from '../helpers/app.js';
import { MERKLE_VECTORS, VECTORS, readProbe, walkJson } from '../ledger/helpers.js';

// The browser's verifier (src/web/app/verify) runs on WebCrypto, which Node 20 has too: it must agree with
// the shared vectors and with a real server's checkpoints and proofs.

const b64 = (s: string) => fromBase64(s);

describe('in-browser inclusion proof verification (RFC 9162 §2.1.3.2)', () => {
  const files = walkJson(path.join(MERKLE_VECTORS, 'inclusion'));

  it('accepts every good transparency-dev/merkle inclusion probe and rejects every bad one', async () => {
    expect(files.length).toBeGreaterThan(50);
    for (const file of files) {
      const p = readProbe(file);
      let ok: boolean;
      try {
        const proof = ((p.proof as string[] | null) ?? []).map(b64);
        ok = await verifyInclusion(p.leafIdx as number, p.treeSize as number, b64(p.leafHash as string), proof, b64((p.root as string | null) ?? ''));
      } catch {
        ok = false;
      }
      expect(ok, `${path.relative(MERKLE_VECTORS, file)}: ${String(p.desc)}`).toBe(!p.wantErr);
    }
  });

  it('hashes leaves as SHA-256(0x00 || entry)', async () => {
    // RFC 9162 test tree: the empty leaf.
    expect(toHex(await leafHash(new Uint8Array()))).toBe('6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
  });
});

describe('in-browser signed-note verification (C2SP signed-note, Ed25519)', () => {
  const md = fs.readFileSync(path.join(VECTORS, 'checkpoints.md'), 'utf8');

  it('verifies the specification example and the 8-leaf checkpoint, and computes their key IDs', async () => {
    const example = await parseVerifierKey('example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k');
    expect(example.keyId).toBe(0x530d903a);
    const note = 'This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n';
    expect(md).toContain('Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=');
    expect(await verifyNote(note, example)).toEqual({ text: 'This is an example message.\n', verified: true });
    expect((await verifyNote(note.replace('example', 'exemple'), example)).verified).toBe(false);

    const key = await parseVerifierKey('example.com/evidence-log+21d600ff+AemuH5ooBpEPcr+W8onrjA1NfuzBVHdezakU81Ekarvs');
    const checkpoint = 'example.com/evidence-log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n\u2014 example.com/evidence-log IdYA/wnV6QRhS8z4XUq6s7ulRgur9f5+69bPNHNBebbnmCe9q9Ayl8m2ZPrWrKnsCTJKbNtuSrMeR0rzYCuCCShVTgo=\n';
    const opened = await verifyNote(checkpoint, key);
    expect(opened.verified).toBe(true);
    const c = parseCheckpointText(opened.text);
    expect(c.size).toBe(8);
    expect(toHex(c.root)).toBe('5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328');
    expect((await verifyNote(checkpoint.replace('\n8\n', '\n9\n'), key)).verified).toBe(false);
    expect(await keyIdFor(key.name, key.publicKey)).toBe(0x21d600ff);
  });

  it('refuses a verifier key whose ID does not match', async () => {
    await expect(parseVerifierKey('example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k')).rejects.toThrow(/does not match/);
  });
});

describe('the verifier against a real server', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp();
    const org = await t.auth.org('acme');
    for (let i = 0; i < 13; i++) await t.services.flows.create(org, { name: `flow-${i}`, description: `flow ${i}` });
  });
  afterAll(async () => t?.close());

  const get = async (url: string) => {
    const res = await t.app.inject({ url, headers: bearer(t.adminToken) });
    expect(res.statusCode, url).toBe(200);
    return res;
  };

  it("verifies the server's checkpoint signature and every entry's inclusion proof; a tampered proof fails", async () => {
    const key = await parseVerifierKey((await get('/api/v1/orgs/acme/log/key')).json().verifier_key);
    const note = (await get('/api/v1/orgs/acme/log/checkpoint')).body;
    const opened = await verifyNote(note, key);
    expect(opened.verified).toBe(true);
    const checkpoint = parseCheckpointText(opened.text);
    expect(checkpoint.size).toBeGreaterThanOrEqual(13);
    const entries = (await get(`/api/v1/orgs/acme/log/entries?start=0&end=${checkpoint.size}`)).json().items as { index: number; leaf_hash: string; entry: string }[];
    for (const e of entries) {
      const leaf = await leafHash(new TextEncoder().encode(e.entry));
      expect(toHex(leaf)).toBe(e.leaf_hash);
      const proof = (await get(`/api/v1/orgs/acme/log/proof/inclusion?index=${e.index}&tree_size=${checkpoint.size}`)).json();
      const hashes = (proof.hashes as string[]).map(fromHex);
      expect(await verifyInclusion(e.index, checkpoint.size, leaf, hashes, checkpoint.root)).toBe(true);
      if (hashes.length > 0) {
        const tampered = hashes.map((h, i) => (i === 0 ? h.map((b, j) => (j === 0 ? b ^ 1 : b)) : h));
        expect(await verifyInclusion(e.index, checkpoint.size, leaf, tampered, checkpoint.root)).toBe(false);
      }
    }
  });
});
