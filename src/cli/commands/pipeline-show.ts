import { Option, type Command } from 'commander';
import { pipelineDot, pipelineMermaid } from '../../pipeline/index.js';
import { action, type Ctx } from '../context.js';
import { FILE_FLAG, loadPipeline, pipelineGraph } from './pipeline.js';

// `evident pipeline show --format ascii|dot|mermaid`: ATTEST's spelling of `evident pipeline graph`
// (its documentation's `attest pipeline show --format ascii`), and the DAG as Graphviz DOT or Mermaid
// (turbo's `--graph=dot|mermaid`).

export const SHOW_FORMATS = ['ascii', 'dot', 'mermaid'] as const;

export async function pipelineShow(opts: { file: string; format: (typeof SHOW_FORMATS)[number] }, ctx: Ctx): Promise<void> {
  if (opts.format === 'ascii') return pipelineGraph(opts, ctx);
  const loaded = loadPipeline(opts.file, ctx);
  const steps = [...loaded.spec.steps.values()];
  process.stdout.write(opts.format === 'dot' ? pipelineDot(loaded.spec.name, steps) : pipelineMermaid(steps));
}

export function registerPipelineShow(program: Command): void {
  const pipeline = program.commands.find((c) => c.name() === 'pipeline') ?? program.command('pipeline');
  pipeline
    .command('show')
    .description('Print the pipeline: its groups and critical path (ascii, as `pipeline graph`), or its DAG as DOT or Mermaid')
    .option(...FILE_FLAG)
    .addOption(new Option('--format <format>', 'ascii (default), dot (Graphviz) or mermaid').choices([...SHOW_FORMATS]).default('ascii'))
    .addHelpText('after', `
Examples:
  evident pipeline show --format ascii
  evident pipeline show --format dot | dot -Tsvg > pipeline.svg
  evident pipeline show --format mermaid`)
    .action(action(pipelineShow));
}
