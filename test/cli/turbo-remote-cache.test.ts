import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../helpers/cli.js';
import { tempDir } from '../helpers/engines.js';

// turbo's remote cache API on a real Evident server process, driven by the real turbo binary from
// node_modules (issue #19 item 2): a first clean checkout builds and uploads; a second clean checkout
// gets every task from the server. Then the bad cases over plain HTTP.

const TURBO = path.resolve('node_modules/.bin/turbo');
const turboRuns = (() => {
  try {
    execFileSync(TURBO, ['--version'], { stdio: 'pipe', timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
})();
if (!turboRuns) console.warn(`skipping the turbo remote cache test: ${TURBO} does not run here`);

function origin(turboJson: Record<string, unknown> = {}): string {
  const dir = tempDir('evident-turbo-origin-');
  const files: Record<string, string> = {
    'package.json': JSON.stringify({ name: 'turbo-demo', version: '1.0.0', private: true, packageManager: 'npm@10.0.0', workspaces: [], scripts: { build: 'mkdir -p dist && cat src/a.txt src/b.txt > dist/out.txt && echo built', test: 'test -s dist/out.txt && echo tested > test.log' } }),
    'package-lock.json': JSON.stringify({ name: 'turbo-demo', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': { name: 'turbo-demo', version: '1.0.0' } } }),
    'turbo.json': JSON.stringify({ tasks: { build: { outputs: ['dist/**'] }, test: { dependsOn: ['build'], outputs: ['test.log'] } }, ...turboJson }),
    '.gitignore': 'dist\n.turbo\nnode_modules\ntest.log\n',
    'src/a.txt': 'alpha\n',
    'src/b.txt': 'beta\n',
  };
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'pipe' });
  git('init', '-q', '.');
  git('add', '-A');
  git('-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'init');
  return dir;
}

function turbo(cwd: string, args: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(TURBO, ['run', ...args], { cwd, env: { PATH: process.env.PATH ?? '', HOME: cwd, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1', TURBO_NO_UPDATE_NOTIFIER: '1', ...env }, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr });
    });
  });
}

describe.skipIf(!turboRuns)('turbo with its remote cache at an Evident server', () => {
  let server: ServerProcess;
  let member: string;
  let reader: string;
  beforeAll(async () => {
    server = await startServerProcess(['--data-dir', tempDir()]);
    const token = async (role: string) => {
      const res = await fetch(`${server.url}/api/v1/orgs/default/tokens`, { method: 'POST', headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: role, role }) });
      expect(res.status).toBe(201);
      return ((await res.json()) as { secret: string }).secret;
    };
    member = await token('member');
    reader = await token('reader');
  }, 60_000);
  afterAll(async () => server?.stop());

  it('a second clean checkout gets every task from the server', async () => {
    const repo = origin();
    const clone = (name: string) => {
      const dir = path.join(tempDir('evident-turbo-'), name);
      execFileSync('git', ['clone', '-q', repo, dir], { stdio: 'pipe' });
      return dir;
    };
    const args = ['test', `--api=${server.url}`, `--token=${member}`, '--team=default'];
    const first = await turbo(clone('a'), args, {});
    expect(first.code, first.out).toBe(0);
    expect(first.out).toContain('Cached:    0 cached, 2 total');
    expect(first.out).not.toContain('failed to contact remote cache');
    const b = clone('b');
    const second = await turbo(b, args, {});
    expect(second.code, second.out).toBe(0);
    expect(second.out).toContain('Cached:    2 cached, 2 total');
    expect(second.out).toContain('FULL TURBO');
    expect(fs.readFileSync(path.join(b, 'dist/out.txt'), 'utf8')).toBe('alpha\nbeta\n');
    expect(fs.readFileSync(path.join(b, 'test.log'), 'utf8')).toBe('tested\n');
    // A reader token may use the cache but not fill it: turbo warns and goes on.
    const c = clone('c');
    fs.appendFileSync(path.join(c, 'src/a.txt'), 'changed\n');
    const asReader = await turbo(c, ['test', `--api=${server.url}`, `--token=${reader}`, '--team=default'], {});
    expect(asReader.code, asReader.out).toBe(0);
    expect(asReader.out).toContain('role reader may not write');
  }, 240_000);

  it('with signing on: full hits for the same key; turbo refuses another key and a tampered tag', async () => {
    const repo = origin({ remoteCache: { signature: true } });
    const clone = (name: string) => {
      const dir = path.join(tempDir('evident-turbo-signed-'), name);
      execFileSync('git', ['clone', '-q', repo, dir], { stdio: 'pipe' });
      return dir;
    };
    const args = ['test', `--api=${server.url}`, `--token=${member}`, '--team=default'];
    // turbo 2.11 warns below 32 bytes of key.
    const KEY = { TURBO_REMOTE_CACHE_SIGNATURE_KEY: 'the team secret, shared by turbo users only' };
    const first = await turbo(clone('a'), args, KEY);
    expect(first.code, first.out).toBe(0);
    expect(first.out).toContain('Cached:    0 cached, 2 total');
    expect(first.out).not.toMatch(/too short|failed to contact remote cache|error/i);
    // Both uploads were logged with the tag turbo sent.
    const log = (await (await fetch(`${server.url}/api/v1/orgs/default/log/entries?limit=1000`, { headers: { authorization: `Bearer ${reader}` } })).json()) as { items: { entry: string }[] };
    const tagged = log.items.map((i) => JSON.parse(i.entry) as Record<string, unknown>).filter((e) => e.type === 'turbo.artifact' && typeof e.tag === 'string');
    expect(tagged).toHaveLength(2);
    for (const e of tagged) expect(e.tag).toMatch(/^[A-Za-z0-9+/]{43}=$/);

    const b = clone('b');
    const second = await turbo(b, args, KEY);
    expect(second.code, second.out).toBe(0);
    expect(second.out).toContain('Cached:    2 cached, 2 total');
    expect(second.out).toContain('FULL TURBO');
    expect(fs.readFileSync(path.join(b, 'dist/out.txt'), 'utf8')).toBe('alpha\nbeta\n');

    // Another key: turbo refuses the artifacts (their tags do not verify) and builds itself.
    const c = clone('c');
    const otherKey = await turbo(c, args, { TURBO_REMOTE_CACHE_SIGNATURE_KEY: 'a different secret, not the one the uploads used' });
    expect(otherKey.code, otherKey.out).toBe(0);
    expect(otherKey.out).toContain('Cached:    0 cached, 2 total');
    expect(fs.readFileSync(path.join(c, 'dist/out.txt'), 'utf8')).toBe('alpha\nbeta\n');

    // A writer without the key uploads genuine bytes of new task hashes under a forged tag, before turbo
    // does: the server keeps them (it cannot check tags), turbo with the key refuses them.
    const changed = (name: string) => {
      const dir = clone(name);
      fs.writeFileSync(path.join(dir, 'src/b.txt'), 'gamma\n');
      return dir;
    };
    const d = changed('d');
    const local = await turbo(d, ['test', '--cache=local:rw'], KEY);
    expect(local.code, local.out).toBe(0);
    const cacheDir = path.join(d, '.turbo/cache');
    const archives = fs.readdirSync(cacheDir).filter((f) => /^[0-9a-f]+\.tar\.zst$/.test(f));
    expect(archives).toHaveLength(2);
    for (const file of archives) {
      const hash = file.replace(/\.tar\.zst$/, '');
      const forged = Buffer.alloc(32, 7).toString('base64');
      const res = await fetch(`${server.url}/v8/artifacts/${hash}?slug=default`, {
        method: 'PUT', headers: { authorization: `Bearer ${member}`, 'content-type': 'application/octet-stream', 'x-artifact-tag': forged }, body: fs.readFileSync(path.join(cacheDir, file)),
      });
      expect(res.status).toBe(202);
    }
    const e = changed('e');
    const refused = await turbo(e, args, KEY);
    expect(refused.code, refused.out).toBe(0);
    expect(refused.out).toContain('Cached:    0 cached, 2 total');
    expect(fs.readFileSync(path.join(e, 'dist/out.txt'), 'utf8')).toBe('alpha\ngamma\n');
    // What turbo refused was the tag: the server served the genuine bytes, with the forged tag it was given.
    const [file] = archives;
    const served = await fetch(`${server.url}/v8/artifacts/${file!.replace(/\.tar\.zst$/, '')}?slug=default`, { headers: { authorization: `Bearer ${reader}` } });
    expect(served.headers.get('x-artifact-tag')).toBe(Buffer.alloc(32, 7).toString('base64'));
    expect(Buffer.from(await served.arrayBuffer())).toEqual(fs.readFileSync(path.join(cacheDir, file!)));
  }, 300_000);

  it('refuses what it cannot check, the wrong team or role, and bad input', async () => {
    const url = (p: string, q = 'slug=default') => `${server.url}/v8/artifacts${p}${q ? `?${q}` : ''}`;
    const as = (token: string, extra: Record<string, string> = {}) => ({ authorization: `Bearer ${token}`, ...extra });
    const bytes = Buffer.from('artifact bytes');
    const put = (hash: string, token: string, headers: Record<string, string> = {}, q?: string) =>
      fetch(url(`/${hash}`, q), { method: 'PUT', headers: as(token, { 'content-type': 'application/octet-stream', ...headers }), body: bytes });

    expect((await put('abc123', member, { 'x-artifact-duration': '42' })).status).toBe(202);
    const got = await fetch(url('/abc123'), { headers: as(reader) });
    expect(got.status).toBe(200);
    expect(Buffer.from(await got.arrayBuffer())).toEqual(bytes);
    expect(got.headers.get('x-artifact-duration')).toBe('42');
    // The upload is an entry of the org's log (issue #19), naming the token that made it.
    const log = (await (await fetch(`${server.url}/api/v1/orgs/default/log/entries`, { headers: as(reader) })).json()) as { items: { entry: string }[] };
    const logged = log.items.map((i) => JSON.parse(i.entry) as Record<string, unknown>).filter((e) => e.type === 'turbo.artifact' && e.hash === 'abc123');
    expect(logged).toEqual([expect.objectContaining({ size: bytes.length, duration_ms: 42, team: 'default', uploaded_by: expect.stringMatching(/^token member \(/) })]);
    expect((await fetch(url('/abc123'), { method: 'HEAD', headers: as(reader) })).status).toBe(200);
    expect((await fetch(url('/nope'), { method: 'HEAD', headers: as(reader) })).status).toBe(404);
    const query = await fetch(url(''), { method: 'POST', headers: as(reader, { 'content-type': 'application/json' }), body: JSON.stringify({ hashes: ['abc123', 'nope'] }) });
    expect(await query.json()).toEqual({ abc123: { size: bytes.length, taskDurationMs: 42 }, nope: null });
    expect(await (await fetch(url('/status'), { headers: as(reader) })).json()).toEqual({ status: 'enabled' });
    expect(await (await fetch(url('/status', 'teamId=team_default'), { headers: as(reader) })).json()).toEqual({ status: 'enabled' });

    // A signed upload keeps its tag (turbo checks it; the server has no key) and serves it back.
    const TAG = 'EBSgi/WG3rGOUtMIj9wfjJXC9USaEiseTe8Imxu8Cbg=';
    expect((await put('def456', member, { 'x-artifact-tag': TAG })).status).toBe(202);
    const signedGot = await fetch(url('/def456'), { headers: as(reader) });
    expect(signedGot.headers.get('x-artifact-tag')).toBe(TAG);
    expect(Buffer.from(await signedGot.arrayBuffer())).toEqual(bytes);
    expect(got.headers.get('x-artifact-tag')).toBeNull();
    const badTag = await put('def457', member, { 'x-artifact-tag': 'not base64!' });
    expect(badTag.status).toBe(400);
    expect((await fetch(url('/def457'), { method: 'HEAD', headers: as(reader) })).status).toBe(404);

    expect((await put('ghi789', reader)).status).toBe(403);
    expect((await put('ghi789', member, {}, 'slug=other-org')).status).toBe(403);
    expect((await fetch(url('/abc123', 'teamId=team_other'), { headers: as(member) })).status).toBe(403);
    expect((await fetch(url('/abc123'))).status).toBe(401);
    expect((await put('bad%2Fhash', member)).status).toBe(400);
    expect((await put('x'.repeat(129), member)).status).toBe(414);
    expect((await put('abc124', member, { 'x-artifact-duration': '-1' })).status).toBe(400);
    const badEvents = await fetch(url('/events'), { method: 'POST', headers: as(reader, { 'content-type': 'application/json' }), body: JSON.stringify([{ sessionId: 's', source: 'CLOUD', event: 'HIT', hash: 'abc123' }]) });
    expect(badEvents.status).toBe(400);
    const events = await fetch(url('/events'), { method: 'POST', headers: as(reader, { 'content-type': 'application/json' }), body: JSON.stringify([{ sessionId: 's', source: 'REMOTE', event: 'HIT', hash: 'abc123', duration: 3 }]) });
    expect(events.status).toBe(200);
    // First writer wins: a second upload of the same hash does not replace the bytes.
    expect((await fetch(url('/abc123'), { method: 'PUT', headers: as(member, { 'content-type': 'application/octet-stream' }), body: Buffer.from('other') })).status).toBe(202);
    expect(Buffer.from(await (await fetch(url('/abc123'), { headers: as(reader) })).arrayBuffer())).toEqual(bytes);
  }, 60_000);
});
