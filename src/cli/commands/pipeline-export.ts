import fs from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { VERSION } from '../../core/index.js';
import { EXPORT_FORMATS, exportPipeline, type ExportFormat } from '../../pipeline/index.js';
import { action, type Ctx } from '../context.js';
import { FILE_FLAG, loadPipeline } from './pipeline.js';

// `evident pipeline export --format github-actions|gitlab-ci --evident-repo OWNER/REPO [-o FILE]` (seed 003 §12).

export interface PipelineExportOptions {
  file: string;
  format: ExportFormat;
  out?: string;
  evidentRepo: string;
  evidentRef?: string;
  nodeVersion?: string;
}

export async function pipelineExport(opts: PipelineExportOptions, ctx: Ctx): Promise<void> {
  const loaded = loadPipeline(opts.file, ctx);
  const rel = path.relative(process.cwd(), loaded.file) || 'attest.yaml';
  const dir = path.relative(process.cwd(), loaded.workspace).split(path.sep).join('/');
  // The jobs run from the repository root, which is taken to be where export runs (as -f's path is).
  const npmCi = fs.existsSync(path.join(loaded.workspace, 'package-lock.json')) || fs.existsSync(path.join(loaded.workspace, 'npm-shrinkwrap.json'));
  const text = exportPipeline(loaded.spec, opts.format, rel.split(path.sep).join('/'), {
    repo: opts.evidentRepo, ref: opts.evidentRef, nodeVersion: opts.nodeVersion, npmCi, dir,
  });
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
    .addOption(new Option('--evident-repo <owner/repo>', "where Evident's repository is hosted: OWNER/REPO on GitHub (gitlab-ci: or an https git URL); the jobs install Evident from it").env('EVIDENT_EXPORT_REPO').makeOptionMandatory())
    .option('--evident-ref <ref>', 'the tag, branch or commit of that repository to install', `v${VERSION}`)
    .option('--node-version <version>', 'the Node.js release of the jobs', '24')
    .option('-o, --out <file>', 'write to FILE instead of stdout')
    .addHelpText('after', `
Evident is installed from its repository at --evident-ref, not from the npm registry (it is not published
there): GitHub jobs use the repository's action (uses: OWNER/REPO@REF, with host, org and token from
vars.EVIDENT_HOST, vars.EVIDENT_ORG and secrets.EVIDENT_API_TOKEN); GitLab jobs clone it, npm pack it and
install the tarball (variables EVIDENT_REPO, EVIDENT_REF). With a package-lock.json in the workspace, each
job runs npm ci first.

Each job runs \`evident run --only STEP\`, which also runs the steps STEP needs: share a cache between
jobs (cache.remote or --remote-cache) so that those are cache hits.

Examples:
  evident pipeline export --format github-actions --evident-repo acme/evident -o .github/workflows/attest.yml
  evident pipeline export --format gitlab-ci --evident-repo https://gitlab.example.com/tools/evident.git --evident-ref v0.1.0 -o .gitlab-ci.yml`)
    .action(action(pipelineExport));
}
