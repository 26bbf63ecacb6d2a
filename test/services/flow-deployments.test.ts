import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sql } from 'kysely';
import { createServices, type ServiceBundle } from '../../src/services/index.js';
import type { OrgRecord, SqlStore } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';
import { SteppingClock } from '../helpers/fixture-org.js';
import { testSigner } from '../helpers/keys.js';

// `list flows` reads each flow's last deployment from an aggregate kept as snapshots and artifacts arrive
// (src/store/flow-deployments.ts). Whatever the order of reports and snapshots — an artifact reported before
// it runs, or only after it started running — the aggregate must say what a from-scratch reading of every
// snapshot says.

const FLOWS = ['alpha', 'beta', 'gamma'];
const ENVS = ['env-a', 'env-b'];
const fp = (i: number) => createHash('sha256').update(`fp-${i}`).digest('hex');

type Command =
  | { kind: 'report'; fp: number; flow: number }
  | { kind: 'snapshot'; env: number; running: number[] };

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ kind: fc.constant('report' as const), fp: fc.nat(5), flow: fc.nat(FLOWS.length - 1) }),
  fc.record({ kind: fc.constant('snapshot' as const), env: fc.nat(ENVS.length - 1), running: fc.uniqueArray(fc.nat(5), { maxLength: 4 }) }),
);

/** The reference: every snapshot's starts, joined with every report, as the old read-time query did. */
function expected(commands: Command[]): Map<string, [string, number]> {
  const snapshots = new Map<string, Set<number>[]>(ENVS.map((e) => [e, []]));
  const starts: { env: string; idx: number; fp: number; order: number }[] = [];
  const flowsOf = new Map<number, Set<number>>();
  commands.forEach((c, order) => {
    if (c.kind === 'report') {
      if (!flowsOf.has(c.fp)) flowsOf.set(c.fp, new Set());
      flowsOf.get(c.fp)!.add(c.flow);
      return;
    }
    const env = ENVS[c.env]!;
    const list = snapshots.get(env)!;
    const previous = list.at(-1) ?? new Set<number>();
    const next = new Set(c.running);
    // An unchanged state makes no snapshot, and neither does an empty first one (environments.ts).
    if (previous.size === next.size && [...next].every((f) => previous.has(f))) return;
    list.push(next);
    for (const f of next) if (!previous.has(f)) starts.push({ env, idx: list.length, fp: f, order });
  });
  const best = new Map<string, { env: string; idx: number; order: number }>();
  for (const s of starts) {
    for (const flow of flowsOf.get(s.fp) ?? []) {
      const name = FLOWS[flow]!;
      const b = best.get(name);
      if (!b || s.order > b.order || (s.order === b.order && s.env < b.env)) best.set(name, s);
    }
  }
  return new Map([...best].map(([name, s]) => [name, [s.env, s.idx]]));
}

describe.each(engines())('each flow\'s last deployment, kept as records arrive, on $name', (engine) => {
  let opened: { store: SqlStore; cleanup(): Promise<void> };
  beforeAll(async () => {
    opened = await engine.open();
  });
  afterAll(async () => opened.cleanup());

  let run = 0;
  async function fresh(): Promise<{ services: ServiceBundle; org: OrgRecord }> {
    const services = createServices(opened.store, testSigner(), { clock: new SteppingClock() });
    const org = (await services.auth.ensureOrg(`org-${run++}`)).org;
    for (const flow of FLOWS) {
      await services.flows.create(org, { name: flow });
      await services.trails.begin(org, { flow, name: 't1' });
    }
    for (const env of ENVS) await services.environments.create(org, { name: env, type: 'k8s' });
    return { services, org };
  }

  it('matches a from-scratch reading of every snapshot, in any order of reports and snapshots', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { maxLength: 14 }), async (commands) => {
        const { services, org } = await fresh();
        for (const c of commands) {
          if (c.kind === 'report') {
            await services.artifacts.report(org, { flow: FLOWS[c.flow]!, trail: 't1', name: `svc-${c.fp}`, fingerprint: fp(c.fp) });
          } else {
            await services.environments.report(org, ENVS[c.env]!, c.running.map((f) => ({ name: `svc-${f}`, fingerprint: fp(f), instances: 1 })));
          }
        }
        const page = await services.flows.overview(org, {});
        const got = new Map(page.items.filter((s) => s.lastDeployment).map((s) => [s.flow.name, [s.lastDeployment!.environment, s.lastDeployment!.snapshot]]));
        expect(got).toEqual(expected(commands));
      }),
      { numRuns: 25 },
    );
  });

  it('is filled by its migration from what was recorded before it existed', async () => {
    const { services, org } = await fresh();
    await services.artifacts.report(org, { flow: 'alpha', trail: 't1', name: 'svc', fingerprint: fp(1) });
    await services.environments.report(org, 'env-a', [{ name: 'svc', fingerprint: fp(1), instances: 1 }]);
    await services.environments.report(org, 'env-b', [{ name: 'svc', fingerprint: fp(1), instances: 1 }]);
    const before = await services.flows.overview(org, {});
    // Rebuild the aggregate the way the migration does, and read again.
    await sql`DELETE FROM flow_deployments WHERE org_id = ${org.id}`.execute(opened.store.db);
    const { flowDeploymentsBackfill } = await import('../../src/store/flow-deployments.js');
    await flowDeploymentsBackfill(opened.store.db as never, org.id);
    const after = await services.flows.overview(org, {});
    expect(after.items.map((s) => s.lastDeployment)).toEqual(before.items.map((s) => s.lastDeployment));
    expect(before.items[0]!.lastDeployment).toMatchObject({ environment: 'env-b', snapshot: 1 });
  });
});
