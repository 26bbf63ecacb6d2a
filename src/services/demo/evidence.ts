import type { DemoVersion } from './catalogue.js';

// Real evidence files, as the pipelines would upload them: the server parses the JUnit XML and the SARIF
// itself, so the attestations' results come from these bytes.

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const SUITES: Record<string, string[]> = {
  runner: ['run_cyber_dojo_sh', 'container_properties', 'timeouts', 'image_pulling'],
  saver: ['kata_create', 'kata_ran_tests', 'group_join', 'concurrent_writes'],
  web: ['kata_controller', 'review_controller', 'setup_default_start_point', 'traffic_lights'],
  differ: ['diff_added_lines', 'diff_deleted_files', 'diff_renamed_files'],
};
const DEFAULT_SUITES = ['api', 'sha', 'healthy', 'ready'];

/** A JUnit report (minitest's reporter, as cyber-dojo's Ruby services write it); `failing` fails one test. */
export function junitXml(v: DemoVersion, stamp: string, random: () => number, failing: boolean): string {
  const suites = SUITES[v.flow] ?? DEFAULT_SUITES;
  let total = 0;
  let failures = 0;
  const body = suites.map((suite, s) => {
    const count = 3 + Math.floor(random() * 6);
    const cases = Array.from({ length: count }, (_, k) => {
      const time = (0.002 + random() * 0.4).toFixed(3);
      const broken = failing && s === 0 && k === 1;
      if (broken) failures++;
      const failure = broken
        ? `\n      <failure type="Minitest::Assertion" message="Expected: &quot;kotlin-2.0&quot;\n  Actual: &quot;kotlin-1.9&quot;">test/${suite}_test.rb:${20 + k}</failure>\n    `
        : '';
      return `    <testcase name="test_${suite}_${k + 1}" classname="${escapeXml(suite)}" time="${time}" file="test/${suite}_test.rb">${failure}</testcase>`;
    });
    total += count;
    return `  <testsuite name="${escapeXml(suite)}" tests="${count}" failures="${failing && s === 0 ? 1 : 0}" errors="0" skipped="0" timestamp="${stamp}" time="1.0">\n${cases.join('\n')}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="${v.flow} ${v.commit.slice(0, 7)}" tests="${total}" failures="${failures}" errors="0">\n${body.join('\n')}\n</testsuites>\n`;
}

export type ScanOutcome = 'clean' | 'low' | 'critical';

/** A Snyk container scan as SARIF 2.1.0 (`snyk container test --sarif`): warnings pass, an error fails. */
export function snykSarif(v: DemoVersion, outcome: ScanOutcome): string {
  const image = `${v.flow}:${v.commit.slice(0, 7)}`;
  const rules: unknown[] = [];
  const results: unknown[] = [];
  if (outcome !== 'clean') {
    rules.push({
      id: 'SNYK-ALPINE320-BUSYBOX-6913411', shortDescription: { text: 'Low severity - Out-of-bounds Write vulnerability in busybox' },
      properties: { 'security-severity': '3.3', tags: ['security', 'CWE-787'] },
    });
    results.push({
      ruleId: 'SNYK-ALPINE320-BUSYBOX-6913411', level: 'note',
      message: { text: 'This file introduces a vulnerable busybox package with a low severity vulnerability.' },
      locations: [{ physicalLocation: { artifactLocation: { uri: 'Dockerfile' }, region: { startLine: 1 } } }],
    });
  }
  if (outcome === 'critical') {
    rules.push({
      id: 'SNYK-ALPINE320-OPENSSL-8235201', shortDescription: { text: 'Critical severity - Improper Certificate Validation in openssl' },
      properties: { 'security-severity': '9.8', tags: ['security', 'CWE-295'] },
    });
    results.push({
      ruleId: 'SNYK-ALPINE320-OPENSSL-8235201', level: 'error',
      message: { text: 'This file introduces a vulnerable openssl package (libssl3@3.3.2-r0) with a critical severity vulnerability; fixed in 3.3.3-r0.' },
      locations: [{ physicalLocation: { artifactLocation: { uri: 'Dockerfile' }, region: { startLine: 1 } } }],
    });
  }
  return JSON.stringify({
    $schema: 'https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: { driver: { name: 'Snyk Container', informationUri: 'https://docs.snyk.io/', properties: { image }, rules } },
      results,
    }],
  }, null, 2);
}

/** The pull request that merged the commit, as GitHub's `GET /repos/{owner}/{repo}/commits/{sha}/pulls` returns it. */
export function pullRequestJson(v: DemoVersion, number: number, author: string, mergedAt: string): string {
  return JSON.stringify([{
    url: `https://api.github.com/repos/cyber-dojo/${v.flow}/pulls/${number}`,
    html_url: `https://github.com/cyber-dojo/${v.flow}/pull/${number}`,
    number, state: 'closed', title: v.title, user: { login: author, type: 'User' },
    merged_at: mergedAt, merge_commit_sha: v.commit, base: { ref: 'main' },
  }], null, 2);
}

/** Who approved the release run in GitHub's `production` environment (`GET .../actions/runs/{id}/approvals`). */
export function approvalsJson(approver: string, runId: number, at: string): string {
  return JSON.stringify([{
    state: 'approved', comment: 'Release diff reviewed', user: { login: approver, type: 'User' },
    environments: [{ name: 'production', url: 'https://cyber-dojo.org' }], run_id: runId, submitted_at: at,
  }], null, 2);
}
