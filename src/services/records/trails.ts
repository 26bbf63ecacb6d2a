import { EvidentError } from '../../core/index.js';
import type { TrailCompliance } from '../../formats/index.js';
import type { ArtifactRecord, AttestationRecord, FlowRecord, OrgRecord, Page, Store, TrailRecord } from '../../store/index.js';
import type { LogService } from '../log-service.js';
import { canonicalJson } from '../../formats/index.js';
import { decodeCursor, encodeCursor } from '../../store/index.js';
import type { Outcome } from './flows.js';
import { trailContentClaims } from './fact-claims.js';
import { projectionCheck } from './projection-check.js';
import { TrailStates } from './trail-states.js';
import * as v from './validate.js';
import { IN_THREAD_PARSER, checkTemplate } from './templates.js';
import type { ParsePool } from '../parse-pool.js';

export interface BeginTrailInput {
  flow: string;
  name: string;
  description?: string;
  gitCommit?: string | null;
  commitUrl?: string | null;
  originUrl?: string | null;
  userData?: unknown;
  /** Overrides the flow's template for this trail. */
  template?: string | null;
  /** Kosli's `begin trail --external-url LABEL=URL`: links kept in the trail's entry (a re-run adds or replaces labels). */
  externalUrls?: Record<string, string>;
  /**
   * Kosli's `begin trail --external-fingerprint LABEL=SHA256`: the digest of what a link of this run points at
   * (Kosli: "there must be an external url with a matching label for each external fingerprint").
   */
  externalFingerprints?: Record<string, string>;
}

/** A trail's links and the digests of what they point at, as its latest entry records them. */
export interface ExternalLinks {
  urls: Record<string, string>;
  fingerprints: Record<string, string>;
}

const LABEL = /^[A-Za-z0-9_.-]{1,64}$/;

/** Checked labels and URLs, keys sorted (canonical entry); at most 50. */
function checkExternalUrls(p: v.Problems, urls: Record<string, string> | undefined): Record<string, string> {
  const entries = Object.entries(urls ?? {});
  if (entries.length > 50) p.add('external_urls', 'at most 50');
  for (const [label, url] of entries) {
    if (!LABEL.test(label)) p.add(`external_urls.${label}`, "a label is 1-64 letters, digits, '_', '.' or '-'");
    p.check(`external_urls.${label}`, () => v.url(url));
  }
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Checked digests (sha256, lower-case), keys sorted; each label must be one of `urlLabels`, the links given with it. */
function checkExternalFingerprints(p: v.Problems, fingerprints: Record<string, string> | undefined, urlLabels: Record<string, string> | undefined): Record<string, string> {
  const entries = Object.entries(fingerprints ?? {});
  for (const [label, fp] of entries) {
    if (!urlLabels || !Object.hasOwn(urlLabels, label)) p.add(`external_fingerprints.${label}`, `${JSON.stringify(label)} has no link: give --external-url ${label}=URL with it (Kosli)`);
    p.check(`external_fingerprints.${label}`, () => v.fingerprint(fp.toLowerCase()));
  }
  return Object.fromEntries(entries.map(([label, fp]) => [label, fp.toLowerCase()]).sort(([a], [b]) => (a! < b! ? -1 : 1)));
}

/** The entry fields of a trail's links: only those it has, so that entries without links keep their earlier shape. */
function linkFields(links: ExternalLinks): Record<string, Record<string, string>> {
  return {
    ...(Object.keys(links.urls).length ? { external_urls: links.urls } : {}),
    ...(Object.keys(links.fingerprints).length ? { external_fingerprints: links.fingerprints } : {}),
  };
}

const USER_DATA_MAX = 64 * 1024;

/** `get trail`: one page of a trail's attestations with everything about the whole trail. */
export interface TrailPage {
  artifacts: ArtifactRecord[];
  attestations: AttestationRecord[];
  compliance: TrailCompliance;
  /** Attestations in the trail, as of the compliance. */
  attestationCount: number;
  nextCursor: string | null;
}

/** Told apart from the cursors of other lists, which this one refuses. */
const ATTESTATIONS = 'attestations';

function decodeAttestationCursor(cursor: string | null): number {
  if (cursor === null) return 0;
  const bad = () => new EvidentError('INVALID_ARGUMENT', 'invalid cursor: not a cursor of this trail\'s attestations (give back the next_cursor of the page before)', { details: [{ path: 'cursor', message: 'not a cursor of a trail\'s attestations' }] });
  let parts: [string, string];
  try {
    parts = decodeCursor(cursor);
  } catch {
    throw bad();
  }
  if (parts[1] !== ATTESTATIONS || !/^[1-9][0-9]{0,14}$/.test(parts[0])) throw bad();
  return Number(parts[0]);
}

/** Trails: one run of a flow, named by the user (commit, PR, release). Keeps its own copy of the template. */
export class TrailService {
  private readonly found = new Map<string, { flow: FlowRecord; trail: TrailRecord }>();
  /** Each trail's compliance, kept per process while the log says nothing new about it (trail-states.ts). */
  readonly states: TrailStates;

  constructor(private readonly store: Store, private readonly log: LogService, readonly parser: ParsePool = IN_THREAD_PARSER) {
    this.states = new TrailStates(store, log, parser);
  }

  async begin(org: OrgRecord, input: BeginTrailInput): Promise<TrailRecord> {
    const p = new v.Problems();
    p.check('flow', () => v.name('flow', input.flow));
    const name = p.check('name', () => v.name('trail', input.name));
    const description = p.check('description', () => v.text(input.description ?? ''));
    const gitCommit = p.check('git_commit', () => v.optional(input.gitCommit, v.commit));
    const commitUrl = p.check('commit_url', () => v.optional(input.commitUrl, v.url));
    const originUrl = p.check('origin_url', () => v.optional(input.originUrl, v.url));
    const externalUrls = checkExternalUrls(p, input.externalUrls);
    const externalFingerprints = checkExternalFingerprints(p, input.externalFingerprints, input.externalUrls);
    if (input.userData !== undefined && JSON.stringify(input.userData).length > USER_DATA_MAX) p.add('user_data', 'larger than 64 KiB');
    p.throwIfAny('trail');
    // An override is refused with the line and column of each problem, and nothing is stored.
    if (input.template) await checkTemplate(this.parser, input.template);
    const flow = await this.flow(org, input.flow);
    if (flow.archivedAt) throw new EvidentError('CONFLICT', `flow ${flow.name} is archived: no new trails`);
    // The trail keeps its own copy: changing the flow's template later does not change what this trail is judged by.
    const template = input.template || flow.template;
    const { value } = await this.log.append(
      org, 'trail.begun',
      { flow: flow.name, trail: name!, description: description!, git_commit: gitCommit ?? null, commit_url: commitUrl ?? null,
        origin_url: originUrl ?? null, user_data: input.userData ?? null, template: template ?? null,
        // Only when given: entries without links keep their exact earlier shape.
        ...linkFields({ urls: externalUrls, fingerprints: externalFingerprints }) },
      (records, e) => records.insertTrail({
        orgId: org.id, flowId: flow.id, name: name!, description: description!, gitCommit: gitCommit ?? null, commitUrl: commitUrl ?? null,
        originUrl: originUrl ?? null, userData: input.userData ?? null, template: template ?? null, createdAt: e.time, entryIndex: e.index,
      }),
    );
    return value;
  }

  /**
   * Kosli's `begin trail` on a trail that exists: the fields the run states replace the trail's, as one
   * `trail.updated` entry carrying its new state; fields left out are kept (a template the trail copied from
   * its flow stays); a run that changes nothing appends nothing.
   */
  async beginOrUpdate(org: OrgRecord, input: BeginTrailInput): Promise<{ trail: TrailRecord; outcome: Outcome }> {
    const flow = await this.flow(org, input.flow);
    const existing = await this.store.records.trail(flow.id, v.name('trail', input.name));
    if (!existing) {
      try {
        return { trail: await this.begin(org, input), outcome: 'created' };
      } catch (err) {
        if (!(err instanceof EvidentError && err.code === 'CONFLICT' && /already exists/.test(err.message))) throw err;
        return this.beginOrUpdate(org, input);
      }
    }
    const p = new v.Problems();
    const keep = <T>(given: T | undefined, current: T, check: (x: T) => T, field: string): T => (given === undefined ? current : p.check(field, () => check(given))!);
    const next = {
      description: keep(input.description, existing.description, v.text, 'description'),
      gitCommit: keep(input.gitCommit, existing.gitCommit, (x) => v.optional(x, v.commit) ?? null, 'git_commit'),
      commitUrl: keep(input.commitUrl, existing.commitUrl, (x) => v.optional(x, v.url) ?? null, 'commit_url'),
      originUrl: keep(input.originUrl, existing.originUrl, (x) => v.optional(x, v.url) ?? null, 'origin_url'),
      userData: input.userData === undefined ? existing.userData : input.userData,
      template: input.template ? input.template : existing.template,
    };
    if (input.userData !== undefined && JSON.stringify(input.userData).length > USER_DATA_MAX) p.add('user_data', 'larger than 64 KiB');
    const given = checkExternalUrls(p, input.externalUrls);
    const givenFingerprints = checkExternalFingerprints(p, input.externalFingerprints, input.externalUrls);
    p.throwIfAny('trail');
    if (input.template) await checkTemplate(this.parser, input.template);
    // The trail's links are in its latest entry (begun or updated: each carries the whole state), read verified.
    // A link that now points somewhere else loses its old digest unless one is given with it.
    const current = await this.externalLinks(org, existing);
    const links: ExternalLinks = {
      urls: checkExternalUrls(p, { ...current.urls, ...given }),
      fingerprints: checkExternalFingerprints(p, { ...Object.fromEntries(Object.entries(current.fingerprints).filter(([label]) => !Object.hasOwn(given, label) || given[label] === current.urls[label])), ...givenFingerprints }, { ...current.urls, ...given }),
    };
    const same = canonicalJson(links) === canonicalJson(current) && next.description === existing.description && next.gitCommit === existing.gitCommit && next.commitUrl === existing.commitUrl
      && next.originUrl === existing.originUrl && next.template === existing.template
      && canonicalJson(next.userData ?? null) === canonicalJson(existing.userData ?? null);
    if (same) return { trail: existing, outcome: 'unchanged' };
    if (flow.archivedAt) throw new EvidentError('CONFLICT', `flow ${flow.name} is archived: its trails cannot be updated`);
    const { value } = await this.log.append(
      org, 'trail.updated',
      { flow: flow.name, trail: existing.name, description: next.description, git_commit: next.gitCommit, commit_url: next.commitUrl,
        origin_url: next.originUrl, user_data: next.userData ?? null, template: next.template ?? null,
        ...linkFields(links) },
      (records, e) => records.updateTrail(existing.id, { ...next, userData: next.userData ?? null }, e.index),
    );
    // The remembered (flow, trail) pair of get() is stale now.
    this.found.delete(`${org.id}\u0000${flow.name}\u0000${existing.name}`);
    return { trail: value, outcome: 'updated' };
  }

  /** Kosli's external URLs of a trail: from its latest entry (trail.begun or trail.updated), verified against the log. */
  async externalUrls(org: OrgRecord, trail: TrailRecord): Promise<Record<string, string>> {
    return (await this.externalLinks(org, trail)).urls;
  }

  /** A trail's external URLs and the digests given with them, from its latest entry, verified against the log. */
  async externalLinks(org: OrgRecord, trail: TrailRecord): Promise<ExternalLinks> {
    const entry = (await projectionCheck(this.store).entries(org, [trail.entryIndex])).get(trail.entryIndex)!.body;
    if ((entry.type !== 'trail.begun' && entry.type !== 'trail.updated') || entry.trail !== trail.name) {
      throw new EvidentError('TAMPERED', `the trails row of ${trail.name} names log entry ${trail.entryIndex}, which is a ${String(entry.type)} about ${JSON.stringify(entry.trail)}`, { details: { table: 'trails', entry_index: trail.entryIndex } });
    }
    return { urls: (entry.external_urls ?? {}) as Record<string, string>, fingerprints: (entry.external_fingerprints ?? {}) as Record<string, string> };
  }

  async flow(org: OrgRecord, name: string): Promise<FlowRecord> {
    const flow = await this.store.records.flow(org.id, v.name('flow', name));
    if (!flow) throw new EvidentError('NOT_FOUND', `flow ${JSON.stringify(name)} does not exist in organisation ${org.name}`);
    return flow;
  }

  /**
   * Trails are never renamed or deleted, so a found (flow, trail) pair is remembered: every attestation
   * looks one up. The flow's archived state may be stale here; beginning a trail reads it afresh.
   */
  async get(org: OrgRecord, flowName: string, name: string): Promise<{ flow: FlowRecord; trail: TrailRecord }> {
    const key = `${org.id}\u0000${flowName}\u0000${name}`;
    const cached = this.found.get(key);
    if (cached) return cached;
    const { flow, trail } = await this.store.records.flowAndTrail(org.id, v.name('flow', flowName), v.name('trail', name));
    if (!flow) throw new EvidentError('NOT_FOUND', `flow ${JSON.stringify(flowName)} does not exist in organisation ${org.name}`);
    if (!trail) throw new EvidentError('NOT_FOUND', `trail ${JSON.stringify(name)} does not exist in flow ${flow.name}`);
    if (this.found.size >= 10_000) this.found.clear();
    this.found.set(key, { flow, trail });
    return { flow, trail };
  }

  /** The trail against the template it began with: its state, each requirement's status, unexpected attestations. */
  async compliance(org: OrgRecord, flow: string, trail: TrailRecord): Promise<TrailCompliance> {
    return (await this.states.of(org, [{ flow, trail }])).get(trail.id)!.compliance;
  }

  /**
   * A trail as a page shows it: all its artifacts, one page of its attestations (oldest first, keyset by row
   * id) and its compliance summary. Every shown field of every row on the page is checked against its log
   * entry first (a TAMPERED error names an edited row), so the page never prints a row the log does not say;
   * the compliance comes from TrailStates (verified rows, kept while the subject map says nothing new is about
   * the trail), so a page costs O(page + artifacts), not O(attestations of the trail).
   */
  async page(org: OrgRecord, flow: string, trail: TrailRecord, cursor: string | null, limit: number): Promise<TrailPage> {
    const after = decodeAttestationCursor(cursor);
    const [state, artifacts, rows] = await Promise.all([
      this.states.of(org, [{ flow, trail }]).then((m) => m.get(trail.id)!),
      this.artifactsOf(org, trail),
      this.store.records.attestationsOfTrailAfter(trail.id, after, limit + 1),
    ]);
    const attestations = rows.slice(0, limit);
    await projectionCheck(this.store).rows(org, trailContentClaims(flow, trail, artifacts, attestations, true));
    const last = attestations[attestations.length - 1];
    return {
      artifacts: artifacts.sort((a, b) => a.entryIndex - b.entryIndex), attestations, compliance: state.compliance,
      attestationCount: state.attestations, nextCursor: rows.length > limit && last ? encodeCursor([String(last.id), ATTESTATIONS]) : null,
    };
  }

  /** Every artifact row of the trail (a trail reports a few; read in pages of 1,000). */
  private async artifactsOf(org: OrgRecord, trail: TrailRecord): Promise<ArtifactRecord[]> {
    const out: ArtifactRecord[] = [];
    let cursor: string | null = null;
    do {
      const page: Page<ArtifactRecord> = await this.store.records.artifacts(org.id, { trailId: trail.id }, cursor, 1000);
      out.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return out;
  }

  async list(org: OrgRecord, flowName: string, cursor: string | null, limit: number): Promise<Page<TrailRecord>> {
    const flow = await this.flow(org, flowName);
    return this.store.records.trails(flow.id, cursor, limit);
  }

  /** Each trail's compliance state (a flow page's trail list): kept states, the others read and checked in one batch (TrailStates). */
  async complianceStates(org: OrgRecord, flow: string, trails: readonly TrailRecord[]): Promise<Map<number, string>> {
    const states = await this.states.of(org, trails.map((trail) => ({ flow, trail })));
    return new Map([...states].map(([id, s]) => [id, s.compliance.state]));
  }
}
