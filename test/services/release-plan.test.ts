import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareUrl, parseCommitUrl, planRelease, type PlanArtifact, type PlanSide } from '../../src/services/index.js';

const fp = (c: string) => c.repeat(64).slice(0, 64);
const OLD = '65827d7aa09d9d40eca4210dfeef4d162cf32c1f';
const NEW = '6e191a0a86cf3d264955c4910bc3b9df518c4bcd';

function art(fingerprint: string, flow: string | null, sha: string | null = null, repo = 'https://github.com/cyber-dojo/saver', since = '2026-01-01T00:00:00.000Z'): PlanArtifact {
  return { name: `${flow ?? 'x'}:${sha?.slice(0, 7) ?? '?'}`, fingerprint, flow, git_commit: sha, commit_url: sha ? `${repo}/commit/${sha}` : null, running_since: since };
}
const side = (environment: string, ...artifacts: PlanArtifact[]): PlanSide => ({ environment, artifacts });

describe('planRelease (seed 001)', () => {
  it('plans each flow with a new version in FROM: incoming, the outgoing it replaces, and the compare URL', () => {
    const plan = planRelease(side('aws-beta', art(fp('b'), 'saver-ci', NEW)), side('aws-prod', art(fp('c'), 'saver-ci', OLD)));
    expect(plan.items).toEqual([{
      incoming_name: 'saver-ci:6e191a0', incoming_fingerprint: fp('b'), incoming_flow: 'saver-ci',
      incoming_commit_url: `https://github.com/cyber-dojo/saver/commit/${NEW}`, incoming_repo_name: 'saver', incoming_commit_sha: NEW,
      outgoing_name: 'saver-ci:65827d7', outgoing_fingerprint: fp('c'), outgoing_flow: 'saver-ci',
      outgoing_commit_url: `https://github.com/cyber-dojo/saver/commit/${OLD}`, outgoing_repo_name: 'saver', outgoing_commit_sha: OLD,
      deployment_diff_url: `https://github.com/cyber-dojo/saver/compare/${OLD}...${NEW}`,
    }]);
    expect(plan).toMatchObject({ unchanged: [], in_progress: [], unmatched: [] });
  });

  it('lists flows running the same artifact in both as unchanged, not as items', () => {
    const plan = planRelease(
      side('aws-beta', art(fp('1'), 'web', OLD), art(fp('2'), 'saver-ci', NEW)),
      side('aws-prod', art(fp('1'), 'web', OLD), art(fp('3'), 'saver-ci', OLD)),
    );
    expect(plan.items.map((i) => i.incoming_flow)).toEqual(['saver-ci']);
    expect(plan.unchanged).toEqual([{ flow: 'web', name: 'web:65827d7', fingerprint: fp('1'), git_commit: OLD }]);
  });

  it('plans a first deployment with every outgoing field null, and leaves flows only in TO alone', () => {
    const plan = planRelease(side('beta', art(fp('a'), 'new-service', NEW)), side('prod', art(fp('d'), 'retired', OLD)));
    expect(plan.items).toHaveLength(1);
    const [item] = plan.items;
    for (const key of ['name', 'fingerprint', 'flow', 'commit_url', 'repo_name', 'commit_sha']) expect(item![`outgoing_${key}` as keyof typeof item]).toBeNull();
    expect(item).toMatchObject({ incoming_flow: 'new-service', deployment_diff_url: null });
    expect(plan.unchanged).toEqual([]);
  });

  it('reports artifacts no flow reported, in either environment, and never matches them', () => {
    const plan = planRelease(
      side('beta', art(fp('a'), null), art(fp('b'), 'runner', NEW)),
      side('prod', art(fp('c'), null), art(fp('b'), 'runner', NEW)),
    );
    expect(plan.items).toEqual([]);
    expect(plan.unmatched).toEqual([
      { environment: 'beta', name: 'x:?', fingerprint: fp('a') },
      { environment: 'prod', name: 'x:?', fingerprint: fp('c') },
    ]);
  });

  it('detects a deployment in progress in FROM and in TO, and plans neither flow unless allowed', () => {
    const from = side('beta', art(fp('1'), 'differ', OLD), art(fp('2'), 'differ', NEW), art(fp('5'), 'saver', NEW));
    const to = side('prod', art(fp('3'), 'saver', OLD), art(fp('4'), 'saver', OLD), art(fp('1'), 'differ', OLD));
    const plan = planRelease(from, to);
    expect(plan.in_progress).toEqual([
      { flow: 'differ', environment: 'beta', fingerprints: [fp('1'), fp('2')] },
      { flow: 'saver', environment: 'prod', fingerprints: [fp('3'), fp('4')] },
    ]);
    expect(plan.items).toEqual([]);
    expect(plan.unchanged).toEqual([]);
  });

  it('with allowInProgress, promotes the fingerprint FROM started last, unless TO already runs it', () => {
    const from = side('beta', art(fp('1'), 'differ', OLD, undefined, '2026-01-01T00:00:00Z'), art(fp('2'), 'differ', NEW, undefined, '2026-01-02T00:00:00Z'));
    const plan = planRelease(from, side('prod', art(fp('1'), 'differ', OLD)), { allowInProgress: true });
    expect(plan.items).toEqual([expect.objectContaining({ incoming_fingerprint: fp('2'), outgoing_fingerprint: fp('1') })]);
    expect(plan.in_progress).toHaveLength(1);
    // FROM rolling back to what TO runs already: nothing to promote (and no rollback of TO).
    const back = side('beta', art(fp('1'), 'differ', OLD, undefined, '2026-01-03T00:00:00Z'), art(fp('2'), 'differ', NEW, undefined, '2026-01-02T00:00:00Z'));
    expect(planRelease(back, side('prod', art(fp('1'), 'differ', OLD)), { allowInProgress: true }).items).toEqual([]);
    // TO in progress: the outgoing is the one TO started last.
    const to = side('prod', art(fp('3'), 'differ', OLD, undefined, '2026-01-01T00:00:00Z'), art(fp('4'), 'differ', OLD, undefined, '2026-01-05T00:00:00Z'));
    expect(planRelease(side('beta', art(fp('2'), 'differ', NEW)), to, { allowInProgress: true }).items[0]).toMatchObject({ outgoing_fingerprint: fp('4') });
  });

  it('counts a fingerprint listed twice (a logical environment) once', () => {
    const plan = planRelease(side('all-beta', art(fp('2'), 'saver', NEW), art(fp('2'), 'saver', NEW)), side('prod', art(fp('3'), 'saver', OLD)));
    expect(plan.in_progress).toEqual([]);
    expect(plan.items).toHaveLength(1);
  });
});

describe('deployment diff URLs', () => {
  const diff = (oldUrl: string, newUrl: string) => {
    const plan = planRelease(side('beta', { ...art(fp('b'), 'f'), commit_url: newUrl }), side('prod', { ...art(fp('a'), 'f'), commit_url: oldUrl }));
    return plan.items[0]!.deployment_diff_url;
  };

  it('builds GitHub, GitLab (any host with /-/commit/), Bitbucket and Azure DevOps compare URLs', () => {
    expect(diff(`https://github.com/cyber-dojo/saver/commit/${OLD}`, `https://github.com/cyber-dojo/saver/commit/${NEW}`))
      .toBe(`https://github.com/cyber-dojo/saver/compare/${OLD}...${NEW}`);
    expect(diff(`https://gitlab.com/cyber-dojo/tools/saver/-/commit/${OLD}`, `https://gitlab.com/cyber-dojo/tools/saver/-/commit/${NEW}`))
      .toBe(`https://gitlab.com/cyber-dojo/tools/saver/-/compare/${OLD}...${NEW}`);
    expect(diff(`https://git.example.org/g/saver/-/commit/${OLD}`, `https://git.example.org/g/saver/-/commit/${NEW}`))
      .toBe(`https://git.example.org/g/saver/-/compare/${OLD}...${NEW}`);
    expect(diff(`https://bitbucket.org/ws/saver/commits/${OLD}`, `https://bitbucket.org/ws/saver/commits/${NEW}`))
      .toBe(`https://bitbucket.org/ws/saver/branches/compare/${NEW}%0D${OLD}`);
    expect(diff(`https://dev.azure.com/org/proj/_git/saver/commit/${OLD}`, `https://dev.azure.com/org/proj/_git/saver/commit/${NEW}`))
      .toBe(`https://dev.azure.com/org/proj/_git/saver/branchCompare?baseVersion=GC${OLD}&targetVersion=GC${NEW}`);
  });

  it('is null for an unknown provider, different repositories, or a missing commit', () => {
    expect(diff(`https://git.example.org/o/saver/commit/${OLD}`, `https://git.example.org/o/saver/commit/${NEW}`)).toBeNull();
    expect(diff(`https://github.com/cyber-dojo/saver/commit/${OLD}`, `https://github.com/cyber-dojo/differ/commit/${NEW}`)).toBeNull();
    expect(diff(`https://gitlab.com/cyber-dojo/saver/-/commit/${OLD}`, `https://github.com/cyber-dojo/saver/commit/${NEW}`)).toBeNull();
    expect(diff(`https://github.com/cyber-dojo/saver/commit/${OLD}`, 'https://github.com/cyber-dojo/saver')).toBeNull();
    expect(diff('not a url', `https://github.com/cyber-dojo/saver/commit/${NEW}`)).toBeNull();
  });

  it('reads repository name and sha out of commit URLs, never inventing a provider or a sha', () => {
    expect(parseCommitUrl(`https://github.com/cyber-dojo/saver/commit/${NEW}`)).toEqual({ provider: 'github', url: 'https://github.com/cyber-dojo/saver', name: 'saver', sha: NEW });
    expect(parseCommitUrl(`https://git.example.org/o/runner.git/commit/${NEW}`)).toMatchObject({ provider: null, name: 'runner', sha: NEW });
    expect(parseCommitUrl('https://github.com/o/r/commit/main')).toMatchObject({ provider: 'github', sha: null });
    expect(parseCommitUrl(`https://me@dev.azure.com/org/My%20Project/_git/my%20repo/commit/${NEW}`))
      .toMatchObject({ provider: 'azure-devops', url: 'https://dev.azure.com/org/My%20Project/_git/my%20repo', name: 'my repo' });
    expect(parseCommitUrl(`ftp://github.com/o/r/commit/${NEW}`)).toBeNull();
    expect(parseCommitUrl(null)).toBeNull();
    const gh = parseCommitUrl(`https://github.com/o/r/commit/${NEW}`)!;
    expect(compareUrl(gh, 'x"onmouseover', gh, NEW)).toBeNull();
  });

  it('prefers the artifact\'s git_commit to the sha in its URL', () => {
    const plan = planRelease(
      side('beta', { ...art(fp('b'), 'f'), git_commit: NEW, commit_url: 'https://github.com/o/r/commit/main' }),
      side('prod', art(fp('a'), 'f', OLD, 'https://github.com/o/r')),
    );
    expect(plan.items[0]).toMatchObject({ incoming_commit_sha: NEW, deployment_diff_url: `https://github.com/o/r/compare/${OLD}...${NEW}` });
  });
});

describe('planRelease properties', () => {
  const hexChar = fc.constantFrom(...'0123456789abcdef'.split(''));
  const artifactArb = fc.record({
    fingerprint: fc.array(hexChar, { minLength: 2, maxLength: 2 }).map((c) => fp(c.join(''))),
    flow: fc.option(fc.constantFrom('saver', 'differ', 'web', 'runner'), { nil: null }),
    git_commit: fc.option(fc.constantFrom(OLD, NEW), { nil: null }),
    day: fc.integer({ min: 1, max: 28 }),
  }).map((a): PlanArtifact => ({
    name: 'n', fingerprint: a.fingerprint, flow: a.flow, git_commit: a.git_commit, commit_url: a.git_commit && `https://github.com/o/r/commit/${a.git_commit}`,
    running_since: `2026-02-${String(a.day).padStart(2, '0')}T00:00:00Z`,
  }));
  // The same fingerprint always belongs to the same flow, as the store's latest report makes it.
  const consistent = (list: PlanArtifact[], flowOf: Map<string, string | null>) => list.map((a) => {
    if (!flowOf.has(a.fingerprint)) flowOf.set(a.fingerprint, a.flow);
    return { ...a, flow: flowOf.get(a.fingerprint)! };
  });

  it('every incoming runs in FROM and not in TO, every outgoing runs in TO, each flow at most once, nothing busy unless allowed', () => {
    fc.assert(fc.property(fc.array(artifactArb, { maxLength: 12 }), fc.array(artifactArb, { maxLength: 12 }), fc.boolean(), (a, b, allow) => {
      const flowOf = new Map<string, string | null>();
      const from = side('from', ...consistent(a, flowOf));
      const to = side('to', ...consistent(b, flowOf));
      const plan = planRelease(from, to, { allowInProgress: allow });
      const inFrom = new Set(from.artifacts.map((x) => x.fingerprint));
      const inTo = new Set(to.artifacts.map((x) => x.fingerprint));
      const busy = new Set(plan.in_progress.map((p) => p.flow));
      const flows = plan.items.map((i) => i.incoming_flow);
      expect(new Set(flows).size).toBe(flows.length);
      for (const i of plan.items) {
        expect(inFrom.has(i.incoming_fingerprint) && !inTo.has(i.incoming_fingerprint)).toBe(true);
        if (i.outgoing_fingerprint !== null) expect(inTo.has(i.outgoing_fingerprint) && i.outgoing_flow === i.incoming_flow).toBe(true);
        if (!allow) expect(busy.has(i.incoming_flow)).toBe(false);
      }
      for (const u of plan.unchanged) expect(inFrom.has(u.fingerprint) && inTo.has(u.fingerprint) && !flows.includes(u.flow)).toBe(true);
      // Every flow of FROM with one fingerprint on each side is either promoted or unchanged.
      for (const flow of new Set(from.artifacts.map((x) => x.flow))) {
        if (flow !== null && !busy.has(flow)) expect(flows.includes(flow) !== plan.unchanged.some((u) => u.flow === flow)).toBe(true);
      }
      const unmatched = new Set(plan.unmatched.map((u) => u.fingerprint));
      for (const x of [...from.artifacts, ...to.artifacts]) expect(unmatched.has(x.fingerprint)).toBe(x.flow === null);
    }));
  });
});
