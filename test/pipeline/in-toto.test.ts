import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EvidentError } from '../../src/core/index.js';
import { generateWorkspaceKey, linkFileName, runLayout } from '../../src/pipeline/index.js';
import { tempDir } from '../helpers/engines.js';
import { runFixture, type FixtureStep } from './attestation-fixture.js';

const STEPS: FixtureStep[] = [
  { name: 'clone', run: 'mkdir -p src && echo a > src/a.txt && echo b > "src/[b].txt"', outputs: ['src/'] },
  { name: 'build', run: 'mkdir -p out && cat src/*.txt config.ini > out/app', needs: ['clone'], inputs: ['src/', 'config.ini'], outputs: ['out/app'] },
  { name: 'test', run: 'cat out/app src/a.txt', needs: ['build'], inputs: ['out/app', 'src/a.txt'] },
  { name: 'evident-check-outputs', run: 'true' },
];

async function layoutOf(steps: FixtureStep[]) {
  const ws = tempDir();
  fs.writeFileSync(path.join(ws, 'config.ini'), 'x=1\n');
  const key = generateWorkspaceKey(ws, { name: 'ci' });
  const run = await runFixture(ws, 'demo', steps, []);
  return { layout: runLayout(run, key, path.join(ws, 'in-toto')), key };
}

describe('in-toto layout rules', () => {
  it('MATCHes each material made upstream (transitively) to its producer, ALLOWs sources, and ends in DISALLOW *', async () => {
    const { layout, key } = await layoutOf(STEPS);
    const step = (name: string) => layout.steps.find((s) => s.name === name)!;
    expect(step('build').expected_materials).toEqual([
      ['ALLOW', 'config.ini'],
      ['MATCH', 'src/[[]b].txt', 'WITH', 'PRODUCTS', 'FROM', 'clone'],
      ['MATCH', 'src/a.txt', 'WITH', 'PRODUCTS', 'FROM', 'clone'],
      ['DISALLOW', '*'],
    ]);
    expect(step('build').expected_products).toEqual([['CREATE', 'out/app'], ['DISALLOW', '*']]);
    expect(step('test').expected_materials).toEqual([
      ['MATCH', 'out/app', 'WITH', 'PRODUCTS', 'FROM', 'build'],
      ['MATCH', 'src/a.txt', 'WITH', 'PRODUCTS', 'FROM', 'clone'],
      ['DISALLOW', '*'],
    ]);
    expect(step('build')).toMatchObject({ pubkeys: [key.keyId], threshold: 1, expected_command: ['/bin/sh', '-c', STEPS[1]!.run] });
    for (const item of [...layout.steps, ...layout.inspect]) {
      expect(item.expected_materials.at(-1)).toEqual(['DISALLOW', '*']);
      expect(item.expected_products.at(-1)).toEqual(['DISALLOW', '*']);
    }
  });

  it('the inspection REQUIREs and MATCHes each final output, refuses anything else there, and has a name no step has', async () => {
    const { layout } = await layoutOf(STEPS);
    expect(layout.inspect).toHaveLength(1);
    const inspection = layout.inspect[0]!;
    expect(inspection.name).toBe('evident-check-outputs-2');
    expect(inspection.run).toEqual(['true']);
    const rules = inspection.expected_materials.map((r) => r.join(' '));
    expect(rules).toContain('REQUIRE src/[b].txt');
    expect(rules).toContain('MATCH src/[[]b].txt WITH PRODUCTS FROM clone');
    expect(rules).toContain('MATCH out/app WITH PRODUCTS FROM build');
    expect(rules.indexOf('DISALLOW out/app')).toBeGreaterThan(rules.indexOf('MATCH out/app WITH PRODUCTS FROM build'));
    expect(rules.indexOf('DISALLOW out/app')).toBeLessThan(rules.indexOf('ALLOW out/*'));
    expect(rules).toContain('DISALLOW src/*');
    expect(rules).toContain('ALLOW .evident/*');
    expect(rules).toContain('ALLOW config.ini');
  });

  it('a step that did not run gets rules from its declaration', async () => {
    const steps = STEPS.map((s) => (s.name === 'build' ? { ...s, run: 'exit 1' } : s));
    const { layout } = await layoutOf(steps);
    const test = layout.steps.find((s) => s.name === 'test')!;
    expect(test.expected_materials).toEqual([['ALLOW', 'out/app'], ['ALLOW', 'src/a.txt'], ['DISALLOW', '*']]);
    const build = layout.steps.find((s) => s.name === 'build')!;
    expect(build.expected_materials).toEqual([['ALLOW', 'src/*'], ['ALLOW', 'config.ini'], ['DISALLOW', '*']]);
  });

  it('link file names: <step>.<keyid8>.link, never a path', () => {
    expect(linkFileName('build', 'abcdef0123456789')).toBe('build.abcdef01.link');
    for (const bad of ['../x', 'a/b', '.', '..']) expect(() => linkFileName(bad, 'abcdef01')).toThrow(EvidentError);
  });
});
