import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { benchArgs, usageOf } from '../../bench/bench-args.js';

// The benchmarks' `--help` (bench/bench-args.ts): node:util's strict parseArgs threw on it; it prints the usage lines of
// the bench's header comment and exits 0.

const benchDir = path.resolve(import.meta.dirname, '../../bench');
const usesHelper = fs.readdirSync(benchDir).filter((f) => f.endsWith('.ts') && fs.readFileSync(path.join(benchDir, f), 'utf8').includes('benchArgs(import.meta.url'));

describe('bench --help', () => {
  afterEach(() => vi.restoreAllMocks());

  it('every bench that reads strict flags goes through the helper', () => {
    const strict = fs.readdirSync(benchDir).filter((f) => f.endsWith('.ts') && /\bparseArgs\(/.test(fs.readFileSync(path.join(benchDir, f), 'utf8')));
    // ledger.ts declares its own --help flag; bench-args.ts is the helper.
    expect(strict.sort()).toEqual(['bench-args.ts', 'ledger.ts']);
    expect(usesHelper).toContain('cli.ts');
    expect(usesHelper).toContain('scale.ts');
  });

  it.each(usesHelper)('%s has usage lines naming its script', (file) => {
    const usage = usageOf(fs.readFileSync(path.join(benchDir, file), 'utf8'));
    expect(usage).toMatch(new RegExp(`dist/bench/${file.replace(/\.ts$/, '')}\\.js`));
    for (const line of usage.trimEnd().split('\n')) expect(line).toMatch(/^ {2,}\S/);
  });

  it('prints the usage and exits 0 on --help or -h; parses as before otherwise', () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation((code) => {
      throw new Error(`exit ${code}`);
    });
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const url = pathToFileURL(path.join(benchDir, 'cli.ts')).href;
    const options = { runs: { type: 'string', default: '15' } } as const;
    for (const flag of ['--help', '-h']) {
      expect(() => benchArgs(url, { args: ['--runs', '3', flag], options })).toThrow('exit 0');
      expect(String(out.mock.calls.at(-1)?.[0])).toContain('node dist/bench/cli.js [--runs 15]');
    }
    expect(exit).toHaveBeenCalledTimes(2);
    expect(benchArgs(url, { args: ['--runs', '3'], options }).values).toEqual({ runs: '3' });
    expect(() => benchArgs(url, { args: ['--nope'], options })).toThrow(/Unknown option/);
    // After `--`, --help is an argument, not a request for help.
    expect(benchArgs(url, { args: ['--', '--help'], options, allowPositionals: true }).positionals).toEqual(['--help']);
    expect(exit).toHaveBeenCalledTimes(2);
  });

  it('falls back to the whole header when it has no indented usage line', () => {
    expect(usageOf('#!/usr/bin/env node\n// one\n// two\nimport x from "y";\n// not header\n')).toBe('one\ntwo\n');
  });
});
