import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EvidentError } from '../../src/core/index.js';
import {
  DirAccumulator, checkExcludePattern, dirFingerprint, goClean, goMatch, parseIgnoreFile, planDirWalk, sha256Hex, toByteString,
  type PlanOptions, type TreeNode,
} from '../../src/formats/index.js';

// A tree spec: a string is a file's content, an object a directory.
type Spec = { [name: string]: string | Spec };

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

function tree(spec: Spec): TreeNode {
  const children = Object.keys(spec)
    .sort()
    .map((name): TreeNode => {
      const v = spec[name]!;
      return typeof v === 'string' ? { name, kind: 'file' } : { ...tree(v), name };
    });
  return { name: '', kind: 'dir', children };
}

function contentOf(spec: Spec, rel: string): string {
  let node: string | Spec = spec;
  for (const part of rel.split('/')) node = (node as Spec)[part]!;
  return node as string;
}

/** The fingerprint of an in-memory tree, as the service computes it on disk. */
function fp(spec: Spec, options: PlanOptions = {}): string {
  return dirFingerprint(planDirWalk(tree(spec), options), (e) => sha(contentOf(spec, e.rel)));
}

/** Kosli's root ignore file, as the service reads it. */
function fpWithIgnoreFile(spec: Spec, exclude: string[] = []): string {
  const text = spec['.kosli_ignore'] as string;
  return fp(spec, { exclude, ignoreRules: parseIgnoreFile(text), protectedNames: ['.kosli_ignore'] });
}

const S = 'some content. And some more.';
const nested = { file1: 'content1', file2: 'content2' };

describe('Kosli fingerprint vectors (test/vectors/kosli-fingerprints.md), on in-memory trees', () => {
  it('files are the SHA-256 of their bytes', () => {
    expect(sha256Hex(Buffer.from('hello world!'))).toBe('7509e5bda0c762d2bac7f90d758b5b2263fa01ccbc542ab5e3df163be08e6ca9');
    expect(sha256Hex(Buffer.alloc(0))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex(Buffer.from('this is non empty'))).toBe('1256d6510a6606ad61a4f6104243a291b18383b456d50205eba893b51e1807bc');
  });

  it.each<[string, Spec, string[], string]>([
    ['empty directory', {}, [], 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['file.extra', { 'file.extra': 'this is known extra content' }, [], 'c71f5baef8cce289c9b7c971cf219e21b787a025af68ad6539b82634fe62819e'],
    ['sample.txt', { 'sample.txt': 'some content.' }, [], '388ab80164bbd9d96f132b046b8d09354f68b79a3668da7b507625cd1230dddf'],
    ['sample.txt, more content', { 'sample.txt': S }, [], '5b0e14a923d7239b0a23750a6bbfc837f71e684b8bdc2909d5ff6d90e59449c1'],
    ['sample.yaml', { 'sample.yaml': S }, [], 'c38fbc1a99dad628142d0b7e2e05901362623d2b81e316d2cf650b08e93e0cef'],
    ['nested-dir', { 'sample.yaml': S, 'nested-dir': nested }, [], '5d3c17dae9e208bbb92ee04ff8342abf77cb0959764def4af3ccfe9a2109d4a7'],
    ['nested-dir2', { 'sample.yaml': S, 'nested-dir2': nested }, [], 'db40d79b3a15b17ee9fcc2f49aa73736e0073de6b5a35c459268bb9a31e55139'],
    ['exclude logs', { 'sample.yaml': S, 'nested-dir': nested, logs: { file1: 'content1' } }, ['logs'], '5d3c17dae9e208bbb92ee04ff8342abf77cb0959764def4af3ccfe9a2109d4a7'],
    ['exclude logs and a file', { 'sample.yaml': S, 'nested-dir': nested, logs: { file1: 'content1' } }, ['logs', 'nested-dir/file1'], '2acbc9efc1f86f89086a9539244946839599b3639da7f4959744c20234cb4f40'],
    ['folder1', { 'hello.txt': 'Hello, world! Again!', folder2: { 'hello2.txt': 'hello2', 'hello3.txt': 'hello3' } }, [], 'c43808cb04c6e66c4c6fc1f972dd67c3b9b71c81e0a0c78730da3699922d17be'],
    ['folder1 without folder2', { 'hello.txt': 'Hello, world! Again!', folder2: { 'hello2.txt': 'hello2', 'hello3.txt': 'hello3' } }, ['folder2'], '773fd3300860454a2b065c5912c03008adb11e6a6dcf7c1c64c094ceab8f430a'],
  ])('%s', (_name, spec, exclude, expected) => {
    expect(fp(spec, { exclude })).toBe(expected);
  });

  it('the .kosli_ignore row, with and without the directories it excludes', () => {
    const base = { 'sample.yaml': S, '.kosli_ignore': 'logs\n*/logs', 'nested-dir': nested };
    expect(fpWithIgnoreFile(base)).toBe('4048004ce6f91e8ce27c35e5e857948a46750567cf7c873ee32b120f4318363c');
    const withLogs = { ...base, 'nested-dir': { ...nested, logs: { 'log.txt': 'this is a log' } }, logs: { file1: 'content1' } };
    expect(fpWithIgnoreFile(withLogs)).toBe('4048004ce6f91e8ce27c35e5e857948a46750567cf7c873ee32b120f4318363c');
  });

  it('the worked example: the accumulator is hex(sha256(name)) + hex(sha256(content))', () => {
    const acc = new DirAccumulator();
    acc.addFile('sample.txt', sha('some content.'));
    expect(acc.fingerprint()).toBe(sha(sha('sample.txt') + sha('some content.')));
    expect(sha(sha('sample.txt') + sha('some content.'))).toBe('388ab80164bbd9d96f132b046b8d09354f68b79a3668da7b507625cd1230dddf');
  });

  it('a link to a directory contributes the hash of its target string and is not descended into', () => {
    const root: TreeNode = { name: '', kind: 'dir', children: [{ name: 'lib', kind: 'symlink-dir', target: '../shared/lib' }] };
    expect(dirFingerprint(planDirWalk(root), () => '')).toBe(sha(sha('lib') + sha('../shared/lib')));
  });

  it('refuses a broken link or a special file that the walk reaches, but not one it excludes', () => {
    const root: TreeNode = { name: '', kind: 'dir', children: [{ name: 'dangling', kind: 'symlink-broken' }, { name: 'fifo', kind: 'other' }] };
    expect(() => dirFingerprint(planDirWalk(root, { exclude: ['fifo'] }), () => '')).toThrow(/dangling.*broken symbolic link/);
    expect(() => dirFingerprint(planDirWalk(root, { exclude: ['dangling'] }), () => '')).toThrow(/fifo/);
    expect(dirFingerprint(planDirWalk(root, { exclude: ['*'] }), () => '')).toBe(sha(''));
  });
});

describe("Go's path.Match (src/path/match_test.go)", () => {
  it.each<[string, string, boolean | undefined]>([
    ['abc', 'abc', true], ['*', 'abc', true], ['*c', 'abc', true], ['a*', 'a', true], ['a*', 'abc', true], ['a*', 'ab/c', false],
    ['a*/b', 'abc/b', true], ['a*/b', 'a/c/b', false], ['a*b*c*d*e*/f', 'axbxcxdxe/f', true], ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true],
    ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false], ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false], ['a*b?c*x', 'abxbbxdbxebxczzx', true],
    ['a*b?c*x', 'abxbbxdbxebxczzy', false], ['ab[c]', 'abc', true], ['ab[b-d]', 'abc', true], ['ab[e-g]', 'abc', false],
    ['ab[^c]', 'abc', false], ['ab[^b-d]', 'abc', false], ['ab[^e-g]', 'abc', true], ['a\\*b', 'a*b', true], ['a\\*b', 'ab', false],
    ['a?b', 'a☺b', true], ['a[^a]b', 'a☺b', true], ['a???b', 'a☺b', false], ['a[^a][^a][^a]b', 'a☺b', false], ['[a-ζ]*', 'α', true],
    ['*[a-ζ]', 'A', false], ['a?b', 'a/b', false], ['a*b', 'a/b', false], ['[\\]a]', ']', true], ['[\\-]', '-', true],
    ['[x\\-]', 'x', true], ['[x\\-]', '-', true], ['[x\\-]', 'z', false], ['[\\-x]', 'x', true], ['[\\-x]', '-', true], ['[\\-x]', 'a', false],
    ['[]a]', ']', undefined], ['[-]', '-', undefined], ['[x-]', 'x', undefined], ['[x-]', '-', undefined], ['[x-]', 'z', undefined],
    ['[-x]', 'x', undefined], ['[-x]', '-', undefined], ['[-x]', 'a', undefined], ['\\', 'a', undefined], ['[a-b-c]', 'a', undefined],
    ['[', 'a', undefined], ['[^', 'a', undefined], ['[^bc', 'a', undefined], ['a[', 'a', undefined], ['a[', 'ab', undefined],
    ['a[', 'x', undefined], ['a/b[', 'x', undefined], ['*x', 'xxx', true],
  ])('Match(%j, %j)', (pattern, name, expected) => {
    expect(goMatch(toByteString(pattern), toByteString(name))).toBe(expected);
  });

  it('agrees with a regular expression on patterns of literals, * and ?', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[ab*?]{0,8}$/), fc.stringMatching(/^[ab/]{0,8}$/), (pattern, name) => {
        const re = new RegExp('^' + pattern.replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]') + '$');
        expect(goMatch(pattern, name)).toBe(re.test(name));
      }),
    );
  });

  it('cleans paths as path.Clean does', () => {
    for (const [p, c] of [['', '.'], ['a//b/', 'a/b'], ['./a/../b', 'b'], ['/../a', '/a'], ['../../a', '../../a'], ['a/..', '.'], ['/', '/']]) {
      expect(goClean(p!)).toBe(c);
    }
  });
});

describe('exclude rules as Kosli resolves them (filepath.Glob + filepathx "**")', () => {
  // The tree of Kosli's internal/digest/virtualignore_test.go, with a root .kosli_ignore holding the rules.
  const ignoreTestTree: Spec = {
    'app.js': 'app', 'app.log': 'log at the root', 'notes.txt': 'notes',
    logs: { file1: 'c1', deep: { file2: 'c2' } },
    'nested-dir': { file1: 'n1', logs: { 'log.txt': 'nl' } },
    vendor: { lib: { 'v.js': 'v', '.kosli_ignore': 'nested-rules' } },
    a: { x: 'ax', b: { x: 'abx', c: { x: 'abcx' } } },
  };
  // [rule, does it change the digest] — the expectations of Kosli's TestMatchesDirSha256.
  it.each<[string, boolean]>([
    ['', false], ['# nothing\n\n   \n', false], ['logs', true], ['app.js', true], ['*/logs', true], ['logs/*', true], ['*.log', true],
    ['**/*.log', true], ['**/x', true], ['a/**/x', true], ['**/logs', true], ['**', true], ['**.log', false], ['vendor/**/.kosli_ignore', true],
    ['logs/', true], ['/logs', true], ['./logs', true], ['nested-dir//logs', true], ['../logs', false], ['does-not-exist', false],
    ['*', true], ['app.[jl]?', true], ['a/?', true], ['app\\*', false], ['logs\n# keep vendor\n*/logs\napp.log  # trailing comment\n', true],
    ['.kosli_ignore', false], ['*ignore*', false], ['.kosli*', false], ['**/.kosli_ignore', true],
  ])('rule %j changes the digest: %s', (rules, hasEffect) => {
    const spec = { ...ignoreTestTree, '.kosli_ignore': rules || 'x-no-rules-x' };
    const none = fp(spec);
    expect(fpWithIgnoreFile(spec) !== none).toBe(hasEffect);
  });

  const excluded = (spec: Spec, rules: string[]) => planDirWalk(tree(spec), { exclude: rules }).excluded;

  it('"**" matches at any depth, and an excluded directory drops its subtree', () => {
    const spec: Spec = { 'a.log': '1', src: { 'b.log': '2', deep: { 'c.log': '3', keep: 'k' } }, logs: { x: 'x' } };
    expect(excluded(spec, ['**/*.log'])).toEqual(['a.log', 'src/b.log', 'src/deep/c.log']);
    expect(fp(spec, { exclude: ['src/**/*.log'] })).toBe(fp({ 'a.log': '1', src: { deep: { keep: 'k' } }, logs: { x: 'x' } }));
    expect(excluded(spec, ['src/deep'])).toEqual(['src/deep']);
    expect(fp(spec, { exclude: ['logs'] })).toBe(fp({ 'a.log': '1', src: spec.src! }));
  });

  it('keeps Kosli\'s quirk: a literal after "**" does not match at the top level ("**/x" is "dir//x")', () => {
    const spec: Spec = { x: { inside: '1' }, sub: { x: { inside: '2' } } };
    // sub/x goes; the top-level x keeps its name in the digest but loses its contents.
    expect(fp(spec, { exclude: ['**/x'] })).toBe(fp({ x: {}, sub: {} }));
    expect(fp(spec, { exclude: ['x', '**/x'] })).toBe(fp({ sub: {} }));
  });

  it('an ignore file cannot hide itself, but --exclude can drop it (Kosli #6785)', () => {
    const approved: Spec = { app: { 'index.js': 'console.log(1)' } };
    for (const rules of ['.kosli_ignore\napp/backdoor.js', '*ignore*\napp/backdoor.js', '.kosli*\napp/backdoor.js', '**\napp/backdoor.js']) {
      const deployed: Spec = { app: { 'index.js': 'console.log(1)', 'backdoor.js': 'BACKDOOR' }, '.kosli_ignore': rules };
      expect(fpWithIgnoreFile(deployed)).not.toBe(fp(approved));
    }
    const deployed: Spec = { app: { 'index.js': 'console.log(1)', 'backdoor.js': 'BACKDOOR' }, '.kosli_ignore': 'app/backdoor.js' };
    expect(fpWithIgnoreFile(deployed, ['.kosli_ignore'])).toBe(fp(approved));
  });

  it('refuses malformed patterns, naming them', () => {
    for (const bad of ['[', 'logs/[', 'a/**/[', '\\', '[z-a', 'nonexistent/**/a[']) {
      expect(() => checkExcludePattern(bad)).toThrow(EvidentError);
      expect(() => planDirWalk(tree({ a: 'x' }), { exclude: [bad] })).toThrow(`exclude pattern ${JSON.stringify(bad)}`);
    }
    expect(() => checkExcludePattern('a\0b')).toThrow(/NUL/);
  });
});

describe('ignore files', () => {
  it('parse as Kosli parses them: # comments, blanks, white space, CRLF', () => {
    expect(parseIgnoreFile('')).toEqual([]);
    expect(parseIgnoreFile('\n  logs  \n\n\t*.log\t\n')).toEqual(['logs', '*.log']);
    expect(parseIgnoreFile('# all logs\nlogs\n# done')).toEqual(['logs']);
    expect(parseIgnoreFile('logs # noisy\n   # only a comment')).toEqual(['logs']);
    expect(parseIgnoreFile('logs\r\n*.log\r\n')).toEqual(['logs', '*.log']);
  });

  it('never yield blank rules, comments or surrounding white space', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[ a#*\t\r/]{0,6}$/), { maxLength: 6 }), (lines) => {
        for (const rule of parseIgnoreFile(lines.join('\n'))) {
          expect(rule).not.toBe('');
          expect(rule).not.toContain('#');
          expect(rule).toBe(rule.trim());
        }
      }),
    );
  });
});

// Random trees: names from a small alphabet (including a dot, so "a.b" and "a/…" interleave), files as leaves.
const names = fc.constantFrom('a', 'b', 'a.b', 'a-b', 'B', 'é', 'zz');
const specArb: fc.Arbitrary<Spec> = fc.letrec<{ spec: Spec }>((tie) => ({
  spec: fc.dictionary(names, fc.oneof({ maxDepth: 3 }, fc.string({ maxLength: 6 }), tie('spec')), { maxKeys: 4 }),
})).spec;

/** The documented formula, written independently: bytewise name order, depth first, root skipped. */
function formula(spec: Spec): string {
  const walk = (s: Spec): string =>
    Object.keys(s)
      .sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)))
      .map((name) => {
        const v = s[name]!;
        return typeof v === 'string' ? sha(name) + sha(v) : sha(name) + walk(v);
      })
      .join('');
  return sha(walk(spec));
}

const toBytes = (spec: Spec): Spec =>
  Object.fromEntries(Object.entries(spec).map(([k, v]) => [toByteString(k), typeof v === 'string' ? v : toBytes(v)]));

describe('properties', () => {
  it('the accumulator equals the documented formula', () => {
    fc.assert(
      fc.property(specArb, (spec) => {
        expect(fp(toBytes(spec))).toBe(formula(spec));
      }),
    );
  });

  it('excluding a pattern that matches nothing does not change the digest', () => {
    fc.assert(
      fc.property(specArb, fc.constantFrom('nothing-here', '**/nothing', '*.none', 'a/zz/q*', '[q-r]'), (spec, rule) => {
        expect(fp(spec, { exclude: [rule] })).toBe(fp(spec));
      }),
    );
  });

  it('excluding a top-level name is the same as removing it', () => {
    fc.assert(
      fc.property(specArb, names, (spec, name) => {
        const rest = Object.fromEntries(Object.entries(spec).filter(([k]) => k !== name));
        expect(fp(toBytes(spec), { exclude: [name] })).toBe(fp(toBytes(rest)));
      }),
    );
  });

  it('the root name never matters and any change of a name or content changes the digest', () => {
    fc.assert(
      fc.property(specArb, fc.string({ minLength: 1, maxLength: 4 }), (spec, extra) => {
        fc.pre(Object.keys(spec).length > 0);
        const first = Object.keys(spec)[0]!;
        const renamed = { ...spec, [first + '~']: spec[first]! };
        delete renamed[first];
        expect(fp(toBytes(renamed))).not.toBe(fp(toBytes(spec)));
        expect(fp(toBytes({ ...spec, 'new-file': extra }))).not.toBe(fp(toBytes(spec)));
      }),
    );
  });
});
