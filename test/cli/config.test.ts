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
    expect(() => resolveGlobals({ config: configFile('output: xml\n') }, {})).toThrow(/table, json, json-evident/);
  });
});

describe('Kosli variables and config file (issue 15)', () => {
  it('reads KOSLI_* when EVIDENT_* is not set, and EVIDENT_* when both are', () => {
    const kosli = { KOSLI_HOST: 'http://kosli:1', KOSLI_ORG: 'k-org', KOSLI_API_TOKEN: 'k-token', KOSLI_DEBUG: 'true', KOSLI_MAX_API_RETRIES: '5' };
    const none = path.join(tempDir(), 'missing.yml');
    expect(resolveGlobals({ config: none }, kosli)).toMatchObject({ host: 'http://kosli:1', org: 'k-org', apiToken: 'k-token', debug: true, maxApiRetries: 5 });
    expect(resolveGlobals({ config: none }, { ...kosli, EVIDENT_ORG: 'e-org', EVIDENT_HOST: '' })).toMatchObject({ org: 'e-org', host: 'http://kosli:1' });
  });

  it('turns dry-run on with KOSLI_DRY_RUN=true or the token DRY_RUN (never sent), not with KOSLI_DRY_RUN=false', () => {
    const none = path.join(tempDir(), 'missing.yml');
    expect(resolveGlobals({ config: none }, { KOSLI_DRY_RUN: 'true' }).dryRun).toBe(true);
    expect(resolveGlobals({ config: none }, { KOSLI_DRY_RUN: 'false' }).dryRun).toBe(false);
    expect(resolveGlobals({ config: none, apiToken: 'DRY_RUN' }, {})).toMatchObject({ dryRun: true, apiToken: undefined });
  });

  it("reads Kosli's config file: --config-file, KOSLI_CONFIG_FILE, or ~/.kosli.yml when there is no ~/.evident.yml", () => {
    const home = tempDir();
    fs.writeFileSync(path.join(home, '.kosli.yml'), 'ORG: home-org\nAPI_TOKEN: home-token\nHOST: http://home:1\nFLOW: f\n');
    expect(resolveGlobals({}, { HOME: home })).toMatchObject({ org: 'home-org', apiToken: 'home-token', host: 'http://home:1' });
    fs.writeFileSync(path.join(home, '.evident.yml'), 'org: evident-org\n');
    expect(resolveGlobals({}, { HOME: home }).org).toBe('evident-org');
    const kosliFile = configFile('org: file-org\napi-token: t\n');
    expect(resolveGlobals({ configFile: kosliFile }, {})).toMatchObject({ org: 'file-org', apiToken: 't' });
    expect(resolveGlobals({}, { KOSLI_CONFIG_FILE: kosliFile, HOME: home }).org).toBe('file-org');
    // Evident's own --config takes Kosli's upper-case keys too
    expect(resolveGlobals({ config: configFile('ORG: upper\n') }, {}).org).toBe('upper');
  });
});
