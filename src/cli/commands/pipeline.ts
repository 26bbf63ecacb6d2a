import type { Command } from 'commander';
import { EvidentError } from '../../core/index.js';
import {
  cacheRootOf, loadAttestSchema, formatDuration, formatProblem, loadSpec, parseSpec, planPipeline, readDurations,
  type LoadedSpec, type SpecProblem,
} from '../../pipeline/index.js';
import fs from 'node:fs';
import { action, type Ctx } from '../context.js';

// `evident pipeline validate|graph|schema`: attest.yaml checked, planned and described (issue #6 item 1).

const SHOWN_BOTTLENECKS = 5;

export const FILE_FLAG = ['-f, --file <path>', 'the pipeline file; its directory is the workspace', 'attest.yaml'] as const;

/** Loads attest.yaml; when it is invalid, prints every problem (file:line:col: path: message) on stderr. */
export function loadPipeline(file: string, ctx: Ctx): LoadedSpec {
  try {
    return loadSpec(file);
  } catch (err) {
    if (err instanceof EvidentError && Array.isArray(err.details)) {
      for (const p of err.details as SpecProblem[]) ctx.printer.info(formatProblem(file, p));
      throw new EvidentError(err.code, err.message, { cause: err });
    }
    throw err;
  }
}

export async function pipelineValidate(opts: { file: string }, ctx: Ctx): Promise<void> {
  let text: string;
  try {
    text = fs.readFileSync(opts.file, 'utf8');
  } catch (err) {
    throw new EvidentError('NOT_FOUND', `cannot read ${opts.file}: ${(err as Error).message}`);
  }
  const { spec, problems } = parseSpec(text);
  ctx.printer.result({ file: opts.file, valid: spec !== undefined, steps: spec?.steps.size ?? null, problems }, () => {
    if (spec) ctx.printer.text(`${opts.file}: valid (${spec.steps.size} step${spec.steps.size === 1 ? '' : 's'})`);
    for (const p of problems) ctx.printer.text(formatProblem(opts.file, p));
  });
  if (!spec) throw new EvidentError('INVALID_ARGUMENT', `${opts.file} is invalid: ${problems.length} problem${problems.length === 1 ? '' : 's'}`);
}

export async function pipelineGraph(opts: { file: string }, ctx: Ctx): Promise<void> {
  const loaded = loadPipeline(opts.file, ctx);
  const steps = [...loaded.spec.steps.values()];
  const plan = planPipeline(steps, readDurations(cacheRootOf(loaded.workspace), loaded.spec.steps.keys()));
  const cp = plan.criticalPath;
  ctx.printer.result(
    {
      pipeline: loaded.spec.name,
      steps: steps.length,
      depth: plan.depth,
      groups: plan.groups,
      order: plan.order,
      critical_path: { steps: cp.steps, basis: cp.basis, duration_secs: cp.durationSecs ?? null },
      bottlenecks: plan.bottlenecks.map((b) => ({ step: b.step, needed_by: b.neededBy })),
      needs: Object.fromEntries(steps.map((s) => [s.name, s.needs])),
    },
    () => {
      ctx.printer.text(`Pipeline ${loaded.spec.name}: ${steps.length} step${steps.length === 1 ? '' : 's'}, depth ${plan.depth}`);
      ctx.printer.text('');
      ctx.printer.table(['GROUP', 'STEPS (run in parallel)'], plan.groups.map((g, i) => [i + 1, g.join(', ')]));
      const basis = cp.basis === 'durations' ? `by last durations, ${formatDuration(cp.durationSecs ?? 0)}` : `by step count, ${cp.steps.length} steps; run once for durations`;
      ctx.printer.text(`\nCritical path (${basis}): ${cp.steps.join(' -> ')}`);
      ctx.printer.text(
        plan.bottlenecks.length === 0
          ? 'Bottlenecks: none (no step is needed by two or more others)'
          : `Bottlenecks: ${plan.bottlenecks.slice(0, SHOWN_BOTTLENECKS).map((b) => `${b.step} (needed by ${b.neededBy})`).join(', ')}` +
              (plan.bottlenecks.length > SHOWN_BOTTLENECKS ? ` and ${plan.bottlenecks.length - SHOWN_BOTTLENECKS} more (--output json lists all)` : ''),
      );
    },
  );
}

export async function pipelineSchema(_opts: object, ctx: Ctx): Promise<void> {
  ctx.printer.text((await loadAttestSchema()).attestJsonSchemaText());
}

export function registerPipeline(program: Command): void {
  const pipeline = program.command('pipeline').description('Check, plan and describe attest.yaml (the pipeline `evident run` runs)');
  pipeline
    .command('validate')
    .description('Check attest.yaml and print every problem with its line and path; exit 2 when it is invalid')
    .option(...FILE_FLAG)
    .addHelpText('after', `
Problems are printed as FILE:LINE:COLUMN: PATH: MESSAGE, e.g.
  attest.yaml:12:9: steps.build.needs[1]: unknown step "tset" (did you mean "test"?)
Checked: unknown keys, types, step names, unknown or repeated needs, cycles (shown as a -> b -> a),
input/output paths (relative, inside the workspace, valid globs), outputs claimed by two steps.

Examples:
  evident pipeline validate
  evident pipeline validate -f ci/attest.yaml --output json`)
    .action(action(pipelineValidate));
  pipeline
    .command('graph')
    .description('Print the parallel groups, depth, critical path and bottlenecks of the pipeline')
    .option(...FILE_FLAG)
    .addHelpText('after', `
The critical path uses each step's last known duration (recorded under .evident/cache/metadata/ by
\`evident run\`) once every step has one, and the number of steps until then. A bottleneck is a step that
two or more others need, directly or through other steps.

Examples:
  evident pipeline graph
  evident pipeline graph -f attest.yaml --output json`)
    .action(action(pipelineGraph));
  pipeline
    .command('schema')
    .description('Print the JSON Schema of attest.yaml (for editors; also in schemas/attest.schema.json)')
    .addHelpText('after', `
Examples:
  evident pipeline schema > attest.schema.json
  # first line of attest.yaml, for the VS Code YAML extension:
  # yaml-language-server: $schema=./attest.schema.json`)
    .action(action(pipelineSchema));
}
