import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CompiledQuery, type Kysely } from 'kysely';
import type { ServiceBundle } from '../../src/services/index.js';
import type { Database, OrgRecord, SqlStore } from '../../src/store/index.js';
import { createServices } from '../../src/services/index.js';
import { engines } from '../helpers/engines.js';
import { testSigner } from '../helpers/keys.js';

// Issue #21: a page of environment events, DORA metrics over a window and a page of `list artifacts` cost
// O(page) or O(range), whatever the size of the log. Every SELECT they run is captured and EXPLAINed on both
// engines: none may read a whole table (SQLite `SCAN t` without an index; PostgreSQL `Seq Scan`, with
// sequential scans priced out, so a plan falls back to one only when no index can answer). The tables here are
// tiny; the plans are what holds at any size (the indexes are chosen by shape, not by statistics).

const fp = (c: string) => c.repeat(64);

interface Captured { sql: string; parameters: readonly unknown[] }

/** Runs `fn`, returning every query Kysely executed meanwhile (all Kysely instances share the executor class). */
async function capture(db: Kysely<Database>, fn: () => Promise<unknown>): Promise<Captured[]> {
  let proto: object | null = db.getExecutor();
  while (proto && !Object.prototype.hasOwnProperty.call(proto, 'executeQuery')) proto = Object.getPrototypeOf(proto) as object | null;
  const owner = proto as { executeQuery(q: CompiledQuery, id: unknown): Promise<unknown> };
  const seen: Captured[] = [];
  const original = owner.executeQuery;
  const spy = vi.spyOn(owner, 'executeQuery').mockImplementation(function (this: unknown, q: CompiledQuery, id: unknown) {
    seen.push({ sql: q.sql, parameters: q.parameters });
    return original.call(this, q, id);
  });
  try {
    await fn();
  } finally {
    spy.mockRestore();
  }
  return seen;
}

/** The plan, one line per step (PostgreSQL: with sequential scans priced out). */
async function plan(store: SqlStore, q: Captured): Promise<string[]> {
  if (store.engine === 'sqlite') {
    const { rows } = await store.db.executeQuery<{ detail: string }>(CompiledQuery.raw(`EXPLAIN QUERY PLAN ${q.sql}`, [...q.parameters]));
    return rows.map((r) => r.detail);
  }
  return store.db.transaction().execute(async (tx) => {
    await tx.executeQuery(CompiledQuery.raw('SET LOCAL enable_seqscan = off'));
    const { rows } = await tx.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`EXPLAIN ${q.sql}`, [...q.parameters]));
    return rows.map((r) => r['QUERY PLAN']);
  });
}

/** The plan's lines that read a whole table. */
const fullScans = (lines: string[]) => lines.filter((l) => /^SCAN \w+( AS \w+)?$/.test(l) || /Seq Scan/.test(l));

const selects = (list: Captured[]) => list.filter((q) => /^\s*select\b/i.test(q.sql) && !/pg_stat|sqlite_stat|current_schema/.test(q.sql));

describe.each(engines())('the plans of paged reads on $name', (engine) => {
  let opened: { store: SqlStore; cleanup(): Promise<void> };
  let services: ServiceBundle;
  let org: OrgRecord;

  beforeAll(async () => {
    opened = await engine.open();
    services = createServices(opened.store, testSigner());
    org = (await services.auth.ensureOrg('plans')).org;
    for (const flow of ['web', 'api']) {
      await services.flows.create(org, { name: flow });
      for (let t = 1; t <= 3; t++) {
        await services.trails.begin(org, { flow, name: `r${t}` });
        await services.artifacts.report(org, { flow, trail: `r${t}`, name: flow, fingerprint: fp(String(t)), gitCommit: `${t}`.repeat(40) });
      }
    }
    await services.environments.create(org, { name: 'prod', type: 'k8s' });
    for (let s = 1; s <= 4; s++) {
      await services.environments.report(org, 'prod', [{ name: 'web', fingerprint: fp(String(s)), instances: s }, { name: 'api', fingerprint: fp('b'), instances: 1 }]);
    }
  }, 60_000);
  afterAll(async () => opened.cleanup());

  /**
   * No SELECT of `fn` reads a whole table; on SQLite, whose plans here do not depend on statistics, each query
   * matching a key of `expected` uses the index range given (PostgreSQL's choice between indexes on tables
   * this small says nothing about large ones: only the absence of sequential scans is asserted there).
   */
  const check = async (what: string, fn: () => Promise<unknown>, expected: Record<string, RegExp> = {}) => {
    const queries = selects(await capture(opened.store.db, fn));
    expect(queries.length, what).toBeGreaterThan(0);
    const seen = new Set<string>();
    for (const q of queries) {
      const lines = await plan(opened.store, q);
      expect(fullScans(lines), `${what}: ${q.sql}\n${lines.join('\n')}`).toEqual([]);
      if (opened.store.engine !== 'sqlite') continue;
      for (const [key, index] of Object.entries(expected)) {
        if (!q.sql.includes(key)) continue;
        seen.add(key);
        expect(lines.join('\n'), `${what}: ${q.sql}`).toMatch(index);
      }
    }
    if (opened.store.engine === 'sqlite') expect([...seen].sort(), what).toEqual(Object.keys(expected).sort());
  };

  it('an entry bundle: one range read along the log\'s key, in its order, no sort (verify log --full, issue #21)', async () => {
    const queries = selects(await capture(opened.store.db, () => opened.store.log.entryBundle(org.id, 0, 4)));
    expect(queries.length).toBeGreaterThan(0);
    for (const q of queries) {
      const lines = await plan(opened.store, q);
      const text = `${q.sql}\n${lines.join('\n')}`;
      if (opened.store.engine !== 'sqlite') {
        expect(fullScans(lines), text).toEqual([]);
        continue;
      }
      // The outer query reads the subquery's rows (`SCAN r`, not a table); group_concat takes them in the
      // subquery's order, which the key gives: an ORDER BY SQLite had to sort would show as a temporary b-tree.
      expect(lines.join('\n'), text).toMatch(/SEARCH log_entries USING (COVERING )?INDEX \w+ \(org_id=\? AND idx>\? AND idx<\?\)/);
      expect(lines.filter((l) => /^SCAN /.test(l) && l !== 'SCAN r'), text).toEqual([]);
      expect(lines.join('\n'), text).not.toMatch(/TEMP B-TREE/);
    }
  });

  it('a page of environment events (the newest, then by cursor)', async () => {
    const first = await services.environments.events(org, 'prod', null, 2);
    const snapshots = { 'from "snapshots" where "env_id" = ? and "idx" < ?': /SEARCH snapshots USING INDEX \w+ \(env_id=\? AND idx<\?\)/ };
    const running = { 'from "snapshot_artifacts"': /SEARCH snapshot_artifacts USING INDEX snapshot_artifacts_snap \(snapshot_id=\?\)/ };
    await check('events, first page', () => services.environments.events(org, 'prod', null, 2), running);
    await check('events, next page', () => services.environments.events(org, 'prod', first.nextCursor, 2), { ...snapshots, ...running });
  });

  it('DORA metrics of a window: from the rows, and the ledger built then extended (issue #21)', async () => {
    const until = new Date(Date.now() + 3600e3).toISOString();
    const fingerprints = { '"fingerprint" in': /SEARCH artifacts USING INDEX artifacts_fp \(org_id=\? AND fingerprint=\?\)/ };
    await check('dora from the rows', () => services.dora.recomputed(org, { environment: 'prod', since: '2026-01-01', until }), {
      'from "snapshots" where "env_id" = ? and "created_at" >= ?': /SEARCH snapshots USING INDEX snapshots_env_time \(env_id=\? AND created_at>\? AND created_at<\?\)/,
      'from "snapshot_artifacts" where "env_id" = ?': /SEARCH snapshot_artifacts USING INDEX snapshot_artifacts_starts \(env_id=\? AND idx>\? AND idx<\?\)/,
      ...fingerprints,
    });
    const ledger = {
      'from "snapshots" where "env_id" = ? and "idx" > ?': /SEARCH snapshots USING INDEX \w+ \(env_id=\? AND idx>\?\)/,
      'from "snapshot_artifacts" where "env_id" = ?': /SEARCH snapshot_artifacts USING INDEX snapshot_artifacts_starts \(env_id=\? AND idx>\? AND idx<\?\)/,
    };
    await check('dora ledger, built', () => services.dora.metrics(org, { environment: 'prod', since: '2026-01-01', until }), { ...ledger, ...fingerprints });
    // After more entries: the reports appended since, by artifacts_entry (0026), and the snapshots after the last read.
    await services.artifacts.report(org, { flow: 'api', trail: (await opened.store.records.trails((await services.flows.get(org, 'api')).id, null, 1)).items[0]!.name, name: 'again', fingerprint: 'e'.repeat(64) });
    await check('dora ledger, extended', () => services.dora.metrics(org, { environment: 'prod', since: '2026-01-01', until }), {
      'from "snapshots" where "env_id" = ? and "idx" > ?': ledger['from "snapshots" where "env_id" = ? and "idx" > ?'],
      '"entry_index" >= ?': /SEARCH artifacts USING INDEX artifacts_entry \(org_id=\? AND entry_index>\? AND entry_index<\?\)/,
    });
  });

  it('a page of list artifacts, of the org and of one flow, with its flow and trail names', async () => {
    const flow = (await services.flows.get(org, 'api'));
    await check('list artifacts', async () => {
      const page = await services.artifacts.list(org, {}, null, 2);
      await opened.store.records.trailNames(page.items.map((a) => a.trailId));
      await services.artifacts.list(org, {}, page.nextCursor, 2);
    }, {
      'from "artifacts"': /SEARCH artifacts USING INTEGER PRIMARY KEY \(rowid>\?\)/,
      'from "trails"': /SEARCH trails USING INTEGER PRIMARY KEY \(rowid=\?\)\nSEARCH flows USING INTEGER PRIMARY KEY \(rowid=\?\)/,
    });
    await check('list artifacts --flow', () => services.artifacts.list(org, { flowId: flow.id }, null, 2), {
      'from "artifacts"': /SEARCH artifacts USING INDEX artifacts_flow_id \(flow_id=\? AND id>\?\)/,
    });
  });

  it('a page of list flows: each flow\'s latest trail by one descent of its trails, not all of them', async () => {
    await check('list flows', () => services.flows.overview(org, { limit: 10 }), {
      'from "flows" as "f"': /SEARCH t USING COVERING INDEX trails_flow \(flow_id<\?\)/,
      // The run starts behind each shown last deployment (checked against their entries): the page's snapshots' starts only.
      'from "snapshot_artifacts" as "sa"': /SEARCH sa USING INDEX snapshot_artifacts_starts \(env_id=\? AND idx=\?\)/,
    });
  });

  it('search and FLOW:COMMIT keep their own indexes beside the new ones', async () => {
    const ranges = /MULTI-INDEX OR\nINDEX 1\nSEARCH artifacts USING INDEX artifacts_fp \(org_id=\? AND fingerprint>\? AND fingerprint<\?\)\nINDEX 2\nSEARCH artifacts USING INDEX artifacts_commit/;
    // Where the hits run: each maximum a descent by environment (the GROUP BY it replaced read every snapshot
    // and every appearance of the fingerprint), the latest snapshots' rows by point lookups.
    await services.environments.report(org, 'prod', [{ name: 'web', fingerprint: fp('3'), instances: 1 }]);
    await check('search, a hit that ran and stopped', () => services.artifacts.search(org, '111111'), {
      'from "artifacts"': ranges, 'from "trails"': /rowid=/,
      'max("s"."idx")': /CORRELATED SCALAR SUBQUERY 1\nSEARCH s USING COVERING INDEX \w+ \(env_id=\?\)/,
      'max("sa"."idx")': /SEARCH sa USING COVERING INDEX snapshot_artifacts_fp \(org_id=\? AND fingerprint=\? AND env_id=\?\)/,
    });
    await check('search, a hit that runs', () => services.artifacts.search(org, '333333'), {
      'from "artifacts"': ranges, 'from "trails"': /rowid=/,
      'max("s"."idx")': /SEARCH e USING (COVERING )?INDEX \w+ \(org_id=\?\)\nCORRELATED SCALAR SUBQUERY 1\nSEARCH s USING COVERING INDEX \w+ \(env_id=\?\)/,
      'max("sa"."idx")': /SEARCH sa USING COVERING INDEX snapshot_artifacts_fp \(org_id=\? AND fingerprint=\? AND env_id=\?\)/,
      '"since_idx", "instances" from "snapshot_artifacts"': /SEARCH snapshot_artifacts USING INDEX snapshot_artifacts_fp \(org_id=\? AND fingerprint=\? AND env_id=\? AND idx=\?\)/,
    });
    await check('search, no hit', () => services.artifacts.search(org, 'cdcdcd'), { 'from "artifacts"': ranges });
    await check('FLOW:COMMIT', () => services.artifacts.find(org, 'web:1111111'), {
      '"git_commit" >= ?': /SEARCH artifacts USING INDEX artifacts_commit \(org_id=\? AND git_commit>\? AND git_commit<\?\)/,
    });
  });
});
