import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EvidentError } from '../../src/core/index.js';
import { IN_TOTO_PAYLOAD_TYPE, SLSA_PROVENANCE_V1, buildStatement, parseEnvelope, parseProvenance, parseStatement, signEnvelope } from '../../src/formats/index.js';
import {
  attestationObservers, generateWorkspaceKey, loadWorkspaceSigner, provenanceFile, stepClosure, verifyAttestationFile, type RunObserver,
} from '../../src/pipeline/index.js';
import { evident } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';
import { fixtureGraph, runFixture, type FixtureStep } from './attestation-fixture.js';

interface Provenance {
  statement: ReturnType<typeof parseStatement>;
  steps: string[];
  commands: string[];
  dependencies: string[];
}

function readProvenance(ws: string, step: string, output: string): Provenance {
  const envelope = parseEnvelope(JSON.parse(fs.readFileSync(provenanceFile(ws, step, output), 'utf8')));
  expect(envelope.payloadType).toBe(IN_TOTO_PAYLOAD_TYPE);
  const statement = parseStatement(JSON.parse(Buffer.from(envelope.payload).toString()));
  expect(statement.predicateType).toBe(SLSA_PROVENANCE_V1);
  const p = parseProvenance(statement.predicate);
  const steps = p.buildDefinition.externalParameters.steps as { name: string; command: string }[];
  return {
    statement, steps: steps.map((s) => s.name), commands: steps.map((s) => s.command),
    dependencies: (p.buildDefinition.resolvedDependencies ?? []).map((d) => {
      expect(d.uri).toBeUndefined(); // a workspace path is not a URI (interop D3)
      return d.name!;
    }),
  };
}

const CHAIN: FixtureStep[] = [
  { name: 'clone', run: 'mkdir -p src && echo a > src/a.txt && echo b > src/b.txt', inputs: [], outputs: ['src/'] },
  { name: 'build', run: 'mkdir -p out && cat src/a.txt src/b.txt > out/app.bin && echo v1 > out/VERSION', needs: ['clone'], inputs: ['src/'], outputs: ['out/'] },
  { name: 'notify', run: 'cat out/VERSION && exit 3', needs: ['build'], inputs: ['out/VERSION'] },
];

describe('per-artifact provenance (Tekton Chains #850)', () => {
  it('clone -> build -> notify with notify failing: the build outputs have provenance naming clone and build, not notify', async () => {
    const ws = tempDir();
    generateWorkspaceKey(ws, { name: 'ci' });
    const seenAtBuild: boolean[] = [];
    // An observer after ours: when build succeeds, its provenance must already be on disk (before notify runs).
    const probe: RunObserver = { stepSucceeded: (step) => void (step.name === 'build' && seenAtBuild.push(fs.existsSync(provenanceFile(ws, 'build', 'out/app.bin')))) };
    const observers = await attestationObservers({ workspace: ws, sign: true, provenance: true });
    const run = await runFixture(ws, 'demo', CHAIN, [...observers, probe]);
    expect(run.ok).toBe(false);
    expect(seenAtBuild).toEqual([true]);
    for (const output of ['out/app.bin', 'out/VERSION']) {
      const p = readProvenance(ws, 'build', output);
      expect(p.statement.subject).toEqual([{ name: output, digest: { sha256: expect.stringMatching(/^[0-9a-f]{64}$/) } }]);
      expect(p.steps).toEqual(['clone', 'build']);
      expect(p.commands).toEqual([CHAIN[0]!.run, CHAIN[1]!.run]);
      expect(p.dependencies).toEqual(['src/a.txt', 'src/b.txt']);
      expect(JSON.stringify(p.statement)).not.toContain('notify');
    }
    expect(fs.existsSync(path.join(ws, '.evident', 'provenance', 'notify'))).toBe(false);
    const key = loadWorkspaceSigner(ws)!;
    const report = await verifyAttestationFile(provenanceFile(ws, 'build', 'out/app.bin'), { key, workspace: ws });
    expect(report.checks.map((c) => [c.ok, c.message])).toEqual([
      [true, `Envelope valid (${IN_TOTO_PAYLOAD_TYPE})`], [true, `Signature valid (key ${key.keyId})`],
      [true, `Statement valid (${SLSA_PROVENANCE_V1})`], [true, 'Subject out/app.bin matches the file'],
    ]);
  });

  it('two independent chains: each provenance holds only its own chain', async () => {
    const ws = tempDir();
    const steps: FixtureStep[] = [
      { name: 'clone1', run: 'mkdir -p go && echo package main > go/main.go', outputs: ['go/main.go'] },
      { name: 'clone2', run: 'mkdir -p oci && echo FROM scratch > oci/Dockerfile', outputs: ['oci/Dockerfile'] },
      { name: 'build-go', run: 'mkdir -p bin && cp go/main.go bin/app', needs: ['clone1'], inputs: ['go/main.go'], outputs: ['bin/app'] },
      { name: 'build-oci', run: 'mkdir -p img && cp oci/Dockerfile img/image.tar', needs: ['clone2'], inputs: ['oci/Dockerfile'], outputs: ['img/image.tar'] },
    ];
    await runFixture(ws, 'two', steps, await attestationObservers({ workspace: ws, sign: false, provenance: true }));
    const go = readProvenance(ws, 'build-go', 'bin/app');
    const oci = readProvenance(ws, 'build-oci', 'img/image.tar');
    expect([go.steps, go.dependencies]).toEqual([['clone1', 'build-go'], ['go/main.go']]);
    expect([oci.steps, oci.dependencies]).toEqual([['clone2', 'build-oci'], ['oci/Dockerfile']]);
    expect(JSON.stringify(go.statement)).not.toMatch(/clone2|oci/);
    expect(JSON.stringify(oci.statement)).not.toMatch(/clone1|go\//);
  });

  it('unsigned unless asked: signatures: [] without --sign', async () => {
    const ws = tempDir();
    await runFixture(ws, 'u', CHAIN.slice(0, 2), await attestationObservers({ workspace: ws, sign: false, provenance: true }));
    expect(JSON.parse(fs.readFileSync(provenanceFile(ws, 'build', 'out/app.bin'), 'utf8')).signatures).toEqual([]);
    expect(fs.existsSync(path.join(ws, '.evident', 'keys'))).toBe(false);
  });

  it('records the SLSA fields: buildType, builder, invocation, the step and its needs', async () => {
    const ws = tempDir();
    await runFixture(ws, 'demo', CHAIN.slice(0, 2), await attestationObservers({ workspace: ws, sign: false, provenance: true, version: '1.2.3' }));
    const envelope = JSON.parse(fs.readFileSync(provenanceFile(ws, 'build', 'out/VERSION'), 'utf8'));
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString());
    const { buildDefinition: def, runDetails: run } = statement.predicate;
    expect(def.buildType).toBe('https://evident.dev/provenance/run-step/v1');
    expect(def.externalParameters).toMatchObject({ pipeline: 'demo', step: 'build' });
    expect(def.internalParameters.pipelineHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(def.internalParameters.steps.map((s: { name: string }) => s.name)).toEqual(['clone', 'build']);
    expect(run.builder).toEqual({ id: 'https://evident.dev/builders/evident-run/v1', version: { evident: '1.2.3' } });
    expect(run.metadata.invocationId).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
    expect(Date.parse(run.metadata.startedOn)).toBeLessThanOrEqual(Date.parse(run.metadata.finishedOn));
  });

  it('stepClosure: dependencies first, only what is reachable; cycles are named', () => {
    const graph = fixtureGraph([
      { name: 'a', run: '' }, { name: 'b', run: '', needs: ['a'] }, { name: 'c', run: '', needs: ['a'] },
      { name: 'd', run: '', needs: ['c', 'b'] }, { name: 'e', run: '', needs: ['a'] },
    ]);
    expect(stepClosure('d', graph)).toEqual(['a', 'b', 'c', 'd']);
    expect(stepClosure('a', graph)).toEqual(['a']);
    const cyclic = fixtureGraph([{ name: 'x', run: '', needs: ['y'] }, { name: 'y', run: '', needs: ['x'] }]);
    expect(() => stepClosure('x', cyclic)).toThrow(/x -> y -> x/);
  });

  it('provenance file names cannot leave .evident/provenance/<step>/', () => {
    const ws = '/w';
    for (const out of ['../../etc/passwd', '..', '.hidden', 'a/b/c.tar', 'x'.repeat(400)]) {
      const file = provenanceFile(ws, 'build', out);
      expect(path.dirname(file), out).toBe('/w/.evident/provenance/build');
      expect(path.basename(file).length).toBeLessThan(255);
    }
    expect(path.dirname(provenanceFile(ws, '../evil', 'a'))).toBe('/w/.evident/provenance/%2E.%2Fevil');
  });
});

describe('verify attestation', () => {
  async function signedWorkspace() {
    const ws = tempDir();
    const key = generateWorkspaceKey(ws, { name: 'ci' });
    await runFixture(ws, 'demo', CHAIN.slice(0, 2), await attestationObservers({ workspace: ws, sign: true, provenance: true }));
    return { ws, key, file: provenanceFile(ws, 'build', 'out/app.bin') };
  }

  it('fails on a changed artifact, a wrong key, a tampered payload; skips an absent subject', async () => {
    const { ws, key, file } = await signedWorkspace();
    const other = generateWorkspaceKey(tempDir(), { name: 'other' });
    expect((await verifyAttestationFile(file, { key: other, workspace: ws })).checks[1]).toMatchObject({ ok: false, message: `No valid signature by key ${other.keyId}` });

    const envelope = JSON.parse(fs.readFileSync(file, 'utf8'));
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString());
    statement.predicate.buildDefinition.resolvedDependencies = [];
    fs.writeFileSync(file, JSON.stringify({ ...envelope, payload: Buffer.from(JSON.stringify(statement)).toString('base64') }));
    expect((await verifyAttestationFile(file, { key, workspace: ws })).checks[1]!.ok).toBe(false);

    fs.writeFileSync(file, JSON.stringify(envelope));
    fs.appendFileSync(path.join(ws, 'out', 'app.bin'), '!');
    const changed = await verifyAttestationFile(file, { key, workspace: ws });
    expect(changed.ok).toBe(false);
    expect(changed.checks[3]!.message).toMatch(/does not match the file/);
    fs.rmSync(path.join(ws, 'out', 'app.bin'));
    const absent = await verifyAttestationFile(file, { key, workspace: ws });
    expect(absent.ok).toBe(true);
    expect(absent.checks[3]).toMatchObject({ ok: null, message: 'Subject out/app.bin: not in the workspace, digest not checked' });
  });

  it('a validly signed statement naming a path outside the workspace fails, without reading it', async () => {
    const { ws, key } = await signedWorkspace();
    const signer = loadWorkspaceSigner(ws)!;
    const file = path.join(ws, 'evil.intoto.json');
    for (const name of ['../../etc/passwd', '/etc/passwd']) {
      const statement = buildStatement([{ name, digest: { sha256: '0'.repeat(64) } }], 'https://example.com/p', {});
      fs.writeFileSync(file, JSON.stringify(signEnvelope(IN_TOTO_PAYLOAD_TYPE, Buffer.from(JSON.stringify(statement)), [{ keyid: signer.keyId, sign: signer.sign }])));
      const report = await verifyAttestationFile(file, { key, workspace: ws });
      expect(report.checks[3]).toMatchObject({ ok: false, message: expect.stringMatching(/escapes|absolute/) });
    }
  });

  it('a malformed file is malformed; an unreadable one throws', async () => {
    const { ws, key } = await signedWorkspace();
    const file = path.join(ws, 'bad.json');
    for (const text of ['{', '[]', '{"payload":"!!","payloadType":"x","signatures":[]}']) {
      fs.writeFileSync(file, text);
      const report = await verifyAttestationFile(file, { key, workspace: ws });
      expect([report.malformed, report.ok]).toEqual([true, false]);
    }
    const notStatement = signEnvelope(IN_TOTO_PAYLOAD_TYPE, Buffer.from('{"_type":"nope"}'), []);
    fs.writeFileSync(file, JSON.stringify(notStatement));
    const report = await verifyAttestationFile(file, { key, workspace: ws });
    expect(report.checks.map((c) => c.ok)).toEqual([true, false, false]);
    await expect(verifyAttestationFile(path.join(ws, 'missing.json'), { key, workspace: ws })).rejects.toThrow(EvidentError);
  });
});

describe('evident verify attestation (CLI)', () => {
  beforeAll(() => {
    expect(fs.existsSync('dist/src/cli/commands/verify-run.js'), 'run npx tsc -p tsconfig.json first').toBe(true);
  });

  it('prints [OK] lines and exits 0; exits 1 with [FAIL] for a wrong key; 2 for a non-envelope', async () => {
    const ws = tempDir();
    generateWorkspaceKey(ws, { name: 'ci' });
    await runFixture(ws, 'demo', CHAIN.slice(0, 2), await attestationObservers({ workspace: ws, sign: true, provenance: true }));
    const file = provenanceFile(ws, 'build', 'out/app.bin');
    const ok = await evident(['verify', 'attestation', file, '--key', path.join(ws, '.evident', 'keys', 'public.key'), '--workspace', ws]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout.split('\n').filter(Boolean).every((l) => l.startsWith('[OK] '))).toBe(true);
    expect(ok.stdout).toContain('[OK] Subject out/app.bin matches the file');
    const wrong = await evident(['verify', 'attestation', file, '--key', `ed25519:${'ab'.repeat(32)}`, '--workspace', ws]);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain('[FAIL] No valid signature by key');
    fs.writeFileSync(path.join(ws, 'x.json'), 'nope');
    expect((await evident(['verify', 'attestation', path.join(ws, 'x.json'), '--key', `ed25519:${'ab'.repeat(32)}`])).code).toBe(2);
  });
});
