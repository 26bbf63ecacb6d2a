import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createServices, type ServiceBundle } from '../../src/services/index.js';
import { projectionCheck } from '../../src/services/records/projection-check.js';
import type { OrgRecord, SqlStore } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';
import { SteppingClock } from '../helpers/fixture-org.js';
import { testSigner } from '../helpers/keys.js';
import { dropTriggers } from '../helpers/tamper.js';

// What is only shown — `list flows`' last deployment (flow_deployments) and the environments `get artifact`'s
// history says the artifact ran in (snapshot_artifacts, snapshots, expectations) — is checked against the log
// entries it comes from like a decision (services/records/shown-runs.ts). An attacker who edits those rows
// behind the server must get TAMPERED from a fresh process, never a forged fact.

const APP = 'a'.repeat(64);
const OTHER = 'b'.repeat(64);
const NEVER = 'c'.repeat(64);

describe.each(engines())('shown runs edited behind the server on $name', (engine) => {
  let store: SqlStore;
  let cleanup: () => Promise<void>;
  let services: ServiceBundle;
  let org: OrgRecord;
  const signer = testSigner();
  /** A fresh process: new services, nothing verified or bound remembered. */
  const fresh = () => {
    const check = projectionCheck(store);
    check.clear();
    check.forgetTree();
    return createServices(store, signer, { clock: new SteppingClock() });
  };
  const listFlows = async (s: ServiceBundle, sort?: 'last-deployment') => (await s.flows.overview(org, { sort })).items.map((i) => [i.flow.name, i.lastDeployment && `${i.lastDeployment.environment}#${i.lastDeployment.snapshot} ${i.lastDeployment.at}`]);
  const history = async (s: ServiceBundle, fp = APP) => (await s.artifacts.find(org, fp)).map((v) => ({ history: v.history.map((h) => h.event), running: v.running, exited: v.exited }));
  const id = async (table: string, name: string) => (await sql<{ id: number }>`SELECT id FROM ${sql.table(table)} WHERE name = ${name}`.execute(store.db)).rows[0]!.id;

  let honestFlows: unknown[];
  let honestHistory: unknown;

  /** Runs `;`-separated statements (SQLite prepares one at a time). */
  const run = async (statements: string) => {
    for (const one of statements.split(';').map((x) => x.trim()).filter(Boolean)) await sql.raw(one).execute(store.db);
  };

  /** Edits rows, expects every view in `views` to be refused by a fresh process, then puts the rows back. */
  async function expectRefused(edit: string, undo: string, views: ((s: ServiceBundle) => Promise<unknown>)[], table?: string) {
    await run(edit);
    try {
      for (const view of views) {
        const refused = view(fresh());
        await expect(refused).rejects.toMatchObject({ code: 'TAMPERED', ...(table ? { details: { table } } : {}) });
      }
    } finally {
      await run(undo);
    }
    // Honest again: the check refuses edits, not the log.
    expect(await listFlows(fresh())).toEqual(honestFlows);
    expect(await history(fresh())).toEqual(honestHistory);
  }

  beforeAll(async () => {
    const opened = await engine.open();
    store = opened.store;
    cleanup = opened.cleanup;
    services = createServices(store, signer, { clock: new SteppingClock() });
    org = (await services.auth.ensureOrg('acme')).org;
    for (const flow of ['app', 'other', 'never']) {
      await services.flows.create(org, { name: flow });
      await services.trails.begin(org, { flow, name: 't1' });
    }
    await services.artifacts.report(org, { flow: 'app', trail: 't1', name: 'app', fingerprint: APP });
    await services.artifacts.report(org, { flow: 'other', trail: 't1', name: 'other', fingerprint: OTHER });
    await services.artifacts.report(org, { flow: 'never', trail: 't1', name: 'never', fingerprint: NEVER });
    await services.environments.create(org, { name: 'production', type: 'k8s' });
    await services.environments.create(org, { name: 'staging', type: 'k8s' });
    await services.policies.create(org, { name: 'lax', source: '_schema: https://docs.kosli.com/schemas/policy/v1\n' });
    await services.environments.report(org, 'staging', [{ name: 'app', fingerprint: APP, instances: 1 }]); // staging#1: app starts
    await services.environments.report(org, 'staging', [{ name: 'app', fingerprint: APP, instances: 3 }]); // staging#2: scaled up
    await services.environments.report(org, 'staging', [{ name: 'other', fingerprint: OTHER, instances: 1 }]); // staging#3: app exits
    await services.environments.report(org, 'production', [{ name: 'other', fingerprint: OTHER, instances: 1 }]); // production#1
    await services.environments.expect(org, 'production', APP, 'release 1');
    await services.environments.report(org, 'production', [{ name: 'other', fingerprint: OTHER, instances: 1 }, { name: 'app', fingerprint: APP, instances: 2 }]); // production#2
    await services.policies.attach(org, 'production', 'lax'); // production#3: a policy change, the same running set
    await dropTriggers(store);
    honestFlows = await listFlows(fresh());
    honestHistory = await history(fresh());
  });
  afterAll(async () => cleanup());

  it('honest logs pass: the last deployments and the history, with a policy change as the latest snapshot', async () => {
    expect(honestFlows).toEqual([
      ['app', expect.stringMatching(/^production#2 /)], ['other', expect.stringMatching(/^production#1 /)], ['never', null],
    ]);
    expect(honestHistory).toEqual([{
      history: [
        'Artifact created', 'Started running in staging#1 environment', 'Scaled up from 1 to 3 in staging#2 environment',
        'No longer running in staging#3 environment', 'Deployment #1 to production environment', 'Started running in production#2 environment',
      ],
      running: ['production#3'], exited: ['staging#3'],
    }]);
    // Sorted (every flow's row read): the page shown is checked the same way.
    expect(await listFlows(fresh(), 'last-deployment')).toEqual(honestFlows);
    expect(await history(fresh(), NEVER)).toEqual([{ history: ['Artifact created'], running: [], exited: [] }]);
  });

  // Each attacker's edit (rows made to agree with one another where the view joins them) and its undo.
  type Case = { edit: string; undo: string; views: ((s: ServiceBundle) => Promise<unknown>)[]; table: string };
  const flowsViews = [(s: ServiceBundle) => listFlows(s), (s: ServiceBundle) => listFlows(s, 'last-deployment')];
  const historyViews = [(s: ServiceBundle) => history(s)];
  const snapshotAt = (env: number, idx: number) => `(SELECT created_at FROM snapshots WHERE env_id = ${env} AND idx = ${idx})`;
  const neverRow = (prod: number, never: number, idx: number) =>
    `INSERT INTO flow_deployments (org_id, flow_id, env_id, idx, created_at) SELECT org_id, ${never}, env_id, idx, created_at FROM snapshots WHERE env_id = ${prod} AND idx = ${idx}`;
  const artifactCols = 'org_id, trail_id, fingerprint, name, display_name, git_commit, commit_url, build_url, annotations, commit_time, created_at, entry_index';
  const saCols = 'snapshot_id, org_id, env_id, idx, fingerprint, name, instances, since_idx';
  const cases: Record<string, (ids: { app: number; never: number; prod: number; staging: number; prodAt2: string }) => Case> = {
    'list flows: the last deployment at another time (production#2\'s entry says when)': ({ app, prod }) => ({
      edit: `UPDATE flow_deployments SET created_at = '2031-01-01T00:00:00.000Z' WHERE flow_id = ${app} AND env_id = ${prod}`,
      undo: `UPDATE flow_deployments SET created_at = ${snapshotAt(prod, 2)} WHERE flow_id = ${app} AND env_id = ${prod}`,
      views: flowsViews, table: 'flow_deployments',
    }),
    'list flows: a later snapshot where it still ran but did not start (its run-start row edited to agree)': ({ app, prod }) => ({
      edit: `UPDATE flow_deployments SET idx = 3, created_at = ${snapshotAt(prod, 3)} WHERE flow_id = ${app} AND env_id = ${prod};
             UPDATE snapshot_artifacts SET since_idx = 3 WHERE env_id = ${prod} AND idx = 3 AND fingerprint = '${APP}'`,
      undo: `UPDATE flow_deployments SET idx = 2, created_at = ${snapshotAt(prod, 2)} WHERE flow_id = ${app} AND env_id = ${prod};
             UPDATE snapshot_artifacts SET since_idx = 2 WHERE env_id = ${prod} AND idx = 3 AND fingerprint = '${APP}'`,
      views: flowsViews, table: 'flow_deployments',
    }),
    'list flows: another environment, its snapshot_artifacts rows made to agree (staging#3\'s entry does not list it)': ({ app, prod, staging }) => ({
      edit: `DELETE FROM flow_deployments WHERE flow_id = ${app} AND env_id = ${staging};
             UPDATE flow_deployments SET env_id = ${staging}, idx = 3, created_at = ${snapshotAt(staging, 3)} WHERE flow_id = ${app} AND env_id = ${prod};
             UPDATE snapshot_artifacts SET fingerprint = '${APP}' WHERE env_id = ${staging} AND idx = 3 AND fingerprint = '${OTHER}'`,
      undo: `UPDATE flow_deployments SET env_id = ${prod}, idx = 2, created_at = ${snapshotAt(prod, 2)} WHERE flow_id = ${app} AND env_id = ${staging};
             INSERT INTO flow_deployments (org_id, flow_id, env_id, idx, created_at) SELECT org_id, ${app}, env_id, idx, created_at FROM snapshots WHERE env_id = ${staging} AND idx = 1;
             UPDATE snapshot_artifacts SET fingerprint = '${OTHER}' WHERE env_id = ${staging} AND idx = 3 AND fingerprint = '${APP}'`,
      views: flowsViews, table: 'flow_deployments',
    }),
    'list flows: a flow that never ran shown deployed to production (no artifact of it began there)': ({ never, prod }) => ({
      edit: neverRow(prod, never, 2), undo: `DELETE FROM flow_deployments WHERE flow_id = ${never}`, views: flowsViews, table: 'flow_deployments',
    }),
    'list flows: ... with a deployed fingerprint\'s artifacts row copied into the flow (its entry names another flow)': ({ never, prod }) => ({
      edit: `${neverRow(prod, never, 1)}; INSERT INTO artifacts (flow_id, ${artifactCols}) SELECT ${never}, ${artifactCols} FROM artifacts WHERE fingerprint = '${OTHER}'`,
      undo: `DELETE FROM flow_deployments WHERE flow_id = ${never}; DELETE FROM artifacts WHERE fingerprint = '${OTHER}' AND flow_id = ${never}`,
      views: flowsViews, table: 'artifacts',
    }),
    'list flows: ... with a run-start row of its fingerprint in production#2 (that entry does not list it)': ({ never, prod }) => ({
      edit: `${neverRow(prod, never, 2)}; INSERT INTO snapshot_artifacts (${saCols}) SELECT id, org_id, env_id, idx, '${NEVER}', 'never', 1, idx FROM snapshots WHERE env_id = ${prod} AND idx = 2`,
      undo: `DELETE FROM flow_deployments WHERE flow_id = ${never}; DELETE FROM snapshot_artifacts WHERE fingerprint = '${NEVER}'`,
      views: flowsViews, table: 'flow_deployments',
    }),
    'get artifact: its staging run shown as a production one': ({ prod, staging }) => ({
      edit: `UPDATE snapshot_artifacts SET env_id = ${prod} WHERE env_id = ${staging} AND fingerprint = '${APP}'`,
      undo: `UPDATE snapshot_artifacts SET env_id = ${staging} WHERE snapshot_id IN (SELECT id FROM snapshots WHERE env_id = ${staging}) AND fingerprint = '${APP}'`,
      views: historyViews, table: 'snapshot_artifacts',
    }),
    'get artifact: other instances': ({ prod }) => ({
      edit: `UPDATE snapshot_artifacts SET instances = 5 WHERE env_id = ${prod} AND idx = 2 AND fingerprint = '${APP}'`,
      undo: `UPDATE snapshot_artifacts SET instances = 2 WHERE env_id = ${prod} AND idx = 2 AND fingerprint = '${APP}'`,
      views: historyViews, table: 'snapshot_artifacts',
    }),
    'get artifact: a snapshot at another time': ({ prod, prodAt2 }) => ({
      edit: `UPDATE snapshots SET created_at = '2031-01-01T00:00:00.000Z' WHERE env_id = ${prod} AND idx = 2`,
      undo: `UPDATE snapshots SET created_at = '${prodAt2}' WHERE env_id = ${prod} AND idx = 2`,
      views: historyViews, table: 'snapshot_artifacts',
    }),
    'get artifact: a run made to start earlier (production#1 did not hold it)': ({ prod }) => ({
      edit: `INSERT INTO snapshot_artifacts (${saCols}) SELECT id, org_id, env_id, idx, '${APP}', 'app', 2, idx FROM snapshots WHERE env_id = ${prod} AND idx = 1`,
      undo: `DELETE FROM snapshot_artifacts WHERE env_id = ${prod} AND idx = 1 AND fingerprint = '${APP}'`,
      views: historyViews, table: 'snapshot_artifacts',
    }),
    'get artifact: its deployment expectation shown for another environment': ({ prod, staging }) => ({
      edit: `UPDATE expectations SET env_id = ${staging}, description = 'release 2' WHERE fingerprint = '${APP}'`,
      undo: `UPDATE expectations SET env_id = ${prod}, description = 'release 1' WHERE fingerprint = '${APP}'`,
      views: historyViews, table: 'expectations',
    }),
    'get artifact: an artifact that never ran shown running in production': ({ prod }) => ({
      edit: `INSERT INTO snapshot_artifacts (${saCols}) SELECT id, org_id, env_id, idx, '${NEVER}', 'never', 1, idx FROM snapshots WHERE env_id = ${prod} AND idx >= 2`,
      undo: `DELETE FROM snapshot_artifacts WHERE fingerprint = '${NEVER}'`,
      views: [(s: ServiceBundle) => history(s, NEVER)], table: 'snapshot_artifacts',
    }),
  };

  it.each(Object.keys(cases))('%s: TAMPERED in a fresh process', async (name) => {
    const prod = await id('environments', 'production');
    const prodAt2 = (await sql<{ created_at: string }>`SELECT created_at FROM snapshots WHERE env_id = ${prod} AND idx = 2`.execute(store.db)).rows[0]!.created_at;
    const c = cases[name]!({ app: await id('flows', 'app'), never: await id('flows', 'never'), prod, staging: await id('environments', 'staging'), prodAt2 });
    await expectRefused(c.edit, c.undo, c.views, c.table);
  });

  it('a warm process that proved the honest last deployments still refuses a row edited to show another', async () => {
    const warm = createServices(store, signer, { clock: new SteppingClock() });
    expect(await listFlows(warm)).toEqual(honestFlows);
    const app = await id('flows', 'app');
    const prod = await id('environments', 'production');
    await run(`UPDATE flow_deployments SET created_at = '2031-01-01T00:00:00.000Z' WHERE flow_id = ${app} AND env_id = ${prod}`);
    try {
      await expect(listFlows(warm)).rejects.toMatchObject({ code: 'TAMPERED', details: { table: 'flow_deployments' } });
    } finally {
      await run(`UPDATE flow_deployments SET created_at = ${snapshotAt(prod, 2)} WHERE flow_id = ${app} AND env_id = ${prod}`);
    }
    expect(await listFlows(warm)).toEqual(honestFlows);
  });

  it('what rows leave out stays unseen (the completeness gap): a deleted exit shows the run as still going', async () => {
    const staging = await id('environments', 'staging');
    const exit = (await sql<{ id: number; created_at: string; entry_index: number; org_id: number }>`SELECT id, created_at, entry_index, org_id FROM snapshots WHERE env_id = ${staging} AND idx = 3`.execute(store.db)).rows[0]!;
    await run(`DELETE FROM snapshot_artifacts WHERE snapshot_id = ${exit.id}; DELETE FROM snapshots WHERE id = ${exit.id}`);
    try {
      expect((await history(fresh()))[0]!.running).toEqual(['production#3', 'staging#2']);
    } finally {
      await run(`INSERT INTO snapshots (id, org_id, env_id, idx, created_at, entry_index) VALUES (${exit.id}, ${exit.org_id}, ${staging}, 3, '${exit.created_at}', ${exit.entry_index});
        INSERT INTO snapshot_artifacts (snapshot_id, org_id, env_id, idx, fingerprint, name, instances, since_idx) VALUES (${exit.id}, ${exit.org_id}, ${staging}, 3, '${OTHER}', 'other', 1, 3)`);
    }
    expect(await history(fresh())).toEqual(honestHistory);
  });
});
