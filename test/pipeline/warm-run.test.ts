import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseEnvelope } from '../../src/formats/index.js';
import { attestationObservers, generateWorkspaceKey, loadSpec, provenanceFile, runPipeline } from '../../src/pipeline/index.js';
import { blockYaml } from '../../src/pipeline/receipt-yaml.js';
import { run, workspace, write } from './runner-helpers.js';
import { Sealer } from '../../src/pipeline/seal.js';
import { tempDir } from '../helpers/engines.js';

// What a warm run no longer redoes (docs/performance.md "The runner"), and that skipping it is never wrong.

const SPEC = `version: "0.1"
name: warm
steps:
  a: { run: "mkdir -p out && cat in.txt > out/a.txt", inputs: [in.txt], outputs: [out/a.txt] }
  b: { run: "cat out/a.txt > out/b.txt", inputs: [out/a.txt], outputs: [out/b.txt], needs: [a] }
`;

async function attestedRun(ws: string, sign = false) {
  const observers = await attestationObservers({ workspace: ws, sign, provenance: true });
  return runPipeline({ loaded: loadSpec(path.join(ws, 'attest.yaml')), observers, jobs: 2 });
}

const envelopeOf = (ws: string, step: string, out: string) => fs.readFileSync(provenanceFile(ws, step, out), 'utf8');

describe('provenance on a cache hit', () => {
  it('keeps the statement of the build that made the artifact; a rebuilt step gets a new one', async () => {
    const ws = workspace(SPEC, { 'in.txt': 'one\n' });
    expect((await attestedRun(ws)).record.ok).toBe(true);
    const [a1, b1] = [envelopeOf(ws, 'a', 'out/a.txt'), envelopeOf(ws, 'b', 'out/b.txt')];
    const warm = await attestedRun(ws);
    expect(warm.record.steps.map((s) => s.cache)).toEqual(['hit', 'hit']);
    expect([envelopeOf(ws, 'a', 'out/a.txt'), envelopeOf(ws, 'b', 'out/b.txt')]).toEqual([a1, b1]);
    // A changed input: both steps run again, both statements describe the new build.
    write(ws, 'in.txt', 'two\n');
    const changed = await attestedRun(ws);
    expect(changed.record.steps.map((s) => s.cache)).toEqual(['miss', 'miss']);
    expect(envelopeOf(ws, 'a', 'out/a.txt')).not.toBe(a1);
    expect(envelopeOf(ws, 'b', 'out/b.txt')).not.toBe(b1);
  });

  it('rewrites a statement that no longer matches: edited, deleted, or unsigned when signing is asked for', async () => {
    const ws = workspace(SPEC, { 'in.txt': 'one\n' });
    await attestedRun(ws);
    const a = provenanceFile(ws, 'a', 'out/a.txt');
    const b = provenanceFile(ws, 'b', 'out/b.txt');
    fs.writeFileSync(a, '{"not": "an envelope"}');
    fs.rmSync(b);
    await attestedRun(ws);
    expect(parseEnvelope(JSON.parse(fs.readFileSync(a, 'utf8'))).signatures).toEqual([]);
    expect(fs.existsSync(b)).toBe(true);
    const key = generateWorkspaceKey(ws, { name: 'ci' });
    const signed = await attestedRun(ws, true);
    expect(signed.record.steps.map((s) => s.cache)).toEqual(['hit', 'hit']);
    for (const file of [a, b]) expect(parseEnvelope(JSON.parse(fs.readFileSync(file, 'utf8'))).signatures.map((s) => s.keyid)).toEqual([key.keyId]);
  });

  it('a statement remembered as checked is checked again once edited, and for a signer it was not checked for', async () => {
    const ws = workspace(SPEC, { 'in.txt': 'one\n' });
    await attestedRun(ws);
    const a = provenanceFile(ws, 'a', 'out/a.txt');
    const b = provenanceFile(ws, 'b', 'out/b.txt');
    // Older than the stat memo's racy margin, so that the next run's check is remembered.
    const old = new Date(Date.now() - 60_000);
    for (const file of [a, b]) fs.utimesSync(file, old, old);
    const [a1, b1] = [envelopeOf(ws, 'a', 'out/a.txt'), envelopeOf(ws, 'b', 'out/b.txt')];
    await attestedRun(ws);
    const memo = JSON.parse(Sealer.forWorkspace(ws, { create: false })!.open('stat-memo', fs.readFileSync(path.join(ws, '.evident', 'cache', 'inputs', 'stat-memo.json'), 'utf8'))!) as { files: Record<string, unknown> };
    expect(Object.keys(memo.files)).toEqual(expect.arrayContaining([a, b]));
    expect([envelopeOf(ws, 'a', 'out/a.txt'), envelopeOf(ws, 'b', 'out/b.txt')]).toEqual([a1, b1]);
    // Same length, another subject digest, the old times put back: stat still differs (ctime), so it is parsed.
    const envelope = JSON.parse(a1) as { payload: string };
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as { subject: { digest: { sha256: string } }[] };
    statement.subject[0]!.digest.sha256 = statement.subject[0]!.digest.sha256.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    const edited = JSON.stringify({ ...envelope, payload: Buffer.from(JSON.stringify(statement)).toString('base64') });
    fs.writeFileSync(a, edited);
    fs.utimesSync(a, old, old);
    await attestedRun(ws);
    expect(envelopeOf(ws, 'a', 'out/a.txt')).not.toBe(edited);
    expect(envelopeOf(ws, 'b', 'out/b.txt')).toBe(b1);
    // Remembered as valid unsigned; signing asked for: replaced by a signed statement.
    const key = generateWorkspaceKey(ws, { name: 'ci' });
    await attestedRun(ws, true);
    expect(parseEnvelope(JSON.parse(envelopeOf(ws, 'b', 'out/b.txt'))).signatures.map((s) => s.keyid)).toEqual([key.keyId]);
  });
});

describe('the parsed attest.yaml kept by hash', () => {
  const cacheFile = (ws: string) => path.join(ws, '.evident', 'cache', 'attest-parsed.json');

  it('is written after a run, used while the file is unchanged, and never outlives an edit', async () => {
    const ws = workspace(SPEC, { 'in.txt': 'one\n' });
    expect(fs.existsSync(cacheFile(ws))).toBe(false);
    loadSpec(path.join(ws, 'attest.yaml'));
    // No .evident/cache yet: loading (validate, graph) leaves no trace in the workspace.
    expect(fs.existsSync(path.join(ws, '.evident'))).toBe(false);
    await run(ws);
    loadSpec(path.join(ws, 'attest.yaml'));
    expect(fs.existsSync(cacheFile(ws))).toBe(true);
    fs.writeFileSync(path.join(ws, 'attest.yaml'), SPEC.replace('cat in.txt > out/a.txt', 'cat in.txt in.txt > out/a.txt'));
    expect(loadSpec(path.join(ws, 'attest.yaml')).spec.steps.get('a')!.run).toBe('mkdir -p out && cat in.txt in.txt > out/a.txt');
    const again = await run(ws);
    expect(again.detail.a).toMatch(/^cache miss/);
    expect(fs.readFileSync(path.join(ws, 'out/a.txt'), 'utf8')).toBe('one\none\n');
  });

  const bodyOf = (text: string) => (text.lastIndexOf('\nevident-seal:') < 0 ? text : text.slice(0, text.lastIndexOf('\nevident-seal:')));

  it('is ignored when it does not hold a valid pipeline for this hash', async () => {
    const ws = workspace(SPEC, { 'in.txt': 'one\n' });
    await run(ws);
    loadSpec(path.join(ws, 'attest.yaml'));
    const sealer = Sealer.forWorkspace(ws, { create: false })!;
    const cached = JSON.parse(sealer.open('parsed-spec', fs.readFileSync(cacheFile(ws), 'utf8'))!) as { hash: string; value: { steps: Record<string, { run: string }> } };
    // Sealed but invalid (the key's holder wrote a bad tree): validation still runs, and it is parsed anew.
    cached.value.steps.a!.run = '';
    fs.writeFileSync(cacheFile(ws), sealer.seal('parsed-spec', JSON.stringify(cached)));
    expect(loadSpec(path.join(ws, 'attest.yaml')).spec.steps.get('a')!.run).toBe('mkdir -p out && cat in.txt > out/a.txt');
    fs.writeFileSync(cacheFile(ws), 'not json');
    expect(loadSpec(path.join(ws, 'attest.yaml')).spec.steps.size).toBe(2);
  });

  it('an edited copy (same hash, injected command, no valid seal) never runs, with or without --no-cache', async () => {
    const ws = workspace(SPEC, { 'in.txt': 'one\n' });
    await run(ws);
    loadSpec(path.join(ws, 'attest.yaml'));
    const injected = path.join(tempDir('evident-injected-'), 'injected.txt');
    const cached = JSON.parse(bodyOf(fs.readFileSync(cacheFile(ws), 'utf8'))) as { hash: string; value: { steps: Record<string, { run: string }> } };
    cached.value.steps.a!.run = `echo INJECTED > ${injected}; mkdir -p out && cat in.txt > out/a.txt`;
    fs.writeFileSync(cacheFile(ws), JSON.stringify(cached));
    expect(loadSpec(path.join(ws, 'attest.yaml')).spec.steps.get('a')!.run).toBe('mkdir -p out && cat in.txt > out/a.txt');
    fs.writeFileSync(cacheFile(ws), JSON.stringify(cached));
    const r = await run(ws, { noCache: true });
    expect(r.record.steps.find((s) => s.name === 'a')!.command).toBe('mkdir -p out && cat in.txt > out/a.txt');
    expect(fs.existsSync(injected)).toBe(false);
  });
});

describe('the receipt written without the YAML library', () => {
  it('reads back as the same value, whatever the strings hold', () => {
    const value = {
      pipeline: 'p: # not a comment', pipeline_hash: 'sha256:00', timestamp: '2026-11-29T21:00:00Z', total_duration_secs: 0.125, status: 'succeeded',
      steps: [
        { name: 'a', command: "echo 'x' | tr a b\n- not a list", exit_code: 0, duration_secs: 1e-7, env: { PATH_X: 'a\tb"\\ é 😀 \u0085 \u007f', yes: 'no', 'a b': '' }, inputs: [], outputs: [{ path: 'out/a', hash: 'sha256:11' }] },
        { name: 'null', command: 'true', exit_code: 2, duration_secs: 3, env: {}, inputs: [{ path: '-x', hash: '~' }], outputs: [] },
      ],
    };
    expect(parse(blockYaml(value))).toEqual(value);
  });
});
