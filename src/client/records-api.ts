import type {
  ApprovalCreate, ArtifactCreate, AttestationTypeCreate, CustomAttestationCreate, FlowCreate, GenericAttestationCreate,
  JUnitCreate, ProvenanceCreate, PullRequestCreate, SarifCreate, TrailCreate,
} from './record-schemas.js';
import type * as recordSchemas from './record-schemas.js';
import { ClientTransport } from './transport.js';

/** Recording: flows, trails, artifacts, attestations and attestation types (docs/records.md). */
export class RecordsApi extends ClientTransport {
  createFlow(input: FlowCreate) {
    return this.json('Flow', 'POST', this.orgPath('/flows'), undefined, input);
  }

  listFlows(q: { cursor?: string; limit?: number; includeArchived?: boolean; sort?: string; missingAttestationType?: string } = {}) {
    return this.json('FlowSummaryPage', 'GET', this.orgPath('/flows'), {
      cursor: q.cursor, limit: q.limit, include_archived: q.includeArchived ? 'true' : undefined, sort: q.sort, missing_attestation_type: q.missingAttestationType,
    });
  }

  tagFlow(name: string, change: recordSchemas.FlowTagChange) {
    return this.json('Flow', 'POST', this.orgPath(`/flows/${encodeURIComponent(name)}/tags`), undefined, change);
  }

  /** Kosli's `tag env|control|repo`: one log entry (none when nothing changes). */
  tag(input: recordSchemas.TagRequest) {
    return this.json('TagResult', 'POST', this.orgPath('/tags'), undefined, input);
  }

  /** The tags of every tagged subject of a kind (or of the one named). */
  tags(kind: recordSchemas.TagRequest['kind'], name?: string) {
    return this.json('TagList', 'GET', this.orgPath(`/tags/${kind}`), { name });
  }

  getFlow(name: string) {
    return this.json('Flow', 'GET', this.orgPath(`/flows/${encodeURIComponent(name)}`));
  }

  archiveFlow(name: string) {
    return this.json('Flow', 'POST', this.orgPath(`/flows/${encodeURIComponent(name)}/archive`), undefined, {});
  }

  beginTrail(flow: string, input: TrailCreate) {
    return this.json('Trail', 'POST', this.orgPath(`/flows/${encodeURIComponent(flow)}/trails`), undefined, input);
  }

  listTrails(flow: string, q: { cursor?: string; limit?: number } = {}) {
    return this.json('TrailPage', 'GET', this.orgPath(`/flows/${encodeURIComponent(flow)}/trails`), { cursor: q.cursor, limit: q.limit });
  }

  /** A trail with one page of its attestations (`limit`, `cursor`: the page before's next_cursor). */
  getTrail(flow: string, trail: string, q: { cursor?: string; limit?: number } = {}) {
    return this.json('TrailDetail', 'GET', this.orgPath(`/flows/${encodeURIComponent(flow)}/trails/${encodeURIComponent(trail)}`), { cursor: q.cursor, limit: q.limit });
  }

  /** A trail with every attestation: its pages followed (a server before paging sends them all at once). */
  async getTrailAll(flow: string, trail: string) {
    const first = await this.getTrail(flow, trail, { limit: 1000 });
    const attestations = [...first.attestations];
    for (let cursor = first.next_cursor; cursor;) {
      const page = await this.getTrail(flow, trail, { limit: 1000, cursor });
      attestations.push(...page.attestations);
      cursor = page.next_cursor;
    }
    return { ...first, attestations, next_cursor: null };
  }

  reportArtifact(flow: string, trail: string, input: ArtifactCreate) {
    return this.json('Artifact', 'POST', this.orgPath(`/flows/${encodeURIComponent(flow)}/trails/${encodeURIComponent(trail)}/artifacts`), undefined, input);
  }

  attestGeneric(flow: string, trail: string, input: GenericAttestationCreate) {
    return this.json('Attestation', 'POST', this.orgPath(`/flows/${encodeURIComponent(flow)}/trails/${encodeURIComponent(trail)}/attestations/generic`), undefined, input);
  }

  attestApproval(flow: string, trail: string, input: ApprovalCreate) {
    return this.json('Attestation', 'POST', this.orgPath(`/flows/${encodeURIComponent(flow)}/trails/${encodeURIComponent(trail)}/attestations/approval`), undefined, input);
  }

  attestPullRequest(flow: string, trail: string, input: PullRequestCreate) {
    return this.json('Attestation', 'POST', this.orgPath(`/flows/${encodeURIComponent(flow)}/trails/${encodeURIComponent(trail)}/attestations/pull_request`), undefined, input);
  }

  createAttestationType(input: AttestationTypeCreate) {
    return this.json('AttestationType', 'POST', this.orgPath('/attestation-types'), undefined, input);
  }

  archiveAttestationType(name: string) {
    return this.json('AttestationType', 'POST', this.orgPath(`/attestation-types/${encodeURIComponent(name)}/archive`), undefined, {});
  }

  getAttestationType(ref: string) {
    return this.json('AttestationType', 'GET', this.orgPath(`/attestation-types/${encodeURIComponent(ref)}`));
  }

  listAttestationTypes() {
    return this.json('AttestationTypeList', 'GET', this.orgPath('/attestation-types'));
  }

  attestCustom(flow: string, trail: string, input: CustomAttestationCreate) {
    return this.json('Attestation', 'POST', this.orgPath(`/flows/${encodeURIComponent(flow)}/trails/${encodeURIComponent(trail)}/attestations/custom`), undefined, input);
  }

  attestJUnit(flow: string, trail: string, input: JUnitCreate) {
    return this.json('Attestation', 'POST', this.orgPath(`/flows/${encodeURIComponent(flow)}/trails/${encodeURIComponent(trail)}/attestations/junit`), undefined, input);
  }

  /** One attestation per artifact the provenance is bound to. */
  attestProvenance(flow: string, trail: string, input: ProvenanceCreate) {
    return this.json('ProvenanceAttestations', 'POST', this.orgPath(`/flows/${encodeURIComponent(flow)}/trails/${encodeURIComponent(trail)}/attestations/provenance`), undefined, input);
  }

  attestSarif(type: 'sarif' | 'snyk', flow: string, trail: string, input: SarifCreate) {
    return this.json('Attestation', 'POST', this.orgPath(`/flows/${encodeURIComponent(flow)}/trails/${encodeURIComponent(trail)}/attestations/${type}`), undefined, input);
  }

  search(q: string) {
    return this.json('SearchResult', 'GET', this.orgPath('/search'), { q });
  }

  listArtifacts(q: { flow?: string; cursor?: string; limit?: number } = {}) {
    return this.json('ArtifactPage', 'GET', this.orgPath('/artifacts'), { flow: q.flow, cursor: q.cursor, limit: q.limit });
  }

  getArtifacts(ref: string) {
    return this.json('ArtifactDetails', 'GET', this.orgPath(`/artifacts/${encodeURIComponent(ref)}`));
  }
}
