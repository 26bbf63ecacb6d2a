import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { closureOf, planPipeline, type PlanInput } from '../../src/pipeline/index.js';

// The planner (seed 003 §2.2 and §8.1): parallel groups, depth, critical path, bottlenecks. Pure.

const steps = (spec: Record<string, string[]>): PlanInput[] => Object.entries(spec).map(([name, needs]) => ({ name, needs }));

// Seed 003 §2.2: lint and test in parallel, build waits for both, deploy after build.
const SEED = steps({ lint: [], test: [], build: ['lint', 'test'], deploy: ['build'] });

describe('planPipeline', () => {
  it('groups the seed pipeline as seed 003 §2.2 describes its execution order', () => {
    const plan = planPipeline(SEED);
    expect(plan.groups).toEqual([['lint', 'test'], ['build'], ['deploy']]);
    expect(plan.depth).toBe(3);
    expect(plan.order).toEqual(['lint', 'test', 'build', 'deploy']);
  });

  it('places a step by its longest chain of needs, whatever the declaration order', () => {
    const plan = planPipeline(steps({ e: ['d', 'a'], d: ['c'], c: ['b'], b: ['a'], a: [], x: [] }));
    expect(plan.groups).toEqual([['a', 'x'], ['b'], ['c'], ['d'], ['e']]);
    expect(plan.order.indexOf('a')).toBeLessThan(plan.order.indexOf('b'));
    expect(plan.order.indexOf('d')).toBeLessThan(plan.order.indexOf('e'));
  });

  it('takes the critical path by step count without durations, by durations when every step has one', () => {
    const graph = steps({ a: [], b: [], c: ['a'], d: ['c'], e: ['b'], f: ['d', 'e'] });
    expect(planPipeline(graph).criticalPath).toEqual({ steps: ['a', 'c', 'd', 'f'], basis: 'steps' });
    const timed = planPipeline(graph, { a: 1, b: 100, c: 1, d: 1, e: 1, f: 2 });
    expect(timed.criticalPath).toEqual({ steps: ['b', 'e', 'f'], basis: 'durations', durationSecs: 103 });
    // One step without a duration: back to counting steps.
    expect(planPipeline(graph, { a: 1, b: 100, c: 1, d: 1, e: 1 }).criticalPath.basis).toBe('steps');
  });

  it('names as bottlenecks the steps that two or more others need, most needed first', () => {
    const plan = planPipeline(steps({ clone: [], deps: ['clone'], lint: ['deps'], test: ['deps'], build: ['deps'], docs: ['clone'], deploy: ['build'] }));
    expect(plan.bottlenecks).toEqual([{ step: 'clone', neededBy: 6 }, { step: 'deps', neededBy: 4 }]);
    expect(planPipeline(SEED).bottlenecks).toEqual([
      { step: 'lint', neededBy: 2 },
      { step: 'test', neededBy: 2 },
    ]);
  });

  it('closureOf is a step and everything it needs', () => {
    expect([...closureOf(SEED, 'build')].sort()).toEqual(['build', 'lint', 'test']);
    expect([...closureOf(SEED, 'lint')]).toEqual(['lint']);
  });

  it('orders every random DAG topologically, with groups consistent with the needs', () => {
    const dag = fc.integer({ min: 1, max: 25 }).chain((n) =>
      fc.tuple(...Array.from({ length: n }, (_, i) => fc.subarray(Array.from({ length: i }, (_, k) => `s${k}`), { maxLength: Math.min(4, i) }))),
    );
    fc.assert(
      fc.property(dag, (needsList) => {
        const input = needsList.map((needs, i) => ({ name: `s${i}`, needs }));
        const plan = planPipeline(input);
        const position = new Map(plan.order.map((n, i) => [n, i]));
        const group = new Map(plan.groups.flatMap((g, i) => g.map((n) => [n, i] as const)));
        expect(plan.order).toHaveLength(input.length);
        for (const s of input) {
          for (const need of s.needs) {
            expect(position.get(need)!).toBeLessThan(position.get(s.name)!);
            expect(group.get(need)!).toBeLessThan(group.get(s.name)!);
          }
        }
        expect(plan.criticalPath.steps).toHaveLength(plan.depth);
      }),
    );
  });
});
