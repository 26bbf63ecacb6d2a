import { describe, expect, it } from 'vitest';
import { parseFilter, parseSpec, selectSteps, stepsChangedSince } from '../../src/pipeline/index.js';
import { replayBlocker } from '../../src/pipeline/replay-record.js';

// turbo's --filter and --affected over steps (issue #19 item 3): src/pipeline/select.ts.

const spec = parseSpec(`version: "0.1"
name: demo
steps:
  lint: { run: "true", inputs: [src/a.c] }
  build: { run: "true", needs: [lint], inputs: ["src/"], outputs: [out/app] }
  test-unit: { run: "true", needs: [build], inputs: [out/app, "test/**/*.c"] }
  test-e2e: { run: "true", needs: [build] }
  deploy: { run: "true", needs: [test-unit, test-e2e] }
  docs: { run: "true", inputs: ["docs/*.md"] }
`).spec!;

const pick = (filters: string[], changed: Record<string, string[]> = {}, affected?: string) =>
  selectSteps(spec, '/nowhere', { filters, attestFile: 'attest.yaml', ...(affected ? { affected } : {}), changedFiles: (ref) => changed[ref] ?? [] });

describe('--filter', () => {
  it('parses turbo syntax', () => {
    expect(parseFilter('build')).toMatchObject({ name: 'build', exclude: false, dependencies: false, dependents: false, withoutSelf: false });
    expect(parseFilter('...build')).toMatchObject({ name: 'build', dependencies: true });
    expect(parseFilter('...^build')).toMatchObject({ name: 'build', dependencies: true, withoutSelf: true });
    expect(parseFilter('build...')).toMatchObject({ name: 'build', dependents: true });
    expect(parseFilter('build^...')).toMatchObject({ name: 'build', dependents: true, withoutSelf: true });
    expect(parseFilter('!test-*')).toMatchObject({ name: 'test-*', exclude: true });
    expect(parseFilter('[origin/main]...')).toMatchObject({ ref: 'origin/main', dependents: true });
    for (const bad of ['', '...', '!', '...^x^...', 'a b', 'x/y', '[]', '[a b]', '[abc', 'a[']) expect(() => parseFilter(bad), bad).toThrow(/--filter/);
  });

  it('picks targets by name or glob, and always runs what they need', () => {
    expect(pick(['build'])).toMatchObject({ targets: ['build'], steps: ['lint', 'build'] });
    expect(pick(['test-*'])).toMatchObject({ targets: ['test-unit', 'test-e2e'], steps: ['lint', 'build', 'test-unit', 'test-e2e'] });
    expect(pick(['docs', 'lint']).steps).toEqual(['lint', 'docs']);
    expect(() => pick(['nope'])).toThrow(/no step is named "nope" \(steps: lint, build/);
    expect(() => pick(['zz*'])).toThrow(/no step matches "zz\*"/);
  });

  it('follows dependencies and dependents, with ^ leaving the step out', () => {
    expect(pick(['build...']).targets).toEqual(['build', 'test-unit', 'test-e2e', 'deploy']);
    expect(pick(['build^...']).targets).toEqual(['test-unit', 'test-e2e', 'deploy']);
    expect(pick(['...test-unit']).targets).toEqual(['lint', 'build', 'test-unit']);
    expect(pick(['...^test-unit'])).toMatchObject({ targets: ['lint', 'build'], steps: ['lint', 'build'] });
  });

  it('excludes with !, from the others or from every step', () => {
    expect(pick(['!docs', '!deploy']).targets).toEqual(['lint', 'build', 'test-unit', 'test-e2e']);
    expect(pick(['build...', '!test-*']).targets).toEqual(['build', 'deploy']);
    // An excluded step that a target needs still runs (from the cache when built): it is needed.
    expect(pick(['build...', '!test-*']).steps).toEqual(['lint', 'build', 'test-unit', 'test-e2e', 'deploy']);
  });
});

describe('--affected and [REF]', () => {
  it('finds the steps whose inputs hold a changed file; a global input changes them all', () => {
    expect(stepsChangedSince(spec, 'attest.yaml', ['src/b.c'])).toEqual(['build']);
    expect(stepsChangedSince(spec, 'attest.yaml', ['src/a.c'])).toEqual(['lint', 'build']);
    expect(stepsChangedSince(spec, 'attest.yaml', ['test/x/y.c', 'README.md'])).toEqual(['test-unit']);
    // A step's own outputs are not its inputs.
    expect(stepsChangedSince(spec, 'attest.yaml', ['out/app'])).toEqual(['test-unit']);
    expect(stepsChangedSince(spec, 'attest.yaml', ['package-lock.json'])).toHaveLength(6);
    expect(stepsChangedSince(spec, 'ci/attest.yaml', ['ci/attest.yaml'])).toHaveLength(6);
    expect(stepsChangedSince(spec, 'attest.yaml', [])).toEqual([]);
  });

  it('--affected: what changed and what needs it, with their needs to run', () => {
    const r = pick([], { main: ['docs/a.md', 'test/t.c'] }, 'main');
    expect(r.targets).toEqual(['test-unit', 'deploy', 'docs']);
    expect(r.steps).toEqual(['lint', 'build', 'test-unit', 'test-e2e', 'deploy', 'docs']);
    expect(r.changed.get('main')).toEqual(['test-unit', 'docs']);
    expect(pick([], {}, 'main')).toMatchObject({ targets: [], steps: [] });
    // With filters: only what both pick.
    expect(pick(['!deploy'], { main: ['test/t.c'] }, 'main').targets).toEqual(['test-unit']);
  });

  it('[REF] in a filter, with the dependents syntax', () => {
    expect(pick(['[v1]'], { v1: ['src/b.c'] }).targets).toEqual(['build']);
    expect(pick(['[v1]...'], { v1: ['src/b.c'] }).targets).toEqual(['build', 'test-unit', 'test-e2e', 'deploy']);
    expect(pick(['[v1]'], {}).targets).toEqual([]);
  });
});

describe('a selected run and the replay fast path', () => {
  it('is never recorded for replay: the next plain run must run the whole pipeline', () => {
    expect(replayBlocker(spec, { select: ['lint', 'build'] })).toBe('--filter / --affected');
    expect(replayBlocker(spec, {})).toBeUndefined();
  });
});
