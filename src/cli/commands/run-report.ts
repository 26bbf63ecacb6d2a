import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { EvidentClient } from '../../client/index.js';
import { EvidentError, isEvidentError } from '../../core/index.js';
import { planPipeline, provenanceFile, type LoadedSpec, type RunResult } from '../../pipeline/index.js';
import type { Ctx } from '../context.js';

// `evident run --report` (issue #6 item 8; docs/runner.md): after the run's own result is printed, the run
// is recorded on the Evident server: the flow (the pipeline's name, created if missing), the trail (the
// workspace's git commit, or --commit; begun if missing), each output file of a step that succeeded as an
// artifact (fingerprint = its SHA-256) with its provenance envelope attached as evidence of an
// `ARTIFACT.provenance` attestation, and each step as a generic attestation. A reporting failure is
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
    for (const a of report.artifacts) ctx.printer.text(`  artifacts: the files of ${a.output} (step ${a.step}), each with a provenance attestation`);
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
    await client.getTrail(flow, trail);
  } catch (err) {
    if (!isEvidentError(err, 'NOT_FOUND')) throw err;
    await client.beginTrail(flow, { name: trail, git_commit: /^[0-9a-f]{40}$/.test(trail) ? trail : null });
  }
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
      for (const out of outcome?.status === 'ok' ? step.outputs : []) {
        const name = reportName(out.path);
        await client.reportArtifact(flow, trail, { name, fingerprint: out.sha256, display_name: out.path, annotations: { step: step.name } });
        artifacts++;
        const envelope = provenanceFile(workspace, step.name, out.path);
        if (!fs.existsSync(envelope)) continue;
        const [item] = await client.uploadEvidence([{ path: envelope, name: `${name}.intoto.json` }]);
        await client.attestGeneric(flow, trail, {
          name: `${name}.provenance`, fingerprint: out.sha256, compliant: true, evidence: [item!.digest],
          description: `SLSA provenance of ${out.path} (step ${step.name})`, user_data: { predicate_type: 'https://slsa.dev/provenance/v1', step: step.name },
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
