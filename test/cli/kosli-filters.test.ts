import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPullRequests, fromAzure, fromBitbucket } from '../../src/cli/pr-providers.js';
import { repoMatcher, repositoryOf } from '../../src/cli/repo-filter.js';
import { inRange, parseBound, parseUnixSeconds, readEvents } from '../../src/cli/commands/log-environment.js';
import type { Ctx } from '../../src/cli/context.js';
import { cell, trailMarkdown } from '../../src/cli/commands/trail-markdown.js';

// The pieces behind Kosli's remaining flags: Bitbucket and Azure DevOps pull requests (recorded answers on a
// loopback server), --repo (the repository a commit URL names), log environment's range, and get trail's Markdown.

const SHA = '16d9990ad23a40eecaf087abac2a58a2d2a4b3f4';
const fixture = (f: string) => JSON.parse(fs.readFileSync(path.resolve('test/fixtures/pr', f), 'utf8')) as unknown;

describe('Bitbucket and Azure DevOps pull requests', () => {
  let url: string;
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
    const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.url?.startsWith(`/2.0/repositories/ws/repo/commit/${SHA}/pullrequests`)) {
      // Two pages: the first links to the second on the same API; a third page elsewhere must not be followed.
      if (req.url.includes('page=2')) return json(200, { values: [], next: 'https://elsewhere.example/steal' });
      const page = fixture('bitbucket-commit-pullrequests.json') as Record<string, unknown>;
      return json(200, { ...page, next: `${url}/2.0/repositories/ws/repo/commit/${SHA}/pullrequests?page=2` });
    }
    if (req.url?.startsWith('/2.0/repositories/ws/denied/')) return json(403, {});
    if (req.method === 'POST' && req.url === '/org/proj/_apis/git/repositories/repo/pullrequestquery?api-version=7.1') return json(200, fixture('azure-pullrequestquery.json'));
    json(404, {});
  });
  beforeAll(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => {
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    resolve();
  })));
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('Bitbucket: the recorded answer becomes pull requests; pages on the same API are followed, others not', async () => {
    const prs = await findPullRequests({ provider: 'bitbucket', repository: 'ws/repo', commit: SHA, token: 'Bearer t', baseUrl: `${url}/2.0` });
    expect(prs).toEqual([{ url: 'https://bitbucket.org/cyber-dojo/runner/pull-requests/163', number: 163, title: 'Fix replica count for aws-prod', state: 'merged', author: 'JonJagger', merged_at: '2022-08-22T09:34:40.102933+00:00' }]);
    expect(seen.filter((s) => s.includes('pullrequests')).length).toBe(2);
    expect(seen.every((s) => s.endsWith('Bearer t'))).toBe(true);
  });

  it('Azure DevOps: pullrequestquery by commit; the web URL of each pull request; completed = merged', async () => {
    const prs = await findPullRequests({ provider: 'azure', repository: 'proj/repo', commit: SHA, token: 'Basic x', baseUrl: `${url}/org` });
    expect(prs).toEqual([{ url: `${url}/org/proj/_git/repo/pullrequest/163`, number: 163, title: 'Fix replica count for aws-prod', state: 'merged', author: 'jon@cyber-dojo.org', merged_at: '2022-08-22T09:34:39.1029330Z' }]);
    expect(fromAzure(fixture('azure-pullrequestquery.json'), 'other', 'w')).toEqual([]);
  });

  it('refuses a bad repository, a refused token and a body of the wrong shape, clearly', async () => {
    await expect(findPullRequests({ provider: 'bitbucket', repository: 'repo', commit: SHA, baseUrl: url })).rejects.toThrow(/WORKSPACE\/REPO/);
    await expect(findPullRequests({ provider: 'azure', repository: 'a/b/c', commit: SHA, baseUrl: url })).rejects.toThrow(/PROJECT\/REPO/);
    await expect(findPullRequests({ provider: 'bitbucket', repository: 'ws/denied', commit: SHA, baseUrl: `${url}/2.0` })).rejects.toThrow(/refused the token \(403\)/);
    expect(() => fromBitbucket({ values: 'x' })).toThrow(/expected a JSON array/);
    expect(() => fromAzure({}, SHA, 'w')).toThrow(/expected a JSON array/);
  });
});

describe('--repo: the repository a commit URL names', () => {
  it.each([
    ['https://github.com/YourOrg/YourProject/commit/16d9990ad23a40eecaf087abac2a58a2d2a4b3f4', 'YourOrg/YourProject'],
    ['https://gitlab.com/group/sub/project/-/commit/16d9990a', 'group/sub/project'],
    ['https://bitbucket.org/ws/repo/commits/16d9990a', 'ws/repo'],
    ['https://dev.azure.com/org/proj/_git/repo/commit/16d9990a', 'proj/repo'],
    ['https://github.com/YourOrg/YourProject/pull/3', null],
    ['not a url', null],
    [null, null],
  ])('%s → %s', (url, repo) => expect(repositoryOf(url)).toBe(repo));

  it('matches without case, takes a,b and full URLs, and refuses what is not OWNER/REPO', () => {
    const m = repoMatcher(['yourorg/yourproject,other/x', 'https://github.com/a/b.git'])!;
    expect(m('https://github.com/YourOrg/YourProject/commit/16d9990a')).toBe(true);
    expect(m('https://github.com/a/b/commit/16d9990a')).toBe(true);
    expect(m('https://github.com/YourOrg/Other/commit/16d9990a')).toBe(false);
    expect(m(null)).toBe(false);
    expect(repoMatcher(undefined)).toBeUndefined();
    expect(() => repoMatcher(['no spaces allowed'])).toThrow(/OWNER\/REPO/);
  });
});

describe('log environment --start/--end/--start-ts/--end-ts', () => {
  const now = Date.parse('2026-12-06T12:00:00Z');
  const ev = (snapshot: number, at: string) => ({ snapshot, timestamp: at, type: 'started', name: 'a', fingerprint: 'f'.repeat(64), instances: 1 });
  const events = [ev(1, '2026-12-06T09:00:00Z'), ev(2, '2026-12-06T11:30:00Z'), ev(3, '2026-12-06T11:59:00Z')];

  it('reads snapshot numbers, ~N, NOW, times ago, ISO times and Unix seconds', () => {
    expect(parseBound('--start', '5', 9, now)).toEqual({ snapshot: 5 });
    expect(parseBound('--start', '~2', 9, now)).toEqual({ snapshot: 7 });
    expect(parseBound('--end', 'NOW', 9, now)).toEqual({ snapshot: 9 });
    expect(parseBound('--start', '1hour', 9, now)).toEqual({ time: now - 3600e3 });
    expect(parseBound('--start', '2days', 9, now)).toEqual({ time: now - 2 * 86400e3 });
    expect(parseBound('--start', '30m', 9, now)).toEqual({ time: now - 1800e3 });
    expect(parseBound('--start', '2026-12-01T00:00:00Z', 9, now)).toEqual({ time: Date.parse('2026-12-01T00:00:00Z') });
    expect(parseUnixSeconds('--start-ts', '1700000000')).toEqual({ time: 1700000000e3 });
  });

  it('keeps the events between the bounds, both included', () => {
    expect(inRange(events, { start: '2' }, now).map((e) => e.snapshot)).toEqual([2, 3]);
    expect(inRange(events, { start: '1hour', end: 'NOW' }, now).map((e) => e.snapshot)).toEqual([2, 3]);
    expect(inRange(events, { end: '~1' }, now).map((e) => e.snapshot)).toEqual([1, 2]);
    expect(inRange(events, { startTs: String(Date.parse('2026-12-06T11:00:00Z') / 1000), endTs: String(Date.parse('2026-12-06T11:45:00Z') / 1000) }, now).map((e) => e.snapshot)).toEqual([2]);
  });

  it('refuses what it cannot read, and two forms of one bound', () => {
    for (const bad of ['yesterday', '1fortnight', '', '-3', '12:00']) expect(() => parseBound('--start', bad, 3, now)).toThrow(/--start .*give a snapshot number/);
    expect(() => parseUnixSeconds('--end-ts', 'NOW')).toThrow(/Unix seconds/);
    expect(() => inRange(events, { start: '1', startTs: '1' })).toThrow(/not both/);
  });

  it('never throws anything but its own error, whatever the text (property)', () => {
    fc.assert(fc.property(fc.string(), (s) => {
      try {
        const b = parseBound('--start', s, 10, now);
        expect('snapshot' in b ? Number.isInteger(b.snapshot) : Number.isFinite(b.time)).toBe(true);
      } catch (err) {
        expect((err as Error).message).toMatch(/^--start /);
      }
    }));
  });
});

describe('log environment reads pages of events from the newest back (issue #21)', () => {
  // A fake server of 1,200 snapshots, one event each, an hour apart, ending at `now`; pages of `limit` events.
  const now = Date.parse('2026-12-06T12:00:00Z');
  const total = 1200;
  const at = (n: number) => new Date(now - (total - n) * 3600e3).toISOString();
  const fake = () => {
    const asked: (string | undefined)[] = [];
    const limits: (number | undefined)[] = [];
    const client = {
      async environmentEvents(_env: string, q: { cursor?: string; limit?: number }) {
        asked.push(q.cursor);
        limits.push(q.limit);
        const top = q.cursor === undefined ? total : Number(q.cursor) - 1;
        const low = Math.max(1, top - q.limit! + 1);
        const items = Array.from({ length: top - low + 1 }, (_, i) => ({ snapshot: low + i, timestamp: at(low + i), type: 'started', name: 'a', fingerprint: 'f'.repeat(64), instances: 1 }));
        return { items, next_cursor: low > 1 ? String(low) : null };
      },
    };
    return { asked, limits, ctx: { client: () => client } as unknown as Ctx };
  };

  it('without bounds: the latest 5,000 events at most (here all 1,200, in three requests of 500), oldest first', async () => {
    const { asked, limits, ctx } = fake();
    const events = await readEvents(ctx, 'prod', {}, now);
    expect(events.map((e) => e.snapshot)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(asked).toEqual([undefined, '701', '201']);
    expect(limits).toEqual([500, 500, 500]);
  });

  it('stops once --start is passed, or once the newest page of --page-limit events is in hand', async () => {
    let f = fake();
    expect(inRange(await readEvents(f.ctx, 'prod', { start: '1000' }, now), { start: '1000' }, now).map((e) => e.snapshot)[0]).toBe(1000);
    expect(f.asked).toHaveLength(1);
    f = fake();
    expect(inRange(await readEvents(f.ctx, 'prod', { start: '~620' }, now), { start: '~620' }, now)).toHaveLength(621);
    expect(f.asked).toHaveLength(2);
    f = fake();
    expect(inRange(await readEvents(f.ctx, 'prod', { start: '1100hours' }, now), { start: '1100hours' }, now)).toHaveLength(1101);
    expect(f.asked).toHaveLength(3);
    // Kosli's pages: the newest page*page-limit events, asked for as such.
    f = fake();
    await readEvents(f.ctx, 'prod', { pageLimit: 30, page: 5 }, now);
    expect([f.asked, f.limits]).toEqual([[undefined], [150]]);
    f = fake();
    await readEvents(f.ctx, 'prod', { pageLimit: 300, page: 3 }, now);
    expect([f.asked, f.limits]).toEqual([[undefined, '701'], [500, 500]]);
  });
});

describe('get trail --output markdown', () => {
  it('escapes what would break a table or start HTML', () => {
    expect(cell('a|b\nc<script>')).toBe('a\\|b c&lt;script&gt;');
    expect(cell(null)).toBe('-');
  });

  it('a heading with the state, the facts, one row per attestation', () => {
    const t = {
      name: 't1', flow: 'f', description: 'x | y', git_commit: SHA, commit_url: null, origin_url: null, user_data: null, template: null,
      created_at: '2026-12-06T12:00:00Z', entry_index: 4, artifacts: [], attestations: [],
      compliance: { state: 'NON-COMPLIANT' as const, attestations: [{ attestation_name: 'unit', attestation_type: 'junit', status: 'COMPLETE' as const, is_compliant: false, unexpected: false, attestation_id: '7' }], unexpected: [], artifacts: [] },
    };
    const md = trailMarkdown(t);
    expect(md).toMatch(/^## ❌ Trail t1 of flow f: NON-COMPLIANT\n/);
    expect(md).toContain('| Description | x \\| y |');
    expect(md).toContain('| trail | unit | junit | COMPLETE | no | yes |');
  });
});
