import type { Static } from 'typebox';
import { ConsistencyProof, ErrorBody, InclusionProof, LogEntryPage, LogKey, MapProof, Org, Token, TokenCreated, TokenPage, WhoAmI } from './schemas.js';
import {
  Artifact, ArtifactDetails, ArtifactPage, Attestation, AttestationType, AttestationTypeList, Flow, FlowSummaryPage, ProvenanceAttestations,
  SearchResult, TagList, TagResult, Trail, TrailDetail, TrailPage,
} from './record-schemas.js';
import { EvidenceUploaded } from './evidence-schemas.js';
import { Drift, Environment, EnvironmentEvents, EnvironmentList, Expectation, Snapshot, SnapshotDiff, SnapshotPage, SnapshotReported } from './environment-schemas.js';
import { ReleasePlan } from './release-schemas.js';
import { DoraReport } from './metrics-schemas.js';
import { Allowance, AllowanceList, AssertResult, AttachResult, Policy, PolicyList } from './policy-schemas.js';
import { CacheEntryList } from './cache-schemas.js';

/**
 * Every shape the client reads from a server, by name. The client's calls name the shape they expect
 * rather than import its schema, so that checking an answer does not have to load TypeBox: the CLI's
 * bundle checks with code generated from this table at build time (scripts/answer-checks.mjs), everything
 * else with TypeBox on first use (answer-check.ts). Both are the same schemas, as strict as the server's.
 */
export const ANSWERS = {
  ErrorBody, WhoAmI, Org, TokenPage, TokenCreated, Token, LogKey, LogEntryPage, InclusionProof, ConsistencyProof, MapProof,
  Flow, FlowSummaryPage, TagResult, TagList, Trail, TrailPage, TrailDetail, Artifact, Attestation, AttestationType, AttestationTypeList,
  ProvenanceAttestations, SearchResult, ArtifactPage, ArtifactDetails, EvidenceUploaded,
  Environment, Drift, EnvironmentList, SnapshotReported, Snapshot, SnapshotPage, Expectation, SnapshotDiff, EnvironmentEvents,
  ReleasePlan, DoraReport, Policy, PolicyList, AttachResult, Allowance, AllowanceList, AssertResult, CacheEntryList,
};

export type AnswerName = keyof typeof ANSWERS;
export type Answer<K extends AnswerName> = Static<(typeof ANSWERS)[K]>;
