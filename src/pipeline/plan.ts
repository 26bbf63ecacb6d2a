// Planning a pipeline (seed 003 §2.2 and §8.1): the DAG's topological order, the groups of steps that can
// run in parallel, its depth, the critical path and the bottlenecks. Pure: no I/O. The graph has passed
// validation (spec.ts): every need is a declared step and there is no cycle.

export interface PlanInput {
  name: string;
  needs: readonly string[];
}

export interface CriticalPath {
  steps: string[];
  /** 'durations' when every step has a last known duration (from the cache metadata), else 'steps'. */
  basis: 'durations' | 'steps';
  /** Sum of the durations along the path (only with basis 'durations'). */
  durationSecs?: number;
}

export interface Bottleneck {
  step: string;
  /** How many steps need it, directly or through others. */
  neededBy: number;
}

export interface Plan {
  /** Every step, each after the steps it needs; ties in declaration order. */
  order: string[];
  /** Group i holds the steps whose longest chain of needs is i long: each group can run in parallel. */
  groups: string[][];
  depth: number;
  criticalPath: CriticalPath;
  /** Steps that at least two others need (transitively), most needed first. */
  bottlenecks: Bottleneck[];
}

export function planPipeline(steps: readonly PlanInput[], durations: Readonly<Record<string, number>> = {}): Plan {
  const byName = new Map(steps.map((s) => [s.name, s]));
  const level = new Map<string, number>();
  const order: string[] = [];
  // Depth-first in declaration order: a step is placed after everything it needs.
  const visit = (name: string): number => {
    const known = level.get(name);
    if (known !== undefined) return known;
    let l = 0;
    for (const need of byName.get(name)!.needs) l = Math.max(l, visit(need) + 1);
    level.set(name, l);
    order.push(name);
    return l;
  };
  steps.forEach((s) => visit(s.name));
  const groups: string[][] = [];
  for (const s of steps) (groups[level.get(s.name)!] ??= []).push(s.name);

  const timed = steps.length > 0 && steps.every((s) => typeof durations[s.name] === 'number');
  const weight = (name: string) => (timed ? durations[name]! : 1);
  const cost = new Map<string, number>();
  const via = new Map<string, string | undefined>();
  for (const name of order) {
    let best: string | undefined;
    for (const need of byName.get(name)!.needs) if (best === undefined || cost.get(need)! > cost.get(best)!) best = need;
    cost.set(name, weight(name) + (best === undefined ? 0 : cost.get(best)!));
    via.set(name, best);
  }
  let end: string | undefined;
  for (const name of order) if (end === undefined || cost.get(name)! > cost.get(end)!) end = name;
  const path: string[] = [];
  for (let s = end; s !== undefined; s = via.get(s)) path.unshift(s);
  const criticalPath: CriticalPath = timed ? { steps: path, basis: 'durations', durationSecs: end === undefined ? 0 : cost.get(end)! } : { steps: path, basis: 'steps' };

  // Transitive dependents, from the last step of the order backwards: each step's set is its direct
  // dependents plus theirs (one pass, instead of one graph walk per step).
  const direct = new Map<string, string[]>(steps.map((s) => [s.name, []]));
  for (const s of steps) for (const need of s.needs) direct.get(need)!.push(s.name);
  const below = new Map<string, Set<string>>();
  for (const name of [...order].reverse()) {
    const set = new Set<string>();
    for (const d of direct.get(name)!) {
      set.add(d);
      for (const x of below.get(d)!) set.add(x);
    }
    below.set(name, set);
  }
  const bottlenecks = steps
    .map((s, i) => ({ step: s.name, neededBy: below.get(s.name)!.size, i }))
    .filter((b) => b.neededBy >= 2)
    .sort((a, b) => b.neededBy - a.neededBy || a.i - b.i)
    .map(({ step, neededBy }) => ({ step, neededBy }));
  return { order, groups, depth: groups.length, criticalPath, bottlenecks };
}

/** Every step that needs `name`, directly or through others. */
export function dependentsOf(steps: readonly PlanInput[], name: string): Set<string> {
  const direct = new Map<string, string[]>();
  for (const s of steps) for (const need of s.needs) (direct.get(need) ?? direct.set(need, []).get(need)!).push(s.name);
  const out = new Set<string>();
  const stack = [name];
  while (stack.length > 0) for (const d of direct.get(stack.pop()!) ?? []) if (!out.has(d)) stack.push((out.add(d), d));
  return out;
}

/** `name` and every step it needs, directly or through others. */
export function closureOf(steps: readonly PlanInput[], name: string): Set<string> {
  const byName = new Map(steps.map((s) => [s.name, s]));
  const out = new Set<string>();
  const stack = [name];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (out.has(n)) continue;
    out.add(n);
    stack.push(...(byName.get(n)?.needs ?? []));
  }
  return out;
}
