import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, testApp, type TestApp } from '../helpers/app.js';

// Kosli's API v2 subset (src/server/routes/kosli-v2.ts): the requests the real `kosli` binary sends, as
// kosli-dev/cli builds them at 71ac0f30 (the real binary cannot be downloaded here). Request shapes from
// cmd/kosli/createFlow.go, beginTrail.go, attestArtifact.go, attestGeneric.go, status.go; forms from
// internal/requests/requests.go (Go's multipart.Writer: a `data_json` field of JSON, files as octet-stream).

const SHA = '16d9990ad23a40eecaf087abac2a58a2d2a4b3f4';
const FP = 'a'.repeat(64);
const KOSLI_HEADERS = { 'user-agent': 'Kosli/v2.11.0' };
const TEMPLATE = 'version: 1\ntrail:\n  attestations:\n  - name: jira-ticket\n    type: generic\n  artifacts:\n  - name: backend\n';

/**
 * Kosli's form as Go's multipart.Writer writes it (requests.go createMultipartRequestBody): the payload as the JSON
 * of a `data_json` field (CreateFormField: no content type), files by CreateFormFile (octet-stream).
 */
function goForm(data: unknown, files: Record<string, [string, string]> = {}): { payload: Buffer; headers: Record<string, string> } {
  const boundary = randomBytes(30).toString('hex');
  let body = `--${boundary}\r\nContent-Disposition: form-data; name="data_json"\r\n\r\n${JSON.stringify(data)}\r\n`;
  for (const [name, [filename, text]] of Object.entries(files)) {
    body += `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n${text}\r\n`;
  }
  body += `--${boundary}--\r\n`;
  return { payload: Buffer.from(body), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

describe("Kosli's API v2 (the subset the kosli binary's pipeline steps call)", () => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await testApp();
    token = t.adminToken;
  });
  afterAll(async () => t.close());

  const size = async () => t.log.size(await t.auth.org('acme'));
  const entryAt = async (index: number) => JSON.parse((await t.store.log.entriesAt((await t.auth.org('acme')).id, [index]))[0]!.entry) as Record<string, unknown>;
  const send = (method: 'PUT' | 'POST', url: string, form: ReturnType<typeof goForm>, auth = token) =>
    t.app.inject({ method, url, headers: { ...KOSLI_HEADERS, ...bearer(auth), ...form.headers }, payload: form.payload });
  const json = (method: 'PUT' | 'POST', url: string, body: unknown, auth = token) =>
    t.app.inject({ method, url, headers: { ...KOSLI_HEADERS, ...bearer(auth), 'content-type': 'application/json; charset=utf-8' }, payload: JSON.stringify(body) });

  it('GET /ready (kosli status) answers OK', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/ready', headers: KOSLI_HEADERS });
    expect([res.statusCode, res.body]).toEqual([200, 'OK']);
  });

  it('create flow --template-file: 201 with one flow.created entry, the same again 200 and no entry, a new description one flow.updated', async () => {
    const before = await size();
    const form = () => goForm({ name: 'backend', description: 'the backend', visibility: 'private' }, { template_file: ['template.yml', TEMPLATE] });
    const created = await send('PUT', '/api/v2/flows/acme/template_file', form());
    expect(created.statusCode, created.body).toBe(201);
    expect(await entryAt(before)).toMatchObject({ type: 'flow.created', flow: 'backend', description: 'the backend', template: TEMPLATE });
    const again = await send('PUT', '/api/v2/flows/acme/template_file', form());
    expect([again.statusCode, again.json().entry_index]).toEqual([200, null]);
    const updated = await send('PUT', '/api/v2/flows/acme/template_file', goForm({ name: 'backend', description: 'renamed' }, { template_file: ['template.yml', TEMPLATE] }));
    expect(updated.statusCode).toBe(200);
    expect(await entryAt(before + 1)).toMatchObject({ type: 'flow.updated', flow: 'backend', description: 'renamed' });
    // Kosli's legacy form: JSON, no template.
    const legacy = await json('PUT', '/api/v2/flows/acme', { name: 'legacy', description: '', visibility: 'private', template: ['artifact'] });
    expect(legacy.statusCode).toBe(201);
    expect(await size()).toBe(before + 3);
  });

  it("begin trail: Kosli's payload (commit info, user data, origin, external URLs with a fingerprint) in one trail.begun entry", async () => {
    const before = await size();
    const data = {
      name: 'trail-1', description: 'a run', user_data: { pr: 12 }, origin_url: 'https://ci.example.com/run/7',
      git_commit_info: { sha1: SHA, message: 'fix', author: 'Ada <ada@example.com>', timestamp: 1_700_000_000, branch: 'main', url: `https://github.com/acme/backend/commit/${SHA}` },
      repo_info: { id: '1', name: 'acme/backend', url: 'https://github.com/acme/backend', provider: 'github' },
      external_urls: { jira: { href: 'https://jira.example.com/P-1' }, sbom: { href: 'https://example.com/sbom.json', fingerprint: FP } },
    };
    const res = await send('PUT', '/api/v2/trails/acme/backend', goForm(data));
    expect(res.statusCode, res.body).toBe(201);
    expect(await entryAt(before)).toMatchObject({
      type: 'trail.begun', flow: 'backend', trail: 'trail-1', git_commit: SHA, commit_url: `https://github.com/acme/backend/commit/${SHA}`, origin_url: 'https://ci.example.com/run/7',
      user_data: { pr: 12 }, external_urls: { jira: 'https://jira.example.com/P-1', sbom: 'https://example.com/sbom.json' }, external_fingerprints: { sbom: FP },
    });
    const again = await send('PUT', '/api/v2/trails/acme/backend', goForm(data));
    expect(again.statusCode).toBe(200);
    expect(await size()).toBe(before + 1);
  });

  it('attest artifact and attest generic: each one log entry, shown by the v1 API', async () => {
    const before = await size();
    const artifact = await json('POST', '/api/v2/artifacts/acme/backend', {
      fingerprint: FP, filename: 'app.tgz', git_commit: SHA, git_commit_info: { sha1: SHA, timestamp: 1_700_000_000 }, build_url: 'https://ci.example.com/run/7',
      commit_url: `https://github.com/acme/backend/commit/${SHA}`, repo_url: 'https://github.com/acme/backend', template_reference_name: 'backend', trail_name: 'trail-1',
      external_urls: { scan: { href: 'https://example.com/scan', fingerprint: FP } },
    });
    expect(artifact.statusCode, artifact.body).toBe(200);
    expect(await entryAt(before)).toMatchObject({ type: 'artifact.reported', fingerprint: FP, git_commit: SHA, annotations: { 'external_url.scan': 'https://example.com/scan', 'external_fingerprint.scan': FP } });
    const generic = await send('POST', '/api/v2/attestations/acme/backend/trail/trail-1/generic', goForm({ attestation_name: 'jira-ticket', is_compliant: true, origin_url: 'https://ci.example.com/run/7', user_data: { ok: 1 } }));
    expect(generic.statusCode, generic.body).toBe(200);
    const onArtifact = await send('POST', '/api/v2/attestations/acme/backend/trail/trail-1/generic', goForm({ attestation_name: 'lint', artifact_fingerprint: FP, is_compliant: false }));
    expect(onArtifact.statusCode, onArtifact.body).toBe(200);
    expect(await size()).toBe(before + 3);
    const trail = (await t.app.inject({ method: 'GET', url: '/api/v1/orgs/acme/flows/backend/trails/trail-1', headers: bearer(token) })).json();
    expect(trail.external_fingerprints).toEqual({ sbom: FP });
    expect(trail.artifacts.map((a: { fingerprint: string }) => a.fingerprint)).toEqual([FP]);
    expect(trail.attestations.map((a: { name: string; compliant: boolean }) => [a.name, a.compliant])).toEqual(expect.arrayContaining([['jira-ticket', true], ['lint', false]]));
  });

  it('kosli tag flow|env|repo: one log entry per change; a repository resolved by name to its id (OWNER/REPO) first, as the binary does', async () => {
    await t.services.environments.create(await t.auth.org('acme'), { name: 'prod', type: 'k8s' });
    const before = await size();
    const patch = (url: string, body: unknown) => t.app.inject({ method: 'PATCH', url, headers: { ...KOSLI_HEADERS, ...bearer(token), 'content-type': 'application/json; charset=utf-8' }, payload: JSON.stringify(body) });
    const flow = await patch('/api/v2/tags/acme/flow/backend', { set_tags: { team: 'core', tier: '1' }, remove_tags: [] });
    expect([flow.statusCode, flow.json().tags]).toEqual([200, { team: 'core', tier: '1' }]);
    const env = await patch('/api/v2/tags/acme/env/prod', { set_tags: { key1: 'value1', key2: 'value2' }, remove_tags: [] });
    expect(env.json().tags).toEqual({ key1: 'value1', key2: 'value2' });
    // Kosli's documented `--unset key1=value1`.
    expect((await patch('/api/v2/tags/acme/environment/prod', { set_tags: {}, remove_tags: ['key1=value1'] })).json().tags).toEqual({ key2: 'value2' });
    const repo = await t.app.inject({ method: 'GET', url: '/api/v2/repos/acme/YourOrg/YourProject?provider=github', headers: { ...KOSLI_HEADERS, ...bearer(token) } });
    expect(repo.json()).toEqual({ id: 'YourOrg/YourProject', name: 'YourOrg/YourProject', provider: 'github', tags: {} });
    const tagged = await patch(`/api/v2/tags/acme/repo/${repo.json().id}`, { set_tags: { key1: 'value1' }, remove_tags: [] });
    expect([tagged.statusCode, tagged.json().tags]).toEqual([200, { key1: 'value1' }]);
    expect((await t.app.inject({ method: 'GET', url: '/api/v2/repos/acme/x?id=YourOrg/YourProject', headers: bearer(token) })).json().tags).toEqual({ key1: 'value1' });
    // The same change again appends nothing.
    expect((await patch('/api/v2/tags/acme/repos/YourOrg/YourProject', { set_tags: { key1: 'value1' } })).json().entry_index).toBeNull();
    expect(await size()).toBe(before + 4);
    const wrong = await patch('/api/v2/tags/acme/artifact/x', { set_tags: { a: 'b' } });
    expect([wrong.statusCode, wrong.json().message]).toEqual([400, expect.stringMatching(/^artifact is not a valid resource type/)]);
    expect((await t.app.inject({ method: 'GET', url: '/api/v2/repos/acme/not%20a%20repo', headers: bearer(token) })).statusCode).toBe(400);
  });

  it("refuses with Kosli's `message` (what its CLI prints) and records nothing", async () => {
    const before = await size();
    const cases = await Promise.all([
      send('POST', '/api/v2/attestations/acme/backend/trail/trail-1/generic', goForm({ attestation_name: 'x' })),
      send('POST', '/api/v2/attestations/acme/backend/trail/trail-1/generic', goForm({ attestation_name: 'x', is_compliant: true }, { attachment_file: ['evidence.tgz', 'zip'] })),
      send('PUT', '/api/v2/trails/acme/backend', goForm({ name: 't2', external_urls: { a: { href: 'not a url' } } })),
      send('PUT', '/api/v2/trails/acme/no-such-flow', goForm({ name: 't2' })),
      json('POST', '/api/v2/artifacts/acme/backend', { fingerprint: 'short', template_reference_name: 'backend', trail_name: 'trail-1' }),
      send('PUT', '/api/v2/trails/acme/backend', goForm({ name: 't3' }), 'evd_not_a_token'),
      send('PUT', '/api/v2/trails/globex/backend', goForm({ name: 't3' })),
      t.app.inject({ method: 'PUT', url: '/api/v2/trails/acme/backend', headers: { ...bearer(token), 'content-type': 'multipart/form-data; boundary=x' }, payload: '--x\r\nContent-Disposition: form-data; name="data_json"\r\n\r\n{not json\r\n--x--\r\n' }),
      // Larger than a part may be (256 KiB): refused as too large, never parsed cut short.
      send('PUT', '/api/v2/trails/acme/backend', goForm({ name: 't4', user_data: { big: 'x'.repeat(300 * 1024) } })),
      send('PUT', '/api/v2/flows/acme/template_file', goForm({ name: 'big' }, { template_file: ['template.yml', `version: 1\n# ${'x'.repeat(300 * 1024)}\n`] })),
    ]);
    expect(cases.map((r) => r.statusCode)).toEqual([400, 400, 400, 404, 400, 401, 403, 400, 413, 413]);
    for (const r of cases) expect(typeof r.json().message, r.body).toBe('string');
    expect(cases[0]!.json().message).toMatch(/is_compliant must be true or false/);
    expect(cases[1]!.json().message).toMatch(/attachments are not taken on Kosli's API/);
    expect(cases[7]!.json().message).toMatch(/data_json is not JSON/);
    expect(await size()).toBe(before);
  });
});
