import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evident, startServerProcess, type ServerProcess } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';

const SHA = '16d9990ad23a40eecaf087abac2a58a2d2a4b3f4';

describe('custom attestation types: JSON Schema + jq rules, versioned', () => {
  let server: ServerProcess;
  let env: Record<string, string>;
  const dir = tempDir('evident-custom-');
  const file = (name: string, value: unknown) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, typeof value === 'string' ? value : JSON.stringify(value));
    return p;
  };
  beforeAll(async () => {
    server = await startServerProcess(['--data-dir', tempDir()]);
    env = { HOME: tempDir('evident-home-'), EVIDENT_HOST: server.url, EVIDENT_ORG: 'default', EVIDENT_API_TOKEN: server.token! };
    await evident(['create', 'flow', 'runner'], env);
    await evident(['begin', 'trail', SHA, '--flow', 'runner'], env);
  }, 60_000);
  afterAll(async () => server?.stop());

  const schema = { type: 'object', required: ['line_coverage'], properties: { line_coverage: { type: 'number' }, tool: { type: 'string' } } };

  it('defines versions, and checks data against the schema and every jq rule on the server', async () => {
    const v1 = await evident(['create', 'attestation-type', 'coverage', '--schema', file('s.json', schema), '--jq', '.line_coverage >= 80', '--output', 'json'], env);
    expect(v1.code, v1.stderr).toBe(0);
    expect(JSON.parse(v1.stdout)).toMatchObject({ name: 'coverage', version: 1, jq_rules: ['.line_coverage >= 80'] });
    const v2 = JSON.parse((await evident(['create', 'attestation-type', 'coverage', '--schema', file('s.json', schema), '--jq', '.line_coverage >= 90', '--jq', '.tool == "c8"', '--output', 'json'], env)).stdout);
    expect(v2.version).toBe(2);

    const attest = (data: unknown, type = 'coverage') =>
      evident(['attest', 'custom', '--type', type, '--attestation-data', file('d.json', data), '--name', 'coverage', '--flow', 'runner', '--trail', SHA, '--output', 'json'], env);
    const good = JSON.parse((await attest({ line_coverage: 93.5, tool: 'c8' })).stdout);
    expect(good).toMatchObject({ type: 'custom:coverage', compliant: true, summary: { version: 2, schema_errors: [], data: { line_coverage: 93.5 } } });
    const low = JSON.parse((await attest({ line_coverage: 85, tool: 'c8' })).stdout);
    expect(low.compliant).toBe(false);
    expect(low.summary.rules).toEqual([{ rule: '.line_coverage >= 90', ok: false, message: 'the rule gave false or null' }, { rule: '.tool == "c8"', ok: true }]);
    const old = JSON.parse((await attest({ line_coverage: 85, tool: 'x' }, 'coverage@1')).stdout);
    expect(old).toMatchObject({ compliant: true, summary: { version: 1 } });
    const bad = JSON.parse((await attest({ line_coverage: 'high' })).stdout);
    expect(bad.compliant).toBe(false);
    expect(bad.summary.schema_errors[0]).toMatchObject({ path: '/line_coverage' });
  });

  it('refuses bad types, rules and data with clear errors', async () => {
    const badRule = await evident(['create', 'attestation-type', 'x', '--schema', file('s.json', schema), '--jq', '.a >>> 1'], env);
    expect(badRule.code).toBe(2);
    expect(badRule.stderr).toMatch(/does not compile/);
    const badSchema = await evident(['create', 'attestation-type', 'x', '--schema', file('bad.json', { type: 'nonsense' })], env);
    expect(badSchema.code).toBe(2);
    expect(badSchema.stderr).toMatch(/JSON Schema is not valid/);
    expect((await evident(['create', 'attestation-type', 'Bad Name', '--schema', file('s.json', schema)], env)).code).toBe(2);
    const unknownType = await evident(['attest', 'custom', '--type', 'nope', '--attestation-data', file('d.json', {}), '--name', 'n', '--flow', 'runner', '--trail', SHA], env);
    expect(unknownType.code).toBe(1);
    expect(unknownType.stderr).toMatch(/attestation type "nope" does not exist/);
    const notJson = await evident(['attest', 'custom', '--type', 'coverage', '--attestation-data', file('x.json', '{oops'), '--name', 'n', '--flow', 'runner', '--trail', SHA], env);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(/x.json is not valid JSON/);
    const listed = JSON.parse((await evident(['list', 'attestation-types', '--output', 'json'], env)).stdout);
    expect(listed.map((t: { version: number }) => t.version)).toEqual([1, 2]);
  });
});
