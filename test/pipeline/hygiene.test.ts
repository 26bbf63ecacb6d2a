import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { attestationObservers, cacheKey, parseReceiptText, pruneReceipts, provenanceFile } from '../../src/pipeline/index.js';
import { evident } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';
import { run, workspace, write } from './runner-helpers.js';

// Issue 14 finding 7: a failed re-run leaves no "passed" provenance behind; receipts are pruned; the
// isolation level is in the key and in receipts and provenance; usage errors exit 2.

const SPEC = `version: "0.1"
name: hygiene
steps:
  test: { run: "mkdir -p reports && cp verdict.txt reports/junit.xml && grep -q pass verdict.txt", inputs: [verdict.txt], outputs: [reports/junit.xml] }
`;

describe('evidence hygiene', () => {
  it('a failed re-run removes the statements of the step\'s last successful run', async () => {
    const dir = workspace(SPEC, { 'verdict.txt': 'pass\n' });
    const observers = async () => attestationObservers({ workspace: dir, sign: false, provenance: true, version: '0.0.0' });
    await run(dir, { observers: await observers() });
    const statement = provenanceFile(dir, 'test', 'reports/junit.xml');
    expect(fs.existsSync(statement)).toBe(true);
    expect(JSON.parse(fs.readFileSync(statement, 'utf8')).payload).toBeTruthy();
    write(dir, 'verdict.txt', 'fail\n');
    const failed = await run(dir, { observers: await observers() });
    expect(failed.detail.test).toBe('exit code 1');
    expect(fs.existsSync(statement)).toBe(false);
    // The receipt records the run, its status and the isolation of each step.
    const receipts = path.join(dir, '.evident/cache/receipts');
    const { receipt } = parseReceiptText(fs.readFileSync(path.join(receipts, fs.readdirSync(receipts).sort().at(-1)!), 'utf8'));
    expect(receipt!.status).toBe('failed');
    expect(receipt!.steps[0]!.isolation).toBe('process');
  });

  it('the isolation level is in the key (sandbox only: other keys are unchanged) and in provenance', async () => {
    const base = { command: 'make', env: {}, inputs: [], needs: {}, outputs: ['out/'] };
    expect(cacheKey({ ...base, isolation: 'sandbox' })).not.toBe(cacheKey(base));
    expect(cacheKey({ ...base, envMode: 'strict' })).not.toBe(cacheKey(base));
    expect(cacheKey({ ...base, global: [] })).toBe(cacheKey(base));
    const dir = workspace(SPEC, { 'verdict.txt': 'pass\n' });
    await run(dir, { observers: await attestationObservers({ workspace: dir, sign: false, provenance: true, version: '0.0.0' }) });
    const envelope = JSON.parse(fs.readFileSync(provenanceFile(dir, 'test', 'reports/junit.xml'), 'utf8')) as { payload: string };
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
    expect(statement.predicate.buildDefinition.internalParameters.steps[0].isolation).toBe('process');
  });

  it('receipts are pruned by age and count, and only files named as receipts', () => {
    const dir = tempDir('evident-prune-');
    const receipts = path.join(dir, '.evident/cache/receipts');
    fs.mkdirSync(receipts, { recursive: true });
    const names = ['receipt_20261201_100000.yaml', 'receipt_20261202_100000.yaml', 'receipt_20261203_100000.yaml', 'receipt_20261203_100000_2.yaml', 'notes.txt'];
    for (const n of names) fs.writeFileSync(path.join(receipts, n), 'x');
    const old = new Date(Date.now() - 40 * 86_400_000);
    fs.utimesSync(path.join(receipts, names[1]!), old, old);
    expect(pruneReceipts(dir, { maxAgeDays: 30, keep: 2, dryRun: true }).map((f) => path.basename(f))).toEqual([names[0], names[1]]);
    expect(fs.readdirSync(receipts)).toHaveLength(5);
    pruneReceipts(dir, { maxAgeDays: 30, keep: 2 });
    expect(fs.readdirSync(receipts).sort()).toEqual(['notes.txt', names[2], names[3]]);
  });

  it('evident cache prune removes receipts; usage errors exit 2', async () => {
    const dir = workspace(SPEC, { 'verdict.txt': 'pass\n' });
    const env = { HOME: tempDir('evident-home-'), EVIDENT_NO_REPLAY: '1' };
    for (let i = 0; i < 3; i++) expect((await evident(['run', '-f', path.join(dir, 'attest.yaml')], env)).code).toBe(0);
    const pruned = await evident(['cache', 'prune', '-f', path.join(dir, 'attest.yaml'), '--keep-receipts', '1'], env);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(pruned.stdout).toMatch(/^removed 2 receipt\(s\)/);
    expect(fs.readdirSync(path.join(dir, '.evident/cache/receipts'))).toHaveLength(1);
    expect((await evident(['cache', 'prune', '-f', path.join(dir, 'attest.yaml'), '--keep-receipts', 'x'], env)).code).toBe(2);
    expect((await evident(['run', '--no-such-flag'], env)).code).toBe(2);
    expect((await evident(['nonsense'], env)).code).toBe(2);
  });
});
