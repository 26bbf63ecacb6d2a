import { commitOf, fingerprintOf } from './ids.js';

// cyber-dojo's services (seed 002 lists them with these descriptions) and the commits each one builds over the
// demo's six weeks. Day 0 is the first day of the story (the services have just moved from GKE to ECS);
// day 41 is yesterday.

export interface DemoFlow {
  name: string;
  description: string;
  tags: Record<string, string>;
  /** Flows that carry a flow template (Kosli's format): a pull request on the trail, tests and a scan on the image. */
  template: boolean;
  /** Tasks per service (ECS desired count) in aws-beta and aws-prod. */
  instances: number;
}

export const DEMO_FLOWS: readonly DemoFlow[] = [
  { name: 'creator', description: 'UX for Group/Kata creation', tags: { team: 'ux', tier: '1' }, template: false, instances: 1 },
  { name: 'custom-start-points', description: 'Custom exercises choices', tags: { team: 'content', tier: '3' }, template: false, instances: 1 },
  { name: 'dashboard', description: 'UX for a group practice dashboard', tags: { team: 'ux', tier: '2' }, template: false, instances: 1 },
  { name: 'differ', description: 'Diff files from two traffic-lights', tags: { team: 'core', tier: '2' }, template: true, instances: 1 },
  { name: 'exercises-start-points', description: 'Exercises choices', tags: { team: 'content', tier: '3' }, template: false, instances: 1 },
  { name: 'languages-start-points', description: 'Language+TestFramework choices', tags: { team: 'content', tier: '3' }, template: false, instances: 1 },
  { name: 'nginx', description: 'Reverse proxy', tags: { team: 'platform', tier: '1' }, template: false, instances: 2 },
  { name: 'repler', description: 'REPL for Python images', tags: { team: 'core', tier: '3' }, template: false, instances: 1 },
  // Seed 002: runner should run 3 replicas but ran 1 after the migration, until commit 16d9990.
  { name: 'runner', description: 'Test runner', tags: { team: 'core', tier: '1' }, template: true, instances: 1 },
  { name: 'saver', description: 'Group/Kata model+persistence', tags: { team: 'core', tier: '1' }, template: true, instances: 2 },
  { name: 'version-reporter', description: 'UX for git+image version-reporter', tags: { team: 'platform', tier: '3' }, template: false, instances: 1 },
  { name: 'web', description: 'UX for practicing TDD', tags: { team: 'ux', tier: '1' }, template: true, instances: 2 },
];

/** The flow every release from aws-beta to aws-prod records its evidence in (seed 001). */
export const RELEASE_FLOW = 'production-promotion';
export const RELEASE_FLOW_DESCRIPTION = 'Releases from aws-beta to aws-prod: the plan, each promotion, the approval';

export interface DemoVersion {
  flow: string;
  /** The flow's commit number: 0 is the version running when the story starts. */
  n: number;
  commit: string;
  fingerprint: string;
  day: number;
  hour: number;
  /** What went differently in this build. */
  twist?: 'tests-fail' | 'no-scan' | 'scaling-fix';
  /** Pull request title and commit subject. */
  title: string;
}

// The seeds' own commits and image digests, so their commands give their answers here too.
const SEEDED: Record<string, { commit: string; fingerprint: string }> = {
  'runner#0': { commit: '85d83c6' + commitOf('runner', 0).slice(7), fingerprint: 'eeb0cfc9ee7f69fbd9531d5b8c1e8d22a8de119e2a422344a714a868e9a8bfec' },
  'runner#1': { commit: '16d9990ad23a40eecaf087abac2a58a2d2a4b3f4', fingerprint: '9af401c4350b21e3f1df17d6ad808da43d9646e75b6da902cc7c492bcfb9c625' },
  'saver#5': { commit: '65827d7aa09d9d40eca4210dfeef4d162cf32c1f', fingerprint: 'cd8e30cf2027bce856d2b65c827afcbc0370f6e1a56c80514d4af2719df5c12f' },
  'saver#6': { commit: '6e191a0a86cf3d264955c4910bc3b9df518c4bcd', fingerprint: 'b3237b0e615e7041c23433faeee0bacd6ec893e89ae8899536433e4d27a5b6ef' },
};

const TITLES = [
  'Upgrade base image', 'Refactor request handling', 'Add missing test for edge case', 'Tidy up logging', 'Bump gems',
  'Speed up start-up', 'Improve error messages', 'Remove dead code', 'Cache lookups', 'Fix flaky test',
];

type Plan = [day: number, hour: number, twist?: DemoVersion['twist'], title?: string][];

/** Each flow's builds after day 0, in order (day 0 builds every flow's commit 0). */
const PLANS: Record<string, Plan> = {
  creator: [[7, 11], [22, 10], [36, 14]],
  'custom-start-points': [[15, 9]],
  dashboard: [[14, 13], [28, 10, undefined, 'Show traffic-lights per avatar']],
  differ: [[8, 10], [17, 15], [29, 11], [41, 10, undefined, 'Diff renamed files as renames']],
  'exercises-start-points': [[24, 12]],
  'languages-start-points': [[3, 10], [12, 9, 'tests-fail', 'Add Kotlin 2.0 test framework'], [12, 13, undefined, 'Add Kotlin 2.0 test framework (fix image tag)'], [21, 14], [37, 11]],
  nginx: [[10, 14], [31, 9]],
  repler: [[25, 15]],
  runner: [[20, 10, 'scaling-fix', 'Fix replica count for aws-prod'], [33, 11, undefined, 'Faster container start']],
  saver: [[4, 10], [11, 14], [18, 9], [26, 13], [35, 16, 'no-scan', 'Hotfix: kata saves lost on concurrent writes'], [41, 11, undefined, 'Batch writes to S3']],
  'version-reporter': [[19, 12], [39, 10]],
  web: [[2, 11], [5, 14], [9, 10], [12, 15], [16, 11], [19, 14], [23, 10], [27, 11], [30, 14], [34, 10], [38, 15]],
};

/** Every build of the story, oldest first. */
export function demoVersions(): DemoVersion[] {
  const out: DemoVersion[] = [];
  DEMO_FLOWS.forEach((flow, i) => {
    const plan: Plan = [[0, 8 + (i % 6) * 0.5, undefined, 'Deploy to ECS'], ...PLANS[flow.name]!];
    plan.forEach(([day, hour, twist, title], n) => {
      const seeded = SEEDED[`${flow.name}#${n}`];
      const commit = seeded?.commit ?? commitOf(flow.name, n);
      out.push({
        flow: flow.name, n, commit, fingerprint: seeded?.fingerprint ?? fingerprintOf(flow.name, commit), day, hour, twist,
        title: title ?? TITLES[(n * 7 + i) % TITLES.length]!,
      });
    });
  });
  return out.sort((a, b) => a.day - b.day || a.hour - b.hour || (a.flow < b.flow ? -1 : 1));
}

/** Days (and hour) of the regular releases from aws-beta to aws-prod; day 35 also has an emergency one. */
export const RELEASE_DAYS: readonly [number, number][] = [
  [0, 16], [3, 15], [5, 16], [8, 15], [10, 16], [13, 15], [15, 16], [17, 16], [20, 15], [22, 15], [24, 16],
  [27, 15], [29, 16], [31, 15], [34, 15], [36, 16], [39, 15],
];
export const HOTFIX_RELEASE: [number, number] = [35, 17];

export const APPROVERS = ['JonJagger', 'sami-alajrami', 'mbevc1', 'ToreMerkely'];
