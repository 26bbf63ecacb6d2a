import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { coversPath, parsePattern, patternProblem, patternsOverlap } from '../../src/pipeline/patterns.js';

// The path patterns of inputs/outputs: validity, which files a pattern covers, and the overlap check that
// keeps two steps from claiming one file.

describe('patterns', () => {
  it('accepts relative paths and globs, refuses what leaves the workspace or is not a glob', () => {
    for (const ok of ['src/', 'package.json', 'src/**/*.ts', './dist', 'a/[a-z]*.c', 'x\\*y']) expect(patternProblem(ok)).toBeUndefined();
    expect(patternProblem('../x')).toMatch(/leaves the workspace/);
    expect(patternProblem('a/../../x')).toMatch(/leaves the workspace/);
    expect(patternProblem('/etc/passwd')).toMatch(/absolute/);
    expect(patternProblem('.evident/cache')).toMatch(/inside \.evident/);
    expect(patternProblem('./')).toMatch(/whole workspace/);
    expect(patternProblem('src/a**')).toMatch(/whole path segment/);
    expect(patternProblem('[a-')).toMatch(/not a valid glob/);
    expect(patternProblem('')).toMatch(/empty/);
  });

  it('covers the files a pattern names, and everything under a directory it names', () => {
    const covers = (p: string, rel: string) => coversPath(parsePattern(p), rel);
    expect(covers('dist/', 'dist/app.js')).toBe(true);
    expect(covers('dist', 'dist/a/b/c')).toBe(true);
    expect(covers('dist/', 'distx/app.js')).toBe(false);
    expect(covers('src/**/*.ts', 'src/a.ts')).toBe(true);
    expect(covers('src/**/*.ts', 'src/x/y/a.ts')).toBe(true);
    expect(covers('src/**/*.ts', 'src/x/a.js')).toBe(false);
    expect(covers('*.md', 'README.md')).toBe(true);
    expect(covers('*.md', 'docs/README.md')).toBe(false);
  });

  it('never misses an overlap: when some path is covered by both patterns, they overlap', () => {
    const segment = fc.constantFrom('a', 'b', 'x.js', 'y.css', '*', '*.js', '*.css', 'a*', '*b', '?', '**');
    const pattern = fc.array(segment, { minLength: 1, maxLength: 3 }).filter((s) => !(s.length === 1 && s[0] === '**')).map((s) => parsePattern(s.join('/')));
    const path = fc.array(fc.constantFrom('a', 'b', 'x.js', 'y.css', 'ab', 'ba', 'c'), { minLength: 1, maxLength: 4 }).map((s) => s.join('/'));
    fc.assert(
      fc.property(pattern, pattern, path, (p, q, rel) => {
        if (coversPath(p, rel) && coversPath(q, rel)) expect(patternsOverlap(p, q)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('tells apart globs that cannot meet', () => {
    const overlap = (a: string, b: string) => patternsOverlap(parsePattern(a), parsePattern(b));
    expect(overlap('out/*.js', 'out/*.css')).toBe(false);
    expect(overlap('out/*.js', 'out/app.js')).toBe(true);
    expect(overlap('dist/', 'dist/docs/')).toBe(true);
    expect(overlap('dist/', 'docs/')).toBe(false);
    expect(overlap('**/*.map', 'maps/x.map')).toBe(true);
    expect(overlap('a/**/b', 'a/c')).toBe(true); // a/c may be a directory holding a/c/b
  });
});
