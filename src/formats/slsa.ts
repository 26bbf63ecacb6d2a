import { assertNoProblems, type ProblemDetail } from '../core/index.js';
import { digestSetProblems, type DigestSet } from './in-toto-statement.js';

// SLSA Provenance v1.0 predicate (slsa.dev/spec/v1.0/provenance): how an artifact was built, as
// buildDefinition (what was asked for) and runDetails (who built it and when).

export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';

/**
 * The buildType of provenance written by `evident run`: one pipeline step and the steps it transitively
 * needs. Its parameters are documented in docs/provenance.md ("Build type").
 */
export const EVIDENT_RUN_BUILD_TYPE = 'https://evident.dev/provenance/run-step/v1';

/** in-toto ResourceDescriptor (attestation spec v1, resource_descriptor.md): at least one of uri, digest, content. */
export interface ResourceDescriptor {
  uri?: string;
  digest?: DigestSet;
  name?: string;
  downloadLocation?: string;
  mediaType?: string;
  annotations?: Record<string, unknown>;
}

export interface BuildDefinition {
  buildType: string;
  externalParameters: Record<string, unknown>;
  internalParameters?: Record<string, unknown>;
  resolvedDependencies?: ResourceDescriptor[];
}

export interface RunDetails {
  builder: { id: string; version?: Record<string, string>; builderDependencies?: ResourceDescriptor[] };
  metadata?: { invocationId?: string; startedOn?: string; finishedOn?: string };
  byproducts?: ResourceDescriptor[];
}

export interface SlsaProvenance {
  buildDefinition: BuildDefinition;
  runDetails: RunDetails;
}

/** Builds the predicate with the members in the spec's order, leaving out the optional ones not given. */
export function buildProvenance(definition: BuildDefinition, run: RunDetails): SlsaProvenance {
  const buildDefinition: BuildDefinition = { buildType: definition.buildType, externalParameters: definition.externalParameters };
  if (definition.internalParameters !== undefined) buildDefinition.internalParameters = definition.internalParameters;
  if (definition.resolvedDependencies !== undefined) buildDefinition.resolvedDependencies = definition.resolvedDependencies;
  const runDetails: RunDetails = { builder: run.builder };
  if (run.metadata !== undefined) runDetails.metadata = run.metadata;
  if (run.byproducts !== undefined) runDetails.byproducts = run.byproducts;
  return { buildDefinition, runDetails };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

function descriptorProblems(value: unknown, path: string): ProblemDetail[] {
  if (!isObject(value)) return [{ path, message: 'must be a ResourceDescriptor object' }];
  const problems: ProblemDetail[] = [];
  if (value.uri === undefined && value.digest === undefined && value.content === undefined) {
    problems.push({ path, message: 'needs at least one of uri, digest, content' });
  }
  for (const field of ['uri', 'name', 'downloadLocation', 'mediaType'] as const) {
    if (value[field] !== undefined && typeof value[field] !== 'string') problems.push({ path: `${path}/${field}`, message: 'must be a string' });
  }
  if (value.digest !== undefined) problems.push(...digestSetProblems(value.digest, `${path}/digest`));
  return problems;
}

function descriptorListProblems(value: unknown, path: string): ProblemDetail[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) return [{ path, message: 'must be an array' }];
  return value.flatMap((d, i) => descriptorProblems(d, `${path}/${i}`));
}

/** Validates a predicate (attacker-controlled) against the v1.0 schema's required fields and types. */
export function parseProvenance(value: unknown): SlsaProvenance {
  const problems: ProblemDetail[] = [];
  const p = isObject(value) ? value : {};
  if (!isObject(value)) problems.push({ path: '/predicate', message: 'must be an object' });
  const def = p.buildDefinition;
  if (!isObject(def)) problems.push({ path: '/predicate/buildDefinition', message: 'must be an object' });
  else {
    if (typeof def.buildType !== 'string' || def.buildType === '') problems.push({ path: '/predicate/buildDefinition/buildType', message: 'must be a URI' });
    if (!isObject(def.externalParameters)) problems.push({ path: '/predicate/buildDefinition/externalParameters', message: 'must be an object' });
    if (def.internalParameters !== undefined && !isObject(def.internalParameters)) {
      problems.push({ path: '/predicate/buildDefinition/internalParameters', message: 'must be an object' });
    }
    problems.push(...descriptorListProblems(def.resolvedDependencies, '/predicate/buildDefinition/resolvedDependencies'));
  }
  const run = p.runDetails;
  if (!isObject(run)) problems.push({ path: '/predicate/runDetails', message: 'must be an object' });
  else {
    if (!isObject(run.builder) || typeof run.builder.id !== 'string' || run.builder.id === '') {
      problems.push({ path: '/predicate/runDetails/builder/id', message: 'must be a URI' });
    }
    if (run.metadata !== undefined) {
      if (!isObject(run.metadata)) problems.push({ path: '/predicate/runDetails/metadata', message: 'must be an object' });
      else {
        for (const field of ['startedOn', 'finishedOn'] as const) {
          const t = run.metadata[field];
          if (t !== undefined && (typeof t !== 'string' || !RFC3339.test(t))) {
            problems.push({ path: `/predicate/runDetails/metadata/${field}`, message: 'must be an RFC 3339 timestamp' });
          }
        }
        if (run.metadata.invocationId !== undefined && typeof run.metadata.invocationId !== 'string') {
          problems.push({ path: '/predicate/runDetails/metadata/invocationId', message: 'must be a string' });
        }
      }
    }
    problems.push(...descriptorListProblems(run.byproducts, '/predicate/runDetails/byproducts'));
  }
  assertNoProblems(problems, 'SLSA provenance v1 predicate');
  return value as SlsaProvenance;
}
