import type { StepSpec } from './types.js';
import { closest } from './spec-checks.js';
import { joinPath, type SpecProblem } from './spec-walk.js';
import { parsePattern, patternProblem, patternsOverlap, type Pattern } from './patterns.js';

// The checks of attest.yaml that look across steps: unknown and repeated `needs`, cycles (reported as
// their path, `a -> b -> a`), and outputs claimed by two steps.

const needPath = (step: string, i: number) => joinPath(joinPath(joinPath('steps', step), 'needs'), i);

/** Unknown, self and repeated needs. Returns the edges that point at known steps. */
export function checkNeeds(steps: Map<string, StepSpec>, declared: ReadonlySet<string> = new Set(steps.keys())): { problems: SpecProblem[]; edges: Map<string, string[]> } {
  const problems: SpecProblem[] = [];
  const edges = new Map<string, string[]>();
  for (const [name, step] of steps) {
    const seen = new Set<string>();
    const known: string[] = [];
    step.needs.forEach((need, i) => {
      if (seen.has(need)) problems.push({ path: needPath(name, i), message: `"${need}" is listed twice` });
      else if (!declared.has(need)) {
        const guess = closest(need, declared);
        problems.push({ path: needPath(name, i), message: `unknown step "${need}"${guess ? ` (did you mean "${guess}"?)` : ''}` });
      } else if (steps.has(need)) known.push(need); // a declared step with problems of its own is not followed
      seen.add(need);
    });
    edges.set(name, known);
  }
  return { problems, edges };
}

/**
 * Every cycle, once, as a path from the first step of it in declaration order (`a -> b -> a`), found as the
 * strongly connected components of the needs graph (Tarjan), each walked to close one loop.
 */
export function findCycles(order: string[], edges: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      components.push(component);
    }
  };
  for (const v of order) if (!index.has(v)) connect(v);

  const position = new Map(order.map((name, i) => [name, i]));
  const cycles: string[][] = [];
  for (const component of components) {
    const members = new Set(component);
    const start = component.reduce((a, b) => (position.get(a)! <= position.get(b)! ? a : b));
    if (component.length === 1 && !(edges.get(start) ?? []).includes(start)) continue;
    // Breadth-first from start to start inside the component: the shortest loop through start.
    const previous = new Map<string, string>();
    const queue = [start];
    let found = false;
    while (queue.length > 0 && !found) {
      const v = queue.shift()!;
      for (const w of edges.get(v) ?? []) {
        if (!members.has(w)) continue;
        if (w === start) {
          previous.set(start, v);
          found = true;
          break;
        }
        if (!previous.has(w)) {
          previous.set(w, v);
          queue.push(w);
        }
      }
    }
    const loop = [start];
    for (let v = previous.get(start)!; v !== start; v = previous.get(v)!) loop.unshift(v);
    loop.unshift(start);
    cycles.push(loop);
  }
  return cycles.sort((a, b) => position.get(a[0]!)! - position.get(b[0]!)!);
}

export function cycleProblems(steps: Map<string, StepSpec>, cycles: string[][]): SpecProblem[] {
  return cycles.map((loop) => {
    const [first, second] = [loop[0]!, loop[1]!];
    return { path: needPath(first, steps.get(first)!.needs.indexOf(second)), message: `cycle: ${loop.join(' -> ')}` };
  });
}

interface Claim {
  step: string;
  i: number;
  pattern: Pattern;
}

const outputPath = (c: Claim) => joinPath(joinPath(joinPath('steps', c.step), 'outputs'), c.i);

/**
 * No file may be the output of two steps (a restore of one would overwrite the other's), nor be listed twice
 * by one. Two plain paths overlap when one is the other or lies under it, which a set of paths answers in
 * one look-up per directory level; only patterns with globs are compared pairwise.
 */
export function outputOverlaps(steps: Map<string, StepSpec>): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const plain = new Map<string, Claim>();
  /** Directory → plain outputs below it, of at most two different steps. */
  const parents = new Map<string, Claim[]>();
  const globs: Claim[] = [];
  const all: Claim[] = [];
  const report = (claim: Claim, other: Claim, same: boolean) => {
    const source = claim.pattern.source;
    if (other.step === claim.step) {
      if (same) problems.push({ path: outputPath(claim), message: `"${source}" is listed twice` });
    } else if (same) {
      problems.push({ path: outputPath(claim), message: `"${source}" is also an output of step "${other.step}" (${outputPath(other)}): each output belongs to one step` });
    } else {
      problems.push({ path: outputPath(claim), message: `"${source}" overlaps "${other.pattern.source}", an output of step "${other.step}" (${outputPath(other)}): each output belongs to one step` });
    }
  };
  for (const [name, step] of steps) {
    step.outputs.forEach((source, i) => {
      if (patternProblem(source)) return; // reported on its own
      const claim = { step: name, i, pattern: parsePattern(source) };
      const rel = claim.pattern.segments.join('/');
      const against = claim.pattern.glob ? all : globs;
      const reported = new Set<string>(); // one problem per other step is enough
      for (const other of against) {
        if (reported.has(other.step)) continue;
        const same = other.pattern.segments.join('/') === rel;
        if (same || (other.step !== name && patternsOverlap(claim.pattern, other.pattern))) {
          report(claim, other, same);
          reported.add(other.step);
        }
      }
      if (!claim.pattern.glob) {
        // The same path, a directory above it, or (checked from the other side) a path below it.
        const segments = claim.pattern.segments;
        for (let n = 1; n <= segments.length; n++) {
          const other = plain.get(segments.slice(0, n).join('/'));
          if (other && (n === segments.length || other.step !== name)) report(claim, other, n === segments.length);
        }
        const under = parents.get(rel)?.find((c) => c.step !== name);
        if (under) report(claim, under, false);
        if (!plain.has(rel)) plain.set(rel, claim);
        for (let n = 1; n < segments.length; n++) {
          const dir = segments.slice(0, n).join('/');
          const below = parents.get(dir) ?? parents.set(dir, []).get(dir)!;
          // Two claims of different steps are enough to find one of another step from any step.
          if (below.length < 2 && !below.some((c) => c.step === name)) below.push(claim);
        }
      } else globs.push(claim);
      all.push(claim);
    });
  }
  return problems;
}
