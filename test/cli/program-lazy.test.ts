import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { LAZY_WORDS, programForWord } from '../../src/cli/program-lazy.js';

/** Every command under `cmd`, by path, with its help text (options, arguments, descriptions, flag-table aliases). */
function tree(cmd: Command, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const sub of cmd.commands) {
    const name = `${prefix}${sub.name()}`;
    out.set(name, sub.helpInformation());
    for (const [k, v] of tree(sub, `${name} `)) out.set(k, v);
  }
  return out;
}

describe('a command word loads only its own modules (program-lazy.ts)', () => {
  it('registers each word exactly as the whole program does: same subcommands, options and help', async () => {
    for (const word of LAZY_WORDS) {
      const argv = ['node', 'evident', word];
      const lazy = (await programForWord(word, argv, {}))!;
      const full = buildProgram(argv, {});
      const mine = tree(lazy.commands.find((c) => c.name() === word)!, `${word} `);
      const theirs = tree(full.commands.find((c) => c.name() === word)!, `${word} `);
      expect([...mine.keys()], word).toEqual([...theirs.keys()]);
      for (const [k, v] of theirs) expect(mine.get(k), k).toBe(v);
    }
  });

  it('leaves the Kosli verbs, help and no command to the whole program', async () => {
    for (const word of ['create', 'get', 'list', 'begin', 'archive', 'tag', 'help', undefined, 'no-such-word']) {
      expect(await programForWord(word, ['node', 'evident'], {}), String(word)).toBeUndefined();
    }
    const version = await programForWord(undefined, ['node', 'evident', '--version'], {});
    expect(version?.commands).toEqual([]);
  });
});
