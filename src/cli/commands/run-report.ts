import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { EvidentClient } from '../../client/index.js';
import { EvidentError, isEvidentError } from '../../core/index.js';
import { planPipeline, provenanceFile, writeDirectoryProvenance, type FileDigest, type LoadedSpec, type RunResult, type StepSpec } from '../../pipeline/index.js';
import type { Ctx } from '../context.js';

// `evident run --report` (issue #6 item 8; docs/runner.md): after the run's own result is printed, the run
// is recorded on the Evident server: the flow (the pipeline's name, created if missing), the trail (the
// workspace's git commit, or --commit; begun if missing), each output file of a step that succeeded as an
// artifact (fingerprint = its SHA-256) — a declared output that is a directory as one `dir` artifact (Kosli's
// directory fingerprint) — with its provenance envelope as an `ARTIFACT.provenance` attestation of type
// provenance (`evident attest provenance`), and each step as a generic attestation. A reporting failure is
// returned (exit 3 for a server error), never thrown over the run's result, and never touches outputs.

/** Names on the server are NAME or ARTIFACT.NAME with letters, digits, '_' and '-' only. */
export function reportName(text: string): string {
  const safe = text.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^[^A-Za-z0-9]+/, '').replace(/_+$/, '');
  if (safe.length > 0 && safe.length <= 64) return safe;
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 8);
  return `${(safe || 'x').slice(0, 55)}-${hash}`;
}

function commitOf(workspace: string, given: string | undefined): string {
  if (given) return given;
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: workspace, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    throw new EvidentError('INVALID_ARGUMENT', `--report: ${workspace} is not a git checkout with a commit; give the trail with --commit SHA`);
  }
}

/** `--report --dry-run`: what would be sent; nothing runs and nothing is sent. */
export function describeReport(loaded: LoadedSpec, opts: { commit?: string }, ctx: Ctx): void {
  const { spec, workspace } = loaded;
  const plan = planPipeline([...spec.steps.values()]);
  const trail = commitOf(workspace, opts.commit);
  const steps = [...spec.steps.values()];
  const report = {
    host: ctx.globals.host, org: ctx.globals.org, flow: spec.name, trail,
    attestations: steps.map((s) => ({ name: reportName(s.name), type: 'generic', user_data: { command: s.run } })),
    artifacts: steps.flatMap((s) => s.outputs.map((o) => ({ step: s.name, output: o }))),
  };
  ctx.printer.result({ dry_run: true, groups: plan.groups, report }, () => {
    plan.groups.forEach((g, i) => ctx.printer.text(`group ${i + 1}: ${g.join(', ')}`));
    ctx.printer.text(`would report to ${report.host} (org ${report.org}): flow ${report.flow}, trail ${trail}`);
    for (const a of report.attestations) ctx.printer.text(`  attestation ${a.name} (generic)`);
    for (const a of report.artifacts) ctx.printer.text(`  artifacts: ${a.output} (step ${a.step}): one per file, or one dir artifact for a directory; each with a provenance attestation`);
  });
}

async function ensureFlowAndTrail(client: EvidentClient, flow: string, trail: string): Promise<void> {
  try {
    await client.getFlow(flow);
  } catch (err) {
    if (!isEvidentError(err, 'NOT_FOUND')) throw err;
    await client.createFlow({ name: flow, description: `evident run pipeline ${flow}` });
  }
  try {
    await client.getTrail(flow, trail, { limit: 1 });
  } catch (err) {
    if (!isEvidentError(err, 'NOT_FOUND')) throw err;
    await client.beginTrail(flow, { name: trail, git_commit: /^[0-9a-f]{40}$/.test(trail) ? trail : null });
  }
}

interface ReportedArtifact {
  path: string;
  type: 'file' | 'dir';
  fingerprint: string;
  files: FileDigest[];
}

/**
 * The artifacts of a step's outputs: a declared output (not a glob) that is a directory is one `dir`
 * artifact, fingerprinted as Kosli does a directory from its files' paths and digests; every other output
 * file is a `file` artifact.
 */
export async function artifactsOf(workspace: string, step: StepSpec, outputs: FileDigest[]): Promise<ReportedArtifact[]> {
  const dirs = step.outputs
    .map((o) => o.split('/').filter((s) => s !== '' && s !== '.').join('/'))
    .filter((o) => o !== '' && !/[*?[\\]/.test(o) && fs.statSync(path.join(workspace, o), { throwIfNoEntry: false })?.isDirectory());
  const out: ReportedArtifact[] = [];
  const inDir = new Set<string>();
  for (const dir of dirs) {
    const files = outputs.filter((f) => f.path.startsWith(`${dir}/`) && !inDir.has(f.path));
    if (files.length === 0) continue;
    files.forEach((f) => inDir.add(f.path));
    const { fingerprintFileList } = await import('../../services/index.js');
    out.push({ path: `${dir}/`, type: 'dir', fingerprint: fingerprintFileList(files.map((f) => ({ path: f.path.slice(dir.length + 1), sha256: f.sha256 }))), files });
  }
  for (const f of outputs) if (!inDir.has(f.path)) out.push({ path: f.path, type: 'file', fingerprint: f.sha256, files: [f] });
  return out;
}

/** Reports the run; returns the error to exit with (after the run's result), or undefined. */
export async function reportRun(loaded: LoadedSpec, result: RunResult, opts: { commit?: string }, ctx: Ctx): Promise<EvidentError | undefined> {
  const { spec, workspace } = loaded;
  const client = ctx.client();
  try {
    const trail = reportName(commitOf(workspace, opts.commit));
    const flow = spec.name;
    await ensureFlowAndTrail(client, flow, trail);
    let artifacts = 0;
    for (const step of result.record.steps) {
      const outcome = result.outcomes.get(step.name);
      const spec = loaded.spec.steps.get(step.name);
      for (const artifact of outcome?.status === 'ok' && spec ? await artifactsOf(workspace, spec, step.outputs) : []) {
        const name = reportName(artifact.path);
        await client.reportArtifact(flow, trail, { name, fingerprint: artifact.fingerprint, display_name: artifact.path, annotations: { step: step.name, artifact_type: artifact.type } });
        artifacts++;
        const envelope = artifact.type === 'dir' ? writeDirectoryProvenance(workspace, step.name, artifact.path, artifact.fingerprint, artifact.files[0]!.path) : provenanceFile(workspace, step.name, artifact.path);
        if (envelope === undefined || !fs.existsSync(envelope)) continue;
        const [item] = await client.uploadEvidence([{ path: envelope, name: `${name}.intoto.json` }]);
        await client.attestProvenance(flow, trail, {
          name: `${name}.provenance`, fingerprint: artifact.fingerprint, envelope: item!.digest, description: `SLSA provenance of ${artifact.path} (step ${step.name})`,
        });
      }
      await client.attestGeneric(flow, trail, {
        name: reportName(step.name), compliant: step.exitCode === 0 && outcome?.status === 'ok',
        description: `evident run step ${step.name}`,
        user_data: { command: step.command, duration_secs: step.durationSecs, cache: step.cache, exit_code: step.exitCode, detail: outcome?.detail ?? null },
      });
    }
    ctx.printer.info(`reported to ${ctx.globals.host}: flow ${flow}, trail ${trail}, ${artifacts} artifact(s), ${result.record.steps.length} step attestation(s)`);
    return undefined;
  } catch (err) {
    const e = err instanceof EvidentError ? err : new EvidentError('UNAVAILABLE', (err as Error).message, { cause: err });
    ctx.printer.info(`error: --report failed: ${e.message}`);
    return new EvidentError(e.code, `--report failed: ${e.message}`, { cause: e });
  }
}
