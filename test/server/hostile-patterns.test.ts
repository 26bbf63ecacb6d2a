import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXCLUDE_MAX_STEPS, resolveExcludes, type TreeNode } from '../../src/formats/fingerprint-glob.js';
import { compileUserSchema, SCHEMA_PATTERN_MAX_INPUT } from '../../src/services/user-schema.js';
import { bearer, testApp, type TestApp } from '../helpers/app.js';

const COMMIT = '16d9990ad23a40eecaf087abac2a58a2d2a4b3f4';

// Reliability report F2: a custom type's JSON Schema pattern ran on JavaScript's backtracking RegExp.
describe('user-supplied schema patterns run on the linear-time engine', () => {
  it('matches a catastrophic pattern at once, where RegExp would take longer than the test run', () => {
    const validate = compileUserSchema({ type: 'object', properties: { s: { type: 'string', pattern: '^(a+)+$' } } });
    // 'a'×60 + '!' is about 2^60 backtracking steps for RegExp; the Pike VM does 61 × (program size).
    expect(validate({ s: 'a'.repeat(60) + '!' })).toBe(false);
    expect(validate({ s: 'a'.repeat(60) })).toBe(true);
    expect(validate.errors).toBeNull();
  });

  it('keeps each pattern distinct (Ajv caches compiled patterns by their text)', () => {
    const validate = compileUserSchema({ type: 'object', properties: { a: { type: 'string', pattern: '^a$' }, b: { type: 'string', pattern: '^b$' } } });
    expect(validate({ a: 'a', b: 'b' })).toBe(true);
    expect(validate({ a: 'b', b: 'a' })).toBe(false);
    expect(validate.errors?.map((e) => e.instancePath).sort()).toEqual(['/a', '/b']);
  });

  it('applies patternProperties with the same engine', () => {
    const validate = compileUserSchema({ type: 'object', patternProperties: { '^(x+x+)+y$': { type: 'number' } } });
    expect(validate({ ['x'.repeat(50)]: 'not a number' })).toBe(true);
    expect(validate({ xxy: 'not a number' })).toBe(false);
  });

  it('refuses backreferences and lookaround, naming the path of each', () => {
    expect(() => compileUserSchema({ properties: { s: { pattern: '^(a)\\1$' }, t: { items: { pattern: '(?=x)' } } } })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', details: [expect.objectContaining({ path: 'schema/properties/s/pattern' }), expect.objectContaining({ path: 'schema/properties/t/items/pattern' })] }),
    );
    expect(() => compileUserSchema({ patternProperties: { '(?<=a)b': {} } })).toThrow(/schema\/patternProperties\/\(\?<=a\)b/);
  });

  it('bounds the work of one validation', () => {
    const validate = compileUserSchema({ type: 'array', items: { type: 'string', pattern: '^(a|b|c|d){1,100}z$' } });
    expect(() => validate(['a'.repeat(SCHEMA_PATTERN_MAX_INPUT + 1)])).toThrow(/limit is 4096/);
    expect(() => validate(Array.from({ length: 5000 }, () => 'a'.repeat(4000)))).toThrow(/more schema pattern matching than the limit/);
    expect(validate(['abcz'])).toBe(true);
  });
});

describe('custom attestation types over HTTP', () => {
  let t: TestApp;
  let reporter: string;
  beforeAll(async () => {
    t = await testApp();
    const acme = await t.auth.org('acme');
    reporter = (await t.auth.issue(acme, { name: 'ci', role: 'reporter' })).secret;
    const post = (url: string, payload: object) => t.app.inject({ method: 'POST', url: `/api/v1/orgs/acme${url}`, headers: bearer(t.adminToken), payload });
    expect((await post('/flows', { name: 'bad' })).statusCode).toBe(201);
    expect((await post('/flows/bad/trails', { name: 't', git_commit: COMMIT })).statusCode).toBe(201);
  });
  afterAll(async () => t.close());

  const post = (url: string, payload: object) => t.app.inject({ method: 'POST', url: `/api/v1/orgs/acme${url}`, headers: bearer(reporter), payload });

  it('records a custom attestation against ^(a+)+$ promptly, and the server answers meanwhile', async () => {
    const created = await post('/attestation-types', { name: 'redos', schema: { type: 'object', properties: { s: { type: 'string', pattern: '^(a+)+$' } } } });
    expect(created.statusCode, created.body).toBe(201);
    const attest = post('/flows/bad/trails/t/attestations/custom', { name: 'x', type: 'redos', data: { s: 'a'.repeat(40) + '!' } });
    const health = t.app.inject({ method: 'GET', url: '/healthz' });
    const [a, h] = await Promise.all([attest, health]);
    expect(h.statusCode).toBe(200);
    expect(a.statusCode, a.body).toBe(201);
    expect(a.json()).toMatchObject({ compliant: false, summary: { schema_errors: [{ path: '/s' }] } });
  });

  it('refuses a type whose pattern the engine cannot run, with a 400 naming the path, and logs nothing', async () => {
    const acme = await t.auth.org('acme');
    const before = await t.log.size(acme);
    const res = await post('/attestation-types', { name: 'backref', schema: { type: 'object', properties: { s: { type: 'string', pattern: '^(a+)\\1$' } } } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'INVALID_ARGUMENT', details: [{ path: 'schema/properties/s/pattern' }] });
    expect(await t.log.size(acme)).toBe(before);
  });
});

describe('fingerprint exclude globs are bounded', () => {
  /** A chain of `depth` nested directories, each with a file `x`. */
  function chain(depth: number): TreeNode {
    let node: TreeNode = { name: 'd', kind: 'dir', children: [{ name: 'x', kind: 'file' }] };
    for (let k = 0; k < depth; k++) node = { name: 'd', kind: 'dir', children: [node, { name: 'x', kind: 'file' }] };
    return { name: '', kind: 'dir', children: [node] };
  }

  it('refuses a rule that needs more matching steps than the limit, naming it', () => {
    expect(() => resolveExcludes(chain(300), ['**/**/**/**/x'], 100_000)).toThrow(/exclude pattern "\*\*\/\*\*\/\*\*\/\*\*\/x" needs more than 100000 matching steps/);
  });

  it('resolves ordinary rules well within it', () => {
    const excluded = resolveExcludes(chain(3), ['**/x', 'd/x']);
    expect(excluded.has('d/x')).toBe(true);
    expect(EXCLUDE_MAX_STEPS).toBeGreaterThan(1_000_000);
  });
});

describe('custom type schemas nested too deep', () => {
  it('are refused with a typed error, not a stack overflow', () => {
    let deep: unknown = { type: 'string' };
    for (let k = 0; k < 5000; k++) deep = { items: deep };
    expect(() => compileUserSchema(deep)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/nested deeper than 64/) }));
  });
});
