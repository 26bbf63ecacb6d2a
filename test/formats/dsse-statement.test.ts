import { describe, expect, it } from 'vitest';
import { EvidentError } from '../../src/core/index.js';
import { EVIDENT_RUN_BUILD_TYPE, SLSA_PROVENANCE_V1, STATEMENT_V1_TYPE, buildProvenance, buildStatement, parseProvenance, parseStatement } from '../../src/formats/index.js';

const DIGEST = { sha256: 'a'.repeat(64) };

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(EvidentError);
    return ((err as EvidentError).details as { path: string }[]).map((d) => d.path);
  }
  return [];
}

describe('in-toto Statement v1 and SLSA Provenance v1 (the payload of a DSSE envelope)', () => {
  it('builds a statement with the spec members', () => {
    const predicate = buildProvenance(
      { buildType: EVIDENT_RUN_BUILD_TYPE, externalParameters: { step: 'build' }, resolvedDependencies: [{ uri: 'src/a.txt', digest: DIGEST }] },
      { builder: { id: 'https://evident.dev/builders/evident-run/v1' }, metadata: { invocationId: 'urn:uuid:x', startedOn: '2024-12-01T14:30:52Z', finishedOn: '2024-12-01T14:31:00.5Z' } },
    );
    const statement = buildStatement([{ name: 'out/app.tar', digest: DIGEST }], SLSA_PROVENANCE_V1, predicate);
    expect(Object.keys(statement)).toEqual(['_type', 'subject', 'predicateType', 'predicate']);
    expect(statement._type).toBe(STATEMENT_V1_TYPE);
    expect(Object.keys(predicate.buildDefinition)).toEqual(['buildType', 'externalParameters', 'resolvedDependencies']);
    const back = parseStatement(JSON.parse(JSON.stringify(statement)));
    expect(parseProvenance(back.predicate)).toEqual(predicate);
  });

  it('names every problem of a bad statement', () => {
    expect(problemsOf(() => parseStatement({ _type: 'https://in-toto.io/Statement/v0.1', subject: [], predicateType: '' }))).toEqual(['/_type', '/subject', '/predicateType']);
    expect(problemsOf(() => parseStatement({ _type: STATEMENT_V1_TYPE, subject: [{ name: 1, digest: { sha256: 'ABC' } }], predicateType: 'x', predicate: [] }))).toEqual([
      '/subject/0/name', '/subject/0/digest/sha256', '/predicate',
    ]);
    expect(problemsOf(() => parseStatement('x'))).toEqual(['/']);
  });

  it('names every problem of a bad SLSA predicate', () => {
    expect(problemsOf(() => parseProvenance({}))).toEqual(['/predicate/buildDefinition', '/predicate/runDetails']);
    expect(
      problemsOf(() =>
        parseProvenance({
          buildDefinition: { buildType: '', externalParameters: null, resolvedDependencies: [{ name: 'x' }] },
          runDetails: { builder: {}, metadata: { startedOn: 'yesterday' }, byproducts: {} },
        }),
      ),
    ).toEqual([
      '/predicate/buildDefinition/buildType', '/predicate/buildDefinition/externalParameters', '/predicate/buildDefinition/resolvedDependencies/0',
      '/predicate/runDetails/builder/id', '/predicate/runDetails/metadata/startedOn', '/predicate/runDetails/byproducts',
    ]);
  });
});
