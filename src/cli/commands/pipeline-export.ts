import fs from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { EXPORT_FORMATS, exportPipeline, type ExportFormat } from '../../pipeline/index.js';
import { action, type Ctx } from '../context.js';
import { FILE_FLAG, loadPipeline } from './pipeline.js';

// `evident pipeline export --format github-actions|gitlab-ci [-o FILE]` (seed 003 §12).

export async function pipelineExport(opts: { file: string; format: ExportFormat; out?: string }, ctx: Ctx): Promise<void> {
  const loaded = loadPipeline(opts.file, ctx);
  const rel = path.relative(process.cwd(), loaded.file) || 'attest.yaml';
  const text = exportPipeline(loaded.spec, opts.format, rel.split(path.sep).join('/'));
  if (opts.out === undefined) return void process.stdout.write(text);
  fs.mkdirSync(path.dirname(path.resolve(opts.out)), { recursive: true });
  fs.writeFileSync(opts.out, text);
  ctx.printer.info(`wrote ${opts.out} (${opts.format}, ${loaded.spec.steps.size} jobs)`);
}

/** Adds `export` under `evident pipeline`. */
export function registerPipelineExport(program: Command): void {
  const pipeline = program.commands.find((c) => c.name() === 'pipeline') ?? program.command('pipeline');
  pipeline
    .command('export')
    .description('Write the pipeline as a GitHub Actions workflow or a GitLab CI file: one job per step, needs kept')
    .option(...FILE_FLAG)
    .addOption(new Option('--format <format>', 'the CI system').choices([...EXPORT_FORMATS]).makeOptionMandatory())
    .option('-o, --out <file>', 'write to FILE instead of stdout')
    .addHelpText('after', `
Each job checks out the repository, installs Evident and runs \`evident run --only STEP\`, which also runs
the steps STEP needs: share a cache between jobs (--remote-cache) so that those are cache hits.

Examples:
  evident pipeline export --format github-actions -o .github/workflows/attest.yml
  evident pipeline export --format gitlab-ci -o .gitlab-ci.yml`)
    .action(action(pipelineExport));
}
