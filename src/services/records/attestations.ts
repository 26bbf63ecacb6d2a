import { EvidentError } from '../../core/index.js';
import type { ArtifactRecord, AttestationRecord, EvidenceRef, OrgRecord, Page, Store } from '../../store/index.js';
import type { VaultService } from '../vault.js';
import type { LogService } from '../log-service.js';
import type { TrailService } from './trails.js';
import * as v from './validate.js';
import type { AttestationTypeService } from './attestation-types.js';

export interface AttestationInput {
  flow: string;
  trail: string;
  /** Digests of files uploaded to the org's evidence vault (attachments). */
  evidence?: string[];
  /** `NAME` for the trail, or `ARTIFACT-NAME.NAME` for an artifact (by template name). */
  name: string;
  fingerprint?: string | null;
  gitCommit?: string | null;
  description?: string;
  userData?: unknown;
  annotations?: Record<string, string> | null;
}

export interface GenericAttestationInput extends AttestationInput {
  compliant: boolean;
}

export interface PullRequestInput extends AttestationInput {
  provider: string;
  repository: string;
  pullRequests: { url: string; number: number; title?: string; state?: string; author?: string; merged_at?: string | null }[];
}

export interface CustomAttestationInput extends AttestationInput {
  /** `NAME` or `NAME@VERSION` of a custom attestation type. */
  type: string;
  data: unknown;
}

export interface ApprovalInput extends AttestationInput {
  decision: string;
  approver?: string | null;
  comment?: string;
}

const PART = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** Splits `artifact.attestation`; each part is a template name without dots. */
export function parseAttestationName(name: unknown): { artifactName: string | null; name: string } {
  const parts = typeof name === 'string' ? name.split('.') : [];
  if (parts.length < 1 || parts.length > 2 || !parts.every((x) => PART.test(x))) {
    throw new EvidentError('INVALID_ARGUMENT', `attestation name must be NAME or ARTIFACT-NAME.NAME (letters, digits, '_', '-'), not ${JSON.stringify(name)}`);
  }
  return parts.length === 2 ? { artifactName: parts[0]!, name: parts[1]! } : { artifactName: null, name: parts[0]! };
}

/** Attestations: typed, named, append-only facts about a trail or an artifact (DESIGN.md §1). */
export class AttestationService {
  constructor(
    private readonly store: Store,
    private readonly log: LogService,
    private readonly trails: TrailService,
    private readonly vault?: VaultService,
  ) {}

  async generic(org: OrgRecord, input: GenericAttestationInput): Promise<AttestationRecord> {
    if (typeof input.compliant !== 'boolean') throw new EvidentError('INVALID_ARGUMENT', 'compliant must be true or false', { details: [{ path: 'compliant', message: 'not a boolean' }] });
    return this.report(org, 'generic', input, input.compliant, null);
  }

  /**
   * A human decision (DESIGN.md §1 Approval): compliant iff approved. The approver is who the caller
   * says, else the identity of the token that reports it.
   */
  async approval(org: OrgRecord, input: ApprovalInput, tokenIdentity: string): Promise<AttestationRecord> {
    const p = new v.Problems();
    if (input.decision !== 'approved' && input.decision !== 'rejected') p.add('decision', 'must be approved or rejected');
    const approver = p.check('approver', () => v.optional(input.approver, (x) => v.text(x, 256))) ?? tokenIdentity;
    const comment = p.check('comment', () => v.text(input.comment ?? '', 4096));
    p.throwIfAny('approval');
    return this.report(org, 'approval', input, input.decision === 'approved', { approver, decision: input.decision, comment: comment ?? '' });
  }

  /**
   * Pull/merge requests that contain the commit, as found by the reporter in GitHub, GitLab, Bitbucket or Azure DevOps:
   * compliant iff there is at least one (Kosli's rule).
   */
  async pullRequest(org: OrgRecord, input: PullRequestInput): Promise<AttestationRecord> {
    const p = new v.Problems();
    if (!['github', 'gitlab', 'bitbucket', 'azure'].includes(input.provider)) p.add('provider', 'must be github, gitlab, bitbucket or azure');
    const repository = p.check('repository', () => v.text(input.repository, 256));
    if (!Array.isArray(input.pullRequests) || input.pullRequests.length > 100) p.add('pull_requests', 'must be a list of at most 100');
    const prs = (input.pullRequests ?? []).map((pr, i) => ({
      url: p.check(`pull_requests/${i}/url`, () => v.url(pr.url)),
      number: Number.isSafeInteger(pr.number) ? pr.number : (p.add(`pull_requests/${i}/number`, 'must be an integer'), 0),
      title: p.check(`pull_requests/${i}/title`, () => v.text(pr.title ?? '', 1024)),
      state: p.check(`pull_requests/${i}/state`, () => v.text(pr.state ?? '', 64)),
      author: p.check(`pull_requests/${i}/author`, () => v.text(pr.author ?? '', 256)),
      merged_at: pr.merged_at ?? null,
    }));
    p.throwIfAny('pull request attestation');
    const summary = { provider: input.provider, repository: repository!, pull_requests: prs };
    return this.report(org, 'pull_request', input, prs.length > 0, summary);
  }

  /**
   * A custom attestation: `data` checked against the type's JSON Schema and jq rules, by the server.
   * The data, the type version and every rule's result go into the entry.
   */
  async custom(org: OrgRecord, input: CustomAttestationInput, types: AttestationTypeService): Promise<AttestationRecord> {
    if (JSON.stringify(input.data ?? null).length > 256 * 1024) throw new EvidentError('INVALID_ARGUMENT', 'attestation data is larger than 256 KiB');
    const type = await types.get(org, input.type);
    const archivedAt = (await types.archived(org)).get(type.name);
    if (archivedAt) throw new EvidentError('CONFLICT', `attestation type ${type.name} was archived at ${archivedAt}: it takes no new attestations`);
    const evaluation = await types.evaluate(type, input.data, (await types.summaries(org, [type])).get(type.entryIndex));
    const summary = {
      attestation_type: type.name, version: type.version, data: input.data ?? null, schema_errors: evaluation.schema_errors, rules: evaluation.rules,
      ...(evaluation.summary ? { summary: evaluation.summary } : {}),
    };
    return this.report(org, `custom:${type.name}`, input, evaluation.compliant, summary);
  }

  /**
   * Validates, resolves the trail, checks every evidence digest was uploaded to this org's vault, and logs
   * the attestation with its projection in one entry (the entry names the evidence by digest, so the log
   * commits to the evidence bytes too).
   */
  async record(org: OrgRecord, type: string, input: AttestationInput, compliant: boolean, summary: unknown): Promise<AttestationRecord> {
    return this.report(org, type, input, compliant, summary);
  }

  private async report(org: OrgRecord, type: string, input: AttestationInput, compliant: boolean, summary: unknown): Promise<AttestationRecord> {
    const p = new v.Problems();
    const parsed = p.check('name', () => parseAttestationName(input.name));
    const fingerprint = p.check('fingerprint', () => v.optional(input.fingerprint, v.fingerprint));
    const gitCommit = p.check('git_commit', () => v.optional(input.gitCommit, v.commit));
    const description = p.check('description', () => v.text(input.description ?? ''));
    const annotations = p.check('annotations', () => v.annotations(input.annotations));
    if (input.userData !== undefined && JSON.stringify(input.userData).length > 64 * 1024) p.add('user_data', 'larger than 64 KiB');
    if (parsed?.artifactName && !fingerprint && !gitCommit) {
      p.add('git_commit', 'an attestation for an artifact not yet reported needs the artifact fingerprint or the git commit');
    }
    if (input.evidence !== undefined && (!Array.isArray(input.evidence) || input.evidence.length > 1000)) p.add('evidence', 'must be a list of at most 1000 digests');
    p.throwIfAny('attestation');
    const { flow, trail } = await this.trails.get(org, input.flow, input.trail);
    const evidence = await this.evidenceOf(org, input.evidence ?? []);
    const record = {
      flow: flow.name, trail: trail.name, attestation: parsed!.name, attestation_type: type, artifact_name: parsed!.artifactName,
      artifact_fingerprint: fingerprint ?? null, git_commit: gitCommit ?? null, compliant, summary, description: description!,
      user_data: input.userData ?? null, annotations: annotations ?? null, evidence,
    };
    const { value } = await this.log.append(org, 'attestation.reported', record, (records, e) => records.insertAttestation({
      orgId: org.id, flowId: flow.id, trailId: trail.id, name: parsed!.name, type, artifactFingerprint: fingerprint ?? null,
      artifactName: parsed!.artifactName, gitCommit: gitCommit ?? null, compliant, summary, description: description!,
      userData: input.userData ?? null, annotations: annotations ?? null, evidence, createdAt: e.time, entryIndex: e.index,
    }));
    return value;
  }

  /** Each digest must name a file this org uploaded; the same NOT_FOUND whether it exists elsewhere or not. */
  private async evidenceOf(org: OrgRecord, digests: string[]): Promise<EvidenceRef[]> {
    if (digests.length === 0) return [];
    if (!this.vault) throw new EvidentError('INVALID_ARGUMENT', 'this server keeps no evidence files');
    const out: EvidenceRef[] = [];
    for (const digest of [...new Set(digests)]) {
      const item = await this.vault.stat(org, digest);
      out.push({ digest: item.digest, name: item.name, size: item.size });
    }
    return out;
  }

  /** The fingerprints, among `fingerprints`, of artifacts reported in the trail (named `artifactName`, when given). */
  async reportedIn(org: OrgRecord, flow: string, trail: string, fingerprints: ReadonlySet<string>, artifactName: string | null = null): Promise<string[]> {
    const found = await this.trails.get(org, flow, trail);
    const out = new Set<string>();
    for (let cursor: string | null = null; ;) {
      const page: Page<ArtifactRecord> = await this.store.records.artifacts(org.id, { trailId: found.trail.id }, cursor, 500);
      for (const a of page.items) if (fingerprints.has(a.fingerprint) && (artifactName === null || a.name === artifactName)) out.add(a.fingerprint);
      if (!page.nextCursor) return [...out];
      cursor = page.nextCursor;
    }
  }

  async ofTrail(org: OrgRecord, flow: string, trail: string): Promise<AttestationRecord[]> {
    const found = await this.trails.get(org, flow, trail);
    return this.store.records.attestationsOfTrail(found.trail.id);
  }
}
