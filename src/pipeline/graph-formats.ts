import type { StepSpec } from './types.js';

// The pipeline's DAG as Graphviz DOT or a Mermaid flowchart (`evident pipeline show --format dot|mermaid`,
// ATTEST's `pipeline show` and turbo's `--graph=dot|mermaid`). Edges go from a needed step to the step
// that needs it, in declaration order, so the output is stable. Step names are quoted (DOT) or given an
// id with the name as a quoted label (Mermaid), so no name can break the syntax.

const dotId = (name: string) => `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

export function pipelineDot(name: string, steps: readonly StepSpec[]): string {
  const lines = [`digraph ${dotId(name)} {`, '  rankdir=LR;', '  node [shape=box, style=rounded];'];
  for (const s of steps) lines.push(`  ${dotId(s.name)};`);
  for (const s of steps) for (const need of s.needs) lines.push(`  ${dotId(need)} -> ${dotId(s.name)};`);
  lines.push('}');
  return lines.join('\n') + '\n';
}

export function pipelineMermaid(steps: readonly StepSpec[]): string {
  const ids = new Map(steps.map((s, i) => [s.name, `s${i}`]));
  const lines = ['flowchart LR'];
  for (const s of steps) lines.push(`  ${ids.get(s.name)}["${s.name.replace(/"/g, '#quot;')}"]`);
  for (const s of steps) for (const need of s.needs) lines.push(`  ${ids.get(need)} --> ${ids.get(s.name)}`);
  return lines.join('\n') + '\n';
}
