import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import fc from 'fast-check';
import { Value } from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerCheckSources, answerChecksModule, writeAnswerChecks } from '../../scripts/answer-checks.mjs';
import { ANSWERS, type AnswerName } from '../../src/client/answers.js';
import { EvidentClient } from '../../src/client/index.js';
import { EvidentError } from '../../src/core/index.js';
import { evident } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';

// Issue #21: the CLI's bundles check server answers with code generated at build time from the client's
// schemas (scripts/answer-checks.mjs) instead of TypeBox at run time, one CommonJS file per answer required on
// first use. It must be exactly as strict.

type IsAnswer = (name: AnswerName, value: unknown) => Promise<boolean>;
let generated: IsAnswer;

beforeAll(async () => {
  // As the build lays them out: the loader module, and answers/NAME.cjs beside it.
  const dir = tempDir('evident-answer-checks-');
  await writeAnswerChecks(esbuild, ANSWERS, path.join(dir, 'answers'), path.resolve(import.meta.dirname, '../..'));
  const file = path.join(dir, 'answer-checks.mjs');
  fs.writeFileSync(file, answerChecksModule(Object.keys(ANSWERS)));
  generated = ((await import(pathToFileURL(file).href)) as { isAnswer: IsAnswer }).isAnswer;
});

/** A valid-looking answer for `name`, then the same with each top-level field removed or of another type. */
function variants(name: AnswerName): unknown[] {
  let base: unknown;
  try {
    base = Value.Create(ANSWERS[name]);
  } catch {
    base = {};
  }
  const out: unknown[] = [base, null, [], 'x', 1];
  if (base && typeof base === 'object' && !Array.isArray(base)) {
    for (const key of Object.keys(base)) {
      const { [key]: _dropped, ...rest } = base as Record<string, unknown>;
      out.push(rest);
      for (const other of [null, 7, -1, 1.5, 'x', '', [], {}, [{}], true]) out.push({ ...base, [key]: other });
    }
  }
  return out;
}

describe("the generated answer checks agree with TypeBox's", () => {
  it('on each answer, its fields removed or replaced', async () => {
    let accepted = 0;
    for (const name of Object.keys(ANSWERS) as AnswerName[]) {
      for (const value of variants(name)) {
        const expected = Value.Check(ANSWERS[name], value);
        expect({ name, value, ok: await generated(name, value) }).toEqual({ name, value, ok: expected });
        if (expected) accepted++;
      }
    }
    // Both sides are exercised: some variants pass, most fail.
    expect(accepted).toBeGreaterThan(10);
  });

  it('on any JSON value', async () => {
    const names = Object.keys(ANSWERS) as AnswerName[];
    await fc.assert(fc.asyncProperty(fc.constantFrom(...names), fc.jsonValue(), async (name, value) => {
      expect(await generated(name, value)).toBe(Value.Check(ANSWERS[name], value));
    }), { numRuns: 300 });
  });

  it('refuses to generate a check that would need run-time state (a format)', async () => {
    const { Type } = await import('typebox');
    expect(() => answerCheckSources({ When: Type.String({ format: 'date-time' }) })).toThrow(/answer When: .*format/);
  });

  it('loads only the answers of the table: another name is an error, not a file looked up', async () => {
    await expect(generated('../../package' as AnswerName, {})).rejects.toThrow(/no answer check named/);
    await expect(generated('NoSuchAnswer' as AnswerName, {})).rejects.toThrow(/no answer check named/);
  });
});

describe('a server answer of the wrong shape', () => {
  let server: http.Server;
  let host: string;
  beforeAll(async () => {
    // A server that answers every request with 200 and flows whose names are numbers.
    server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ items: [{ name: 5 }], next_cursor: null }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('is a VERIFICATION_FAILED error naming the path and its problems (client, TypeBox at run time)', async () => {
    const err = await new EvidentClient({ host, org: 'acme' }).listFlows().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EvidentError);
    expect((err as EvidentError).code).toBe('VERIFICATION_FAILED');
    expect((err as EvidentError).message).toMatch(/\/flows: the server's answer does not have the expected shape/);
    expect(JSON.stringify((err as EvidentError).details)).toMatch(/\/items\/0/);
  });

  it('fails the built CLI (generated checks) with exit 1 and the same message, nothing printed as a result', async () => {
    const r = await evident(['list', 'flows', '--output', 'json'], { HOME: tempDir(), EVIDENT_HOST: host, EVIDENT_ORG: 'acme', EVIDENT_API_TOKEN: 't' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the server's answer does not have the expected shape/);
    expect(r.stdout).toBe('');
  });
});
