import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromHex } from '../../src/core/index.js';
import { generateSignerKey, openCheckpoint, parseSignerKey, parseVerifierKey, rootOfLeaves, verifyConsistency, verifyInclusion } from '../../src/ledger/index.js';
import { LogService } from '../../src/services/index.js';
import { openStore, type SqlStore } from '../../src/store/index.js';
import { PG_URL, dropSchema, freshSchema } from '../helpers/engines.js';

const WORKER = path.resolve('dist/test/helpers/append-worker.js');

function run(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker exited ${code}: ${err}`))));
  });
}

// Sequencing across server processes is the PostgreSQL engine's job (row lock on the org's log head).
describe.runIf(PG_URL)('two processes appending to one PostgreSQL log', () => {
  const schema = freshSchema();
  const key = generateSignerKey('multi.evident/log');
  let store: SqlStore;

  beforeAll(async () => {
    store = await openStore({ databaseUrl: PG_URL!, schema });
    await store.orgs.create('acme', new Date().toISOString());
  });
  afterAll(async () => {
    await store.close();
    await dropSchema(schema);
  });

  it('stays gap-free and duplicate-free, and every proof verifies', async () => {
    const perWorker = 600;
    const startAt = String(Date.now() + 1500);
    await Promise.all(['a', 'b'].map((w) => run([PG_URL!, schema, 'acme', key.signerKey, w, String(perWorker), startAt])));
    const org = (await store.orgs.get('acme'))!;
    const log = new LogService(store, parseSignerKey(key.signerKey), { maxRange: 5000 });
    const cp = openCheckpoint(await log.checkpoint(org), [parseVerifierKey(log.verifierKeyFor(org))]);
    expect(cp.size).toBe(2 * perWorker);
    const { items: entries } = await log.entries(org, 0, cp.size);
    expect(entries.map((e) => e.index)).toEqual(Array.from({ length: cp.size }, (_, i) => i));
    const seen = new Set(entries.map((e) => { const v = JSON.parse(e.entry); return `${v.worker}:${v.seq}`; }));
    expect(seen.size).toBe(cp.size);
    const workers = entries.map((e) => JSON.parse(e.entry).worker as string);
    expect(workers.filter((w) => w === 'a')).toHaveLength(perWorker);
    expect(workers.filter((w) => w === 'b')).toHaveLength(perWorker);
    const leaves = entries.map((e) => fromHex(e.leafHash));
    expect(Buffer.from(rootOfLeaves(leaves))).toEqual(Buffer.from(cp.root));
    for (let i = 0; i < cp.size; i++) {
      const p = await log.inclusionProof(org, i);
      verifyInclusion(i, cp.size, leaves[i]!, p.hashes.map((h) => fromHex(h)), cp.root);
    }
    for (const from of [1, 7, 100, 599, 600, 1000]) {
      const c = await log.consistencyProof(org, from, cp.size);
      verifyConsistency(from, cp.size, c.hashes.map((h) => fromHex(h)), rootOfLeaves(leaves.slice(0, from)), cp.root);
    }
  }, 120_000);
});
