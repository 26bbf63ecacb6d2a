import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EvidentError } from '../../src/core/index.js';
import { ExitStatusError, exitCodeFor, exitCodesOf } from '../../src/cli/exit.js';
import { CLI, type CliResult } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';

// Issue 15, convention "exit 1 on every error": Evident's statuses (1 failed, 2 usage, 3 server or network,
// 4 authentication) by default; Kosli's 1 on every error when started as `kosli` or with EVIDENT_EXIT_CODES=kosli.

describe('which exit statuses a run uses', () => {
  it("Evident's by default, Kosli's under the name kosli (a symlink keeps its name in argv[1]), the variable winning", () => {
    expect(exitCodesOf(['node', '/usr/local/bin/evident'], {})).toBe('evident');
    expect(exitCodesOf(['node', '/usr/local/lib/node_modules/evident/dist/cli/evident.js'], {})).toBe('evident');
    expect(exitCodesOf(['node', '/usr/local/bin/kosli'], {})).toBe('kosli');
    expect(exitCodesOf(['node', 'C:\\tools\\kosli.cmd'], {})).toBe('kosli');
    expect(exitCodesOf(['node', '/usr/local/bin/kosli-report'], {})).toBe('evident');
    expect(exitCodesOf(['node', '/usr/local/bin/evident'], { EVIDENT_EXIT_CODES: 'kosli' })).toBe('kosli');
    expect(exitCodesOf(['node', '/usr/local/bin/kosli'], { EVIDENT_EXIT_CODES: 'evident' })).toBe('evident');
    // KOSLI_* variables alone do not switch: Evident's own scripts set them during a migration too.
    expect(exitCodesOf(['node', '/usr/local/bin/evident'], { KOSLI_ORG: 'acme', KOSLI_API_TOKEN: 't' })).toBe('evident');
    expect(exitCodesOf(['node', '/usr/local/bin/evident'], { EVIDENT_EXIT_CODES: '' })).toBe('evident');
    expect(() => exitCodesOf(['node', 'evident'], { EVIDENT_EXIT_CODES: 'posix' })).toThrow(/EVIDENT_EXIT_CODES="posix": give kosli/);
  });

  it('maps every error code to 1 under Kosli\'s statuses, and keeps a signal\'s 128 + n', () => {
    for (const code of ['NOT_FOUND', 'INVALID_ARGUMENT', 'UNAVAILABLE', 'UNAUTHENTICATED', 'FORBIDDEN', 'INTERNAL', 'RATE_LIMITED'] as const) {
      expect(exitCodeFor(new EvidentError(code, 'x'), 'kosli')).toBe(1);
    }
    expect(exitCodeFor(new Error('not ours'), 'kosli')).toBe(1);
    expect([exitCodeFor(new EvidentError('INVALID_ARGUMENT', 'x')), exitCodeFor(new EvidentError('UNAVAILABLE', 'x')), exitCodeFor(new EvidentError('FORBIDDEN', 'x'))]).toEqual([2, 3, 4]);
    expect(exitCodeFor(new ExitStatusError(130, 'interrupted'), 'kosli')).toBe(130);
  });
});

/** The built CLI started as `script` (a symlink to it, or the CLI itself). */
function run(script: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { env: { PATH: process.env.PATH ?? '', HOME: tempDir(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('the built CLI, as evident and as kosli', () => {
  const kosli = path.join(tempDir('evident-kosli-name-'), 'kosli');
  fs.symlinkSync(CLI, kosli);
  // Nothing listens on port 1: "could not ask" (3 in Evident's statuses).
  const offline = ['--host', 'http://127.0.0.1:1', '--org', 'acme', '--api-token', 't', '--max-api-retries', '0'];

  it('a server that cannot be reached: 3 as evident, 1 as kosli or with EVIDENT_EXIT_CODES=kosli, 3 as kosli with EVIDENT_EXIT_CODES=evident', async () => {
    const [asEvident, asKosli, asked, overridden] = await Promise.all([
      run(CLI, ['get', 'flow', 'backend', ...offline]),
      run(kosli, ['get', 'flow', 'backend', ...offline]),
      run(CLI, ['get', 'flow', 'backend', ...offline], { EVIDENT_EXIT_CODES: 'kosli' }),
      run(kosli, ['get', 'flow', 'backend', ...offline], { EVIDENT_EXIT_CODES: 'evident' }),
    ]);
    expect([asEvident.code, asKosli.code, asked.code, overridden.code]).toEqual([3, 1, 1, 3]);
    // The message is the same: only the status differs.
    for (const r of [asEvident, asKosli, asked, overridden]) expect(r.stderr).toMatch(/^Error: cannot reach http:\/\/127\.0\.0\.1:1/m);
  });

  it('a usage mistake: 2 as evident, 1 as kosli; help and version still 0', async () => {
    const [asEvident, asKosli, help, version] = await Promise.all([
      run(CLI, ['list', 'flows', '--no-such-flag', ...offline]),
      run(kosli, ['list', 'flows', '--no-such-flag', ...offline]),
      run(kosli, ['list', 'flows', '--help']),
      run(kosli, ['--version']),
    ]);
    expect([asEvident.code, asKosli.code, help.code, version.code]).toEqual([2, 1, 0, 0]);
    expect(asKosli.stderr).toMatch(/unknown option '--no-such-flag'/);
  });

  it('an unknown EVIDENT_EXIT_CODES is a usage error that names the choices, before anything is sent', async () => {
    const r = await run(CLI, ['get', 'flow', 'backend', ...offline], { EVIDENT_EXIT_CODES: 'posix' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/EVIDENT_EXIT_CODES="posix": give kosli \(1 on every error\) or evident/);
    expect(r.stderr).not.toMatch(/cannot reach/);
  });
});
