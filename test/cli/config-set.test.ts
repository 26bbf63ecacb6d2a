import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { evident } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';

// `evident config set KEY VALUE` (ATTEST's `attest config set deterministic true`, issue #19 item 4):
// workspace defaults for `evident run` in .evident/config.yaml; a flag given wins.

const YAML = `version: "0.1"
name: cfg
steps:
  env: { run: "env | sort > out.txt", outputs: [out.txt] }
`;

describe('evident config', () => {
  it('set deterministic true makes evident run deterministic; get, list, unset; bad keys and values refused', async () => {
    const dir = tempDir('evident-config-');
    const file = path.join(dir, 'attest.yaml');
    fs.writeFileSync(file, YAML);
    const env = { HOME: tempDir('evident-home-') };
    const ev = (args: string[]) => evident([...args, '-f', file], env);

    const set = await ev(['config', 'set', 'deterministic', 'true']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain('deterministic = true');
    expect(fs.readFileSync(path.join(dir, '.evident/config.yaml'), 'utf8')).toContain('deterministic: true');
    expect((await ev(['config', 'get', 'deterministic'])).stdout.trim()).toBe('true');
    expect((await ev(['config', 'set', 'jobs', '2'])).code).toBe(0);
    expect((await ev(['config', 'list'])).stdout).toBe('deterministic = true\njobs = 2\n');
    expect(JSON.parse((await ev(['config', 'list', '--output', 'json'])).stdout)).toEqual({ deterministic: true, jobs: 2 });

    for (const run of [1, 2]) {
      // The second run is not replayed past the config: it goes through the full CLI and says so again.
      const r = await evident(['run', '-f', file], env);
      expect(r.code, `${run}: ${r.stderr}`).toBe(0);
      expect(r.stderr).toContain('config: deterministic=true, jobs=2 (');
    }
    const out = fs.readFileSync(path.join(dir, 'out.txt'), 'utf8');
    expect(out).toContain('TZ=UTC');
    expect(out).toContain('SOURCE_DATE_EPOCH=');

    const badValue = await ev(['config', 'set', 'deterministic', 'yes']);
    expect(badValue.code).toBe(2);
    expect(badValue.stderr).toContain('config deterministic must be true or false, not "yes"');
    expect((await ev(['config', 'set', 'jobs', '0'])).code).toBe(2);
    const badKey = await ev(['config', 'set', 'determinstic', 'true']);
    expect(badKey.code).toBe(2);
    expect(badKey.stderr).toContain('unknown config key "determinstic"; known keys: deterministic, isolation, jobs, keep_going, sign, output_logs');

    expect((await ev(['config', 'unset', 'deterministic'])).code).toBe(0);
    const missing = await ev(['config', 'get', 'deterministic']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('deterministic is not set');

    // A hand-edited file with a bad value stops the run before any step: never ignored.
    fs.writeFileSync(path.join(dir, '.evident/config.yaml'), 'jobs: many\n');
    const broken = await evident(['run', '-f', file], env);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('config jobs must be an integer >= 1, not "many"');
  });
});
