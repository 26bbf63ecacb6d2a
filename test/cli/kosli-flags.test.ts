import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { applyFlagTable, envVarFor } from '../../src/cli/flag-table.js';
import { expandGlob } from '../../src/cli/commands/snapshot-paths.js';
import { kosliSnapshot, kosliSearch, unix } from '../../src/cli/kosli-json.js';
import { tempDir } from '../helpers/engines.js';

// Issue 15: the one flag table gives every command Kosli's short flags and an EVIDENT_/KOSLI_ variable per flag.

function program(): Command {
  const p = new Command('evident').exitOverride();
  p.command('attest').command('generic').requiredOption('--flow <name>').requiredOption('--trail <name>').option('--name <name>')
    .option('--attachments <path>', '', (v: string, prev: string[] = []) => [...prev, ...v.split(',')])
    .option('--origin-url <url>').option('--flag').action(() => undefined);
  p.command('get').command('artifact <ref>').option('--trail <name>').action(() => undefined);
  return p;
}

const leaf = (p: Command, ...names: string[]) => names.reduce((c, n) => c.commands.find((x) => x.name() === n)!, p);

describe('the flag table', () => {
  it("gives Kosli's short flags where the command has the long flag, as Kosli spells them per command", async () => {
    const p = applyFlagTable(program(), { env: {} });
    await p.parseAsync(['node', 'evident', 'attest', 'generic', '-f', 'F', '-T', 'T', '-n', 'N', '-o', 'https://ci']);
    expect(leaf(p, 'attest', 'generic').opts()).toMatchObject({ flow: 'F', trail: 'T', name: 'N', originUrl: 'https://ci' });
    await p.parseAsync(['node', 'evident', 'get', 'artifact', 'x', '-t', 'T1', '-o', 'json']);
    expect(leaf(p, 'get', 'artifact').opts()).toMatchObject({ trail: 'T1', o: 'json' });
  });

  it('sets every flag from EVIDENT_<FLAG>, else KOSLI_<FLAG>; the command line wins and replaces a list', async () => {
    const env = { KOSLI_FLOW: 'kf', EVIDENT_TRAIL: 'et', KOSLI_TRAIL: 'kt', KOSLI_ATTACHMENTS: 'a,b', KOSLI_FLAG: 'false' };
    expect(envVarFor('--trail', env)).toBe('EVIDENT_TRAIL');
    const saved = { ...process.env };
    Object.assign(process.env, env); // commander reads the variables from process.env when it parses
    try {
      const p = applyFlagTable(program(), { env });
      await p.parseAsync(['node', 'evident', 'attest', 'generic']);
      expect(leaf(p, 'attest', 'generic').opts()).toEqual({ flow: 'kf', trail: 'et', attachments: ['a', 'b'] });
      const q = applyFlagTable(program(), { env });
      await q.parseAsync(['node', 'evident', 'attest', 'generic', '--flow', 'cli', '--attachments', 'c']);
      expect(leaf(q, 'attest', 'generic').opts()).toMatchObject({ flow: 'cli', attachments: ['c'] });
    } finally {
      for (const k of Object.keys(env)) if (!(k in saved)) delete process.env[k];
    }
  });

  it("takes a Kosli config file's keys as flag values, below variables and flags", async () => {
    const p = applyFlagTable(program(), { env: {}, config: { flow: 'from-file', trail: 'file-trail' } });
    await p.parseAsync(['node', 'evident', 'attest', 'generic', '--trail', 'cli']);
    expect(leaf(p, 'attest', 'generic').opts()).toMatchObject({ flow: 'from-file', trail: 'cli' });
  });
});

describe("Kosli's JSON shapes", () => {
  it('gives snapshot artifacts flows[].flow_name, compliant and annotation, with Unix times, keeping Evident fields', () => {
    const at = '2026-12-06T05:00:00.000Z';
    const s = kosliSnapshot({
      environment: 'prod', index: 2, timestamp: at, entry_index: 9, compliant: true,
      artifacts: [{ name: 'app', fingerprint: 'f'.repeat(64), flow: 'runner', git_commit: null, commit_url: null, instances: 2, running_since: at }],
    });
    expect(s).toMatchObject({ environment: 'prod', index: 2, timestamp: unix(at), entry_index: 9 });
    expect(s.artifacts[0]).toMatchObject({ flow_name: 'runner', flows: [{ flow_name: 'runner' }], annotation: { type: 'started', now: 2 }, instances: 2, flow: 'runner' });
    expect(kosliSearch('abc12', [{ matched: 'commit', fingerprint: 'f', git_commit: 'abc123' }]).resolved_to.type).toBe('commit');
  });
});

describe('--paths globs', () => {
  it('expands * and ? within one path segment, as Kosli does', () => {
    const dir = tempDir();
    for (const p of ['top/a/x/src', 'top/b/y/src', 'top/b/y/other']) fs.mkdirSync(path.join(dir, p), { recursive: true });
    expect(expandGlob(path.join(dir, 'top/*/*/src'))).toEqual([path.join(dir, 'top/a/x/src'), path.join(dir, 'top/b/y/src')]);
    expect(expandGlob(path.join(dir, 'top/?/y'))).toEqual([path.join(dir, 'top/b/y')]);
    expect(expandGlob('plain/path')).toEqual(['plain/path']);
  });
});
