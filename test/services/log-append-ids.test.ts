import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LogService } from '../../src/services/index.js';
import type { OrgRecord, SqlStore } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';
import { testSigner } from '../helpers/keys.js';

// PostgreSQL (issue #21, twelfth round): a batch of attestations takes its row ids from the sequence in the
// round trip that opens its transaction (after the org's log lock), not in a round trip of its own; the ids
// still grow in log order and each caller gets the row written.

// Without PostgreSQL the suite is skipped (a describe.each over no engine would leave the file without a suite).
const postgres = engines().find((e) => e.name === 'postgres');

describe.skipIf(!postgres)('attestation ids of a batch on postgres', () => {
  const engine = postgres!;
  let store: SqlStore;
  let cleanup: () => Promise<void>;
  let log: LogService;
  let org: OrgRecord;
  const texts: string[] = [];
  const query = pg.Client.prototype.query;

  beforeAll(async () => {
    ({ store, cleanup } = await engine.open());
    log = new LogService(store, testSigner(), { maxBatch: 100 });
    org = await store.orgs.create('ids', new Date().toISOString());
  });
  afterEach(() => {
    pg.Client.prototype.query = query;
  });
  afterAll(async () => cleanup());

  it('opens the transaction, locks the head and takes the ids in one round trip; ids grow in log order', async () => {
    const flow = (await log.append(org, 'flow.created', { name: 'f' }, (records, e) =>
      records.insertFlow({ orgId: org.id, name: 'f', description: '', template: null, createdAt: e.time, archivedAt: null, entryIndex: e.index }))).value;
    const trail = (await log.append(org, 'trail.begun', { name: 't' }, (records, e) => records.insertTrail({
      orgId: org.id, flowId: flow.id, name: 't', description: '', gitCommit: null, commitUrl: null, originUrl: null, userData: null, template: null,
      createdAt: e.time, entryIndex: e.index,
    }))).value;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      const q = args[0] as string | { text?: string };
      texts.push(typeof q === 'string' ? q : q?.text ?? '');
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof query;
    const attest = (name: string) => log.append(org, 'attestation.reported', { name }, (records, e) => records.insertAttestation({
      orgId: org.id, flowId: flow.id, trailId: trail.id, name, type: 'generic', artifactFingerprint: null, artifactName: null, gitCommit: null,
      compliant: true, summary: null, description: '', userData: null, annotations: null, evidence: [], createdAt: e.time, entryIndex: e.index,
    }));
    const done = await Promise.all(Array.from({ length: 30 }, (_, i) => attest(`a${i}`)));
    pg.Client.prototype.query = query;
    const opens = texts.filter((t) => t.startsWith('BEGIN;'));
    expect(opens.length).toBeGreaterThan(0);
    expect(opens.every((t) => /FOR UPDATE; SELECT nextval\(/.test(t))).toBe(true);
    // No round trip of its own for the ids.
    expect(texts.filter((t) => t.startsWith('SELECT nextval'))).toEqual([]);
    const stored = await store.records.attestationsOfTrail(trail.id);
    expect(stored.map((a) => ({ id: a.id, entryIndex: a.entryIndex }))).toEqual(done.map((d) => ({ id: d.value.id, entryIndex: d.index })));
    expect(stored.map((a) => a.id)).toEqual([...stored.map((a) => a.id)].sort((x, y) => x - y));
    // A batch without attestations takes no ids.
    texts.length = 0;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      const q = args[0] as string | { text?: string };
      texts.push(typeof q === 'string' ? q : q?.text ?? '');
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof query;
    await log.append(org, 'flow.created', { name: 'g' }, (records, e) =>
      records.insertFlow({ orgId: org.id, name: 'g', description: '', template: null, createdAt: e.time, archivedAt: null, entryIndex: e.index }));
    expect(texts.filter((t) => t.includes('nextval'))).toEqual([]);
  });
});
