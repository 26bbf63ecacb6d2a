import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { commandWord } from '../../src/cli/command-word.js';
import { LAZY_NOUNS, LAZY_WORDS, programForWord } from '../../src/cli/program-lazy.js';

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

  it('registers each VERB NOUN exactly as the whole program does, and names every noun of every verb', async () => {
    const full = buildProgram(['node', 'evident'], {});
    const named: string[] = [];
    for (const verb of ['create', 'get', 'list', 'begin', 'archive', 'tag']) {
      for (const sub of full.commands.find((c) => c.name() === verb)!.commands) named.push(...[sub.name(), ...sub.aliases()].map((n) => `${verb} ${n}`));
    }
    expect([...LAZY_NOUNS].sort()).toEqual(named.sort());
    for (const pair of LAZY_NOUNS) {
      const [verb, noun] = pair.split(' ') as [string, string];
      const argv = ['node', 'evident', verb, noun, '--org', 'x'];
      const lazy = (await programForWord(verb, argv, {}))!;
      expect(lazy, pair).toBeDefined();
      const find = (p: Command) => p.commands.find((c) => c.name() === verb)!.commands.find((c) => c.name() === noun || c.aliases().includes(noun))!;
      const mine = find(lazy);
      const theirs = find(buildProgram(argv, {}));
      expect(mine.helpInformation(), pair).toBe(theirs.helpInformation());
      expect([...tree(mine).entries()], pair).toEqual([...tree(theirs).entries()]);
    }
  });

  it('takes the noun only right after the verb: an option between them, or an unknown noun, gets the whole program', async () => {
    expect(await programForWord('list', ['node', 'evident', 'list', '--org', 'x', 'flows'], {})).toBeUndefined();
    expect(await programForWord('list', ['node', 'evident', 'list', 'flowz'], {})).toBeUndefined();
    expect(await programForWord('list', ['node', 'evident', 'list'], {})).toBeUndefined();
    expect(await programForWord('list', ['node', 'evident', '-H', 'http://h', 'list', 'flows'], {})).toBeDefined();
  });

  it('finds the command word after global options and their values', () => {
    expect(commandWord(['node', 'evident', '-H', 'http://h', '-a', 't', '-c', 'f', '-r', '2', '--http-proxy', 'p', 'list', 'flows'])).toBe('list');
    expect(commandWord(['node', 'evident', '--org', 'o', '--dry-run', 'get', 'artifact'])).toBe('get');
    expect(commandWord(['node', 'evident', '--version'])).toBeUndefined();
  });

  it('leaves the Kosli verbs, help and no command to the whole program', async () => {
    for (const word of ['create', 'get', 'list', 'begin', 'archive', 'tag', 'help', undefined, 'no-such-word']) {
      expect(await programForWord(word, ['node', 'evident'], {}), String(word)).toBeUndefined();
    }
    const version = await programForWord(undefined, ['node', 'evident', '--version'], {});
    expect(version?.commands).toEqual([]);
  });
});

/** What parsing `args` prints on stdout and stderr and how it ends, with the writes captured. */
async function outcome(program: Command, args: string[]): Promise<string> {
  const out: string[] = [];
  const write = (name: string) => (chunk: string | Uint8Array): boolean => out.push(`${name}:${String(chunk)}`) > 0;
  const saved = [process.stdout.write, process.stderr.write];
  process.stdout.write = write('out') as typeof process.stdout.write;
  process.stderr.write = write('err') as typeof process.stderr.write;
  try {
    // No action may run: every case below stops in commander (help or a usage error).
    await program.parseAsync(['node', 'evident', ...args]);
    out.push('parsed');
  } catch (err) {
    out.push(`threw ${(err as { code?: string }).code} ${(err as { exitCode?: number }).exitCode}`);
  } finally {
    [process.stdout.write, process.stderr.write] = saved as [typeof process.stdout.write, typeof process.stderr.write];
  }
  return out.join('');
}

describe('a lazy VERB NOUN program prints what the whole program prints', () => {
  it('for help, unknown options, missing arguments and bad choices', async () => {
    const cases = [
      ['list', 'flows', '--help'],
      ['list', 'flows', '--bogus'],
      ['list', 'flows', '--sort', 'nope'],
      ['get', 'artifact'],
      ['get', 'artifact', '--help'],
      ['tag', 'repos', '--bogus'],
      ['create', 'policy', 'p'],
    ];
    for (const args of cases) {
      const argv = ['node', 'evident', ...args];
      const lazy = (await programForWord(args[0], argv, {}))!;
      expect(lazy, args.join(' ')).toBeDefined();
      const mine = await outcome(lazy, args);
      expect(mine, args.join(' ')).toMatch(/threw commander\.\S+ [01]/);
      expect(mine, args.join(' ')).toMatch(args.includes('--help') ? /^out:Usage: evident / : /^err:error: /);
      expect(mine, args.join(' ')).toBe(await outcome(buildProgram(argv, {}), args));
    }
  });
});
