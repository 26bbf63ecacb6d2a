import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isEvidentError } from '../../src/core/index.js';
import { parseEnvironmentPolicy, parseFlowTemplate, parseJUnit, parseProvenanceDocument, parseSarif } from '../../src/formats/index.js';
import { generateSignerKey, openCheckpoint, parseCheckpoint, parseSignerKey, parseVerifierKey, verifyConsistency, verifyInclusion } from '../../src/ledger/index.js';
import { parseSpec } from '../../src/pipeline/index.js';
import { compileUserSchema, parseEcsTasks, parseLambdaFunctions, parsePodListBytes } from '../../src/services/index.js';
import { parsePackage } from '../../src/cli/verify/evidence-package.js';
import { bearer, testApp, type TestApp } from '../helpers/app.js';

// The fuzz suite of issue 16: hostile files kept in test/fixtures/hostile/ plus fast-check's inputs, over
// every parser of untrusted input and every route that takes a body. A parser may refuse (a typed
// EvidentError), never crash with anything else; the server never answers 500 and never logs a write it
// refused. Runs are kept small (the whole file takes well under a minute).

const HOSTILE = path.resolve('test/fixtures/hostile');
const corpus = fs.readdirSync(HOSTILE).sort().map((name) => ({ name, text: fs.readFileSync(path.join(HOSTILE, name), 'utf8') }));
const fixtures = (dir: string) => fs.readdirSync(path.resolve('test/fixtures', dir), { withFileTypes: true }).filter((d) => d.isFile()).map((d) => fs.readFileSync(path.resolve('test/fixtures', dir, d.name), 'utf8'));

/** Valid samples, their mutations (cut, spliced, bytes inserted) and the hostile corpus. */
function inputs(samples: string[]): fc.Arbitrary<string> {
  const sample = fc.constantFrom(...samples);
  const mutated = fc.tuple(sample, fc.nat(), fc.nat(), fc.string({ unit: 'binary', maxLength: 20 })).map(([s, a, b, insert]) => {
    const i = a % (s.length + 1);
    const j = Math.min(s.length, i + (b % 40));
    return s.slice(0, i) + insert + s.slice(j);
  });
  return fc.oneof(sample, mutated, fc.constantFrom(...corpus.map((c) => c.text)), fc.string({ unit: 'binary', maxLength: 200 }));
}

/** Runs `parse`; anything thrown must be a typed error. */
function refusesCleanly(parse: (text: string) => unknown) {
  return (text: string) => {
    try {
      parse(text);
    } catch (err) {
      if (!isEvidentError(err)) throw new Error(`not a typed error: ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`, { cause: err });
    }
  };
}

const RUNS = { numRuns: 150 };
const verifier = parseVerifierKey(parseSignerKey(generateSignerKey('evident.test').signerKey).verifierKey);

// These take a parsed JSON document (the CLI parses, with its own error for bad JSON).
const JSON_INPUT = ['ECS tasks', 'Lambda functions', 'custom type schemas'];

describe('parsers of untrusted input refuse with typed errors, never crash', () => {
  const json = (text: string) => JSON.parse(text) as unknown;
  const cases: [string, string[], (text: string) => unknown][] = [
    ['JUnit', fixtures('junit'), (t) => parseJUnit(t, 'r.xml')],
    ['SARIF', fixtures('sarif'), (t) => parseSarif(t, 'r.sarif')],
    ['flow templates', fixtures('templates'), (t) => parseFlowTemplate(t)],
    ['environment policies', fixtures('policies'), (t) => parseEnvironmentPolicy(t)],
    ['attest.yaml', ['version: "0.1"\nname: x\nsteps:\n  a: { run: "true" }\n  b: { run: "make", needs: [a] }\n'], (t) => parseSpec(t)],
    ['provenance', ['{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"' + 'a'.repeat(64) + '"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}'], (t) => parseProvenanceDocument(t)],
    ['checkpoints', ['evident.test/acme\n3\n' + Buffer.alloc(32).toString('base64') + '\n'], (t) => parseCheckpoint(t)],
    ['signed notes', ['evident.test/acme\n3\n' + Buffer.alloc(32).toString('base64') + '\n\n\u2014 evident.test AAAA\n'], (t) => openCheckpoint(t, [verifier])],
    ['evidence packages', ['{"version":1}'], (t) => parsePackage(t, 'p.json')],
    ['Kubernetes pod lists', fixtures('k8s'), (t) => parsePodListBytes(Buffer.from(t), 'pods.json')],
    ['ECS tasks', fixtures('aws/ecs'), (t) => parseEcsTasks(json(t), 'tasks.json')],
    ['Lambda functions', ['{"Functions":[]}'], (t) => parseLambdaFunctions(json(t), 'fns.json')],
    ['custom type schemas', ['{"type":"object","properties":{"s":{"type":"string","pattern":"^a+$"}}}'], (t) => compileUserSchema(json(t))],
  ];
  for (const [what, samples, parse] of cases) {
    it(what, () => {
      // JSON.parse's own SyntaxError is the caller's to translate (the routes do): only what follows counts.
      const run = refusesCleanly((text) => {
        if (JSON_INPUT.includes(what)) {
          try {
            JSON.parse(text);
          } catch {
            return undefined;
          }
        }
        return parse(text);
      });
      fc.assert(fc.property(inputs(samples), run), RUNS);
      for (const c of corpus) run(c.text);
    });
  }

  it('proofs', () => {
    const hash = fc.uint8Array({ minLength: 0, maxLength: 40 });
    fc.assert(fc.property(fc.integer({ min: -5, max: 2 ** 54 }), fc.integer({ min: -5, max: 2 ** 54 }), fc.array(hash, { maxLength: 70 }), hash, hash, (a, b, proof, x, y) => {
      refusesCleanly(() => verifyInclusion(a, b, x, proof, y))('');
      refusesCleanly(() => verifyConsistency(a, b, proof, x, y))('');
    }), RUNS);
  });
});

describe('routes with a body: never 500, never a refused write logged', () => {
  let t: TestApp;
  let size: () => Promise<number>;
  let routes: { method: string; url: string }[];
  beforeAll(async () => {
    t = await testApp();
    const acme = await t.auth.org('acme');
    size = () => t.log.size(acme);
    const post = (url: string, payload: object) => t.app.inject({ method: 'POST', url: `/api/v1/orgs/acme${url}`, headers: bearer(t.adminToken), payload });
    expect((await post('/flows', { name: 'f' })).statusCode).toBe(201);
    expect((await post('/flows/f/trails', { name: 't' })).statusCode).toBe(201);
    expect((await post('/environments', { name: 'e', type: 'k8s' })).statusCode).toBe(201);
    routes = t.app.routeTable.filter((r) => ['POST', 'PUT', 'PATCH'].includes(r.method));
  });
  afterAll(async () => t.close());

  const PARAMS: Record<string, string> = { org: 'acme', flow: 'f', trail: 't', environment: 'e', env: 'e' };
  const urlOf = (url: string) => url.replace(/:(\w+)/g, (_, name: string) => PARAMS[name] ?? 'x');

  async function send(route: { method: string; url: string }, payload: string, contentType = 'application/json') {
    const before = await size();
    const res = await t.app.inject({ method: route.method as 'POST', url: urlOf(route.url), headers: { ...bearer(t.adminToken), 'content-type': contentType }, payload });
    const after = await size();
    expect(res.statusCode, `${route.method} ${route.url} ${payload.slice(0, 80)} → ${res.body.slice(0, 300)}`).toBeLessThan(500);
    if (res.statusCode >= 400) {
      expect(after, `${route.method} ${route.url} refused (${res.statusCode}) but logged`).toBe(before);
      expect(res.json().error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    }
  }

  it('the hostile corpus, sent to every route', async () => {
    expect(routes.length).toBeGreaterThan(20);
    for (const route of routes) for (const c of corpus) await send(route, c.text, c.name.endsWith('.json') ? 'application/json' : 'text/plain');
  }, 120_000);

  it('arbitrary JSON values, sent to every route', async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom(...routes), fc.jsonValue({ maxDepth: 4 }), async (route, value) => {
      await send(route, JSON.stringify(value));
    }), { numRuns: 400 });
  }, 120_000);
});
