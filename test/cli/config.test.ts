import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveGlobals } from '../../src/cli/index.js';
import { tempDir } from '../helpers/engines.js';

function configFile(text: string): string {
  const file = path.join(tempDir(), '.evident.yml');
  fs.writeFileSync(file, text);
  return file;
}

describe('global options: flag > environment > ~/.evident.yml > default', () => {
  const file = configFile('host: http://file:1\norg: file-org\napi_token: file-token\noutput: json\n');

  it('takes the config file over defaults', () => {
    expect(resolveGlobals({ config: file }, {})).toMatchObject({ host: 'http://file:1', hostGiven: true, org: 'file-org', apiToken: 'file-token', output: 'json' });
  });

  it('takes the environment over the config file', () => {
    const env = { EVIDENT_HOST: 'http://env:2', EVIDENT_ORG: 'env-org', EVIDENT_API_TOKEN: 'env-token', EVIDENT_OUTPUT: 'table' };
    expect(resolveGlobals({ config: file }, env)).toMatchObject({ host: 'http://env:2', org: 'env-org', apiToken: 'env-token', output: 'table' });
  });

  it('takes flags over the environment', () => {
    const env = { EVIDENT_HOST: 'http://env:2', EVIDENT_ORG: 'env-org', EVIDENT_API_TOKEN: 'env-token' };
    const flags = { config: file, host: 'http://flag:3', org: 'flag-org', apiToken: 'flag-token', output: 'json' };
    expect(resolveGlobals(flags, env)).toMatchObject({ host: 'http://flag:3', org: 'flag-org', apiToken: 'flag-token', output: 'json' });
  });

  it('finds the config file through EVIDENT_CONFIG and falls back to defaults without one', () => {
    expect(resolveGlobals({}, { EVIDENT_CONFIG: file }).org).toBe('file-org');
    const none = path.join(tempDir(), 'missing.yml');
    expect(resolveGlobals({ config: none }, {})).toMatchObject({ host: 'http://127.0.0.1:8080', hostGiven: false, org: 'default', apiToken: undefined, output: 'table' });
  });

  it('names what is wrong with a bad config file', () => {
    expect(() => resolveGlobals({ config: configFile('hots: x\n') }, {})).toThrow(/unknown keys hots/);
    expect(() => resolveGlobals({ config: configFile('host: [\n') }, {})).toThrow(/not valid YAML/);
    expect(() => resolveGlobals({ config: configFile('- a\n') }, {})).toThrow(/must be a mapping/);
    expect(() => resolveGlobals({ config: configFile('output: xml\n') }, {})).toThrow(/table or json/);
  });
});
