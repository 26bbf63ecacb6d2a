import fs from 'node:fs';
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EvidentError } from '../../src/core/index.js';
import {
  buildInspection, buildLayout, buildLink, buildStep, ed25519InTotoKey, fnmatchEscape, formatExpires, formatInTotoPublicKey,
  formatMetablock, inTotoKeyId, parseInTotoPublicKey, parseLinkMetablock, rule, signMetablock, sslibCanonicalJson, verifyMetablock,
  type LayoutSigned, type LinkSigned, type Metablock,
} from '../../src/formats/index.js';

const VECTORS = 'test/vectors/in-toto';
const read = (file: string) => JSON.parse(fs.readFileSync(`${VECTORS}/${file}`, 'utf8'));
const OWNER_KEYID = '4e30088e97347509f7ea23482ac5965798d711070c5f7af173ab0eccb6ae07f0';
const BUILDER_KEYID = 'b21863888855e66352e0c8c56be9f5e1171f2fc6f21c9818ab1d765c36babc95';

function freshKey() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(12);
  const key = ed25519InTotoKey(raw.toString('hex'));
  return { key, signer: { keyid: inTotoKeyId(key), sign: (m: Uint8Array) => new Uint8Array(sign(null, m, privateKey)) } };
}

describe('in-toto v0.9 keys (pitfall 3)', () => {
  it('computes the key id of owner.pub, which omits nothing, and of the layout key', () => {
    const owner = parseInTotoPublicKey(fs.readFileSync(`${VECTORS}/owner.pub`, 'utf8'));
    expect(inTotoKeyId(owner)).toBe(OWNER_KEYID);
    const builder = read('strict.layout').signed.keys[BUILDER_KEYID];
    expect(inTotoKeyId(builder)).toBe(BUILDER_KEYID);
  });

  it('hashes the algorithms list even when a key file leaves it out', () => {
    const owner = read('owner.pub');
    delete owner.keyid_hash_algorithms;
    expect(inTotoKeyId(owner)).toBe(OWNER_KEYID);
  });

  it('writes a key file that reads back to the same key id', () => {
    const owner = parseInTotoPublicKey(fs.readFileSync(`${VECTORS}/owner.pub`, 'utf8'));
    const text = formatInTotoPublicKey(owner);
    expect(Object.keys(JSON.parse(text))).toEqual(['keytype', 'scheme', 'keyid_hash_algorithms', 'keyval']);
    expect(inTotoKeyId(parseInTotoPublicKey(text))).toBe(OWNER_KEYID);
  });

  it('refuses keys that are not Ed25519', () => {
    expect(() => parseInTotoPublicKey('{"keytype":"rsa","scheme":"rsassa-pss-sha256","keyval":{"public":"x"}}')).toThrow(EvidentError);
    expect(() => parseInTotoPublicKey('{"keytype":"ed25519","scheme":"ed25519","keyval":{"public":"ABCD"}}')).toThrow(EvidentError);
    expect(() => parseInTotoPublicKey('nope')).toThrow(EvidentError);
  });
});

describe('in-toto 1.3.1 metadata vectors', () => {
  it("re-serialising the layout's signed part verifies its signature; one changed byte does not", () => {
    const layout = read('strict.layout') as Metablock<LayoutSigned>;
    const owner = parseInTotoPublicKey(read('owner.pub'));
    expect(verifyMetablock(layout, [owner])).toEqual([OWNER_KEYID]);
    layout.signed.readme = 'demo layouT';
    expect(verifyMetablock(layout, [owner])).toEqual([]);
  });

  it("re-serialising the link's signed part verifies with the functionary key of the layout", () => {
    const link = read('intoto131-build.link') as Metablock<LinkSigned>;
    const builder = parseInTotoPublicKey(read('strict.layout').signed.keys[BUILDER_KEYID]);
    expect(verifyMetablock(link, [builder])).toEqual([BUILDER_KEYID]);
    (link.signed.materials['src/a.txt'] as { sha256: string }).sha256 = '0'.repeat(64);
    expect(verifyMetablock(link, [builder])).toEqual([]);
  });

  it('the builders write exactly the fields in-toto signed (pitfall 2)', () => {
    const layout = read('strict.layout').signed;
    const rebuilt = buildLayout({
      expires: new Date('2030-01-01T00:00:00Z'),
      readme: layout.readme,
      keys: [parseInTotoPublicKey(layout.keys[BUILDER_KEYID])],
      steps: layout.steps.map((s: LayoutSigned['steps'][number]) => buildStep(s)),
      inspect: layout.inspect.map((i: LayoutSigned['inspect'][number]) => buildInspection(i)),
    });
    expect(sslibCanonicalJson(rebuilt)).toBe(sslibCanonicalJson(layout));
    const link = read('intoto131-build.link').signed;
    expect(sslibCanonicalJson(buildLink(link))).toBe(sslibCanonicalJson(link));
    expect(parseLinkMetablock(read('intoto131-build.link'), 'build').signed.name).toBe('build');
  });

  it('the rule builders write the strict layout rules', () => {
    const layout = read('strict.layout').signed;
    expect(layout.inspect[0].expected_products).toEqual([
      rule.match('src/*', 'MATERIALS', 'build'), rule.match('out.tar.gz', 'PRODUCTS', 'package'), rule.disallow('*'),
    ]);
    expect(layout.steps[1].expected_products).toEqual([rule.create('out.tar.gz'), rule.disallow('*')]);
    expect(rule.match('a', 'PRODUCTS', 's', { source: 'x', destination: 'y' })).toEqual(['MATCH', 'a', 'IN', 'x', 'WITH', 'PRODUCTS', 'IN', 'y', 'FROM', 's']);
  });
});

describe('links and layouts written by Evident', () => {
  it('expires is YYYY-MM-DDTHH:MM:SSZ (pitfall 5)', () => {
    expect(formatExpires(new Date('2031-02-03T04:05:06.789Z'))).toBe('2031-02-03T04:05:06Z');
    expect(() => formatExpires(new Date('nope'))).toThrow(EvidentError);
  });

  it('escapes fnmatch wildcards in file names', () => {
    expect(fnmatchEscape('a[1]*?.txt')).toBe('a[[]1][*][?].txt');
    expect(fnmatchEscape('plain/path.txt')).toBe('plain/path.txt');
  });

  it('signs with hex signatures and verifies after a round trip through the file format (pitfall 6)', () => {
    const { key, signer } = freshKey();
    const link = buildLink({ name: 'build', command: ['/bin/sh', '-c', 'echo "é\n"'], materials: {}, products: { 'o\nut': { sha256: 'a'.repeat(64) } }, byproducts: { 'return-value': 0 }, environment: {} });
    const block = signMetablock(link, [signer]);
    expect(block.signatures[0]!.sig).toMatch(/^[0-9a-f]{128}$/);
    const back = JSON.parse(formatMetablock(block));
    expect(verifyMetablock(back, [key])).toEqual([signer.keyid]);
    expect(verifyMetablock(back, [freshKey().key])).toEqual([]);
    back.signed.byproducts['return-value'] = 1;
    expect(verifyMetablock(back, [key])).toEqual([]);
  });

  it("Evident's link check names a link whose name is not its step's, and extra or missing fields", () => {
    const { signer } = freshKey();
    const link = buildLink({ name: 'build', command: [], materials: {}, products: {}, byproducts: {}, environment: {} });
    const block = signMetablock(link, [signer]);
    expect(() => parseLinkMetablock(block, 'test')).toThrow(/not the step "test"/);
    expect(() => parseLinkMetablock({ ...block, signed: { ...link, extra: 1 } })).toThrow(/exactly the fields/);
    const { environment: _e, ...missing } = link;
    expect(() => parseLinkMetablock({ ...block, signed: missing })).toThrow(/exactly the fields/);
    expect(() => parseLinkMetablock({ signed: link })).toThrow(EvidentError);
    expect(() => parseLinkMetablock({ ...block, signed: { ...link, products: { a: { sha256: 'xyz' } } } })).toThrow(/products\/a/);
  });

  it('a layout lists each key with its keyid', () => {
    const { key, signer } = freshKey();
    const layout = buildLayout({ expires: new Date('2030-01-01T00:00:00Z'), readme: '', keys: [key], steps: [], inspect: [] });
    expect(layout.keys[signer.keyid]!.keyid).toBe(signer.keyid);
    expect(Object.keys(layout).sort()).toEqual(['_type', 'expires', 'inspect', 'keys', 'readme', 'steps']);
  });
});
