// The requests the real `kosli` binary sends for a pipeline's steps (kosli-dev/cli at 71ac0f30: status.go,
// createFlow.go, beginTrail.go, attestArtifact.go, attestGeneric.go; forms as internal/requests/requests.go writes
// them: the payload as the JSON of a `data_json` field, the template as `template_file`; tag.go's PATCH), sent to KOSLI_HOST with
// KOSLI_API_TOKEN and KOSLI_ORG as the binary would. The binary itself cannot be downloaded here. Exits 1 with the
// server's `message` (what the binary prints) on the first answer that is not 200/201.
const { KOSLI_HOST: host, KOSLI_API_TOKEN: token, KOSLI_ORG: org, FLOW: flow, SHA: sha } = process.env;
// An artifact of its own (the sha256 of "kosli-v2"), so that the other examples' artifact stays in one flow.
const fp = '7d57b75564f261db4756ee24f7a9ecc609897dab2b757fed3f465dba30759607';
const headers = { authorization: `Bearer ${token}`, 'user-agent': 'Kosli/v2.11.0' };
const form = (data, template) => {
  const f = new FormData();
  f.append('data_json', JSON.stringify(data));
  if (template) f.append('template_file', new Blob([template], { type: 'application/octet-stream' }), 'template.yml');
  return f;
};
const steps = [
  ['GET', '/ready'],
  ['PUT', `/api/v2/flows/${org}/template_file`, form({ name: `${flow}-v2`, description: 'by the kosli binary', visibility: 'private' }, 'version: 1\ntrail:\n  artifacts:\n  - name: backend\n')],
  ['PUT', `/api/v2/trails/${org}/${flow}-v2`, form({ name: 'trail-v2', git_commit_info: { sha1: sha, timestamp: 1700000000, branch: 'main' }, external_urls: { app: { href: 'https://example.com/app.tgz', fingerprint: fp } } })],
  ['POST', `/api/v2/artifacts/${org}/${flow}-v2`, JSON.stringify({ fingerprint: fp, filename: 'app.tgz', git_commit: sha, build_url: 'https://ci.example.com/1', commit_url: `https://github.com/YourOrg/YourProject/commit/${sha}`, template_reference_name: 'backend', trail_name: 'trail-v2' })],
  ['POST', `/api/v2/attestations/${org}/${flow}-v2/trail/trail-v2/generic`, form({ attestation_name: 'backend.checked', artifact_fingerprint: fp, is_compliant: true })],
  // tag.go: a repository's name is resolved to its id first (getRepo.go fetchRepoInnerID), then tagged by id.
  ['GET', `/api/v2/repos/${org}/YourOrg/OtherProject?provider=github`],
  ['PATCH', `/api/v2/tags/${org}/repo/YourOrg/OtherProject`, JSON.stringify({ set_tags: { team: 'v2' }, remove_tags: [] })],
  ['PATCH', `/api/v2/tags/${org}/flow/${flow}-v2`, JSON.stringify({ set_tags: { team: 'v2' }, remove_tags: [] })],
];
for (const [method, path, body] of steps) {
  const res = await fetch(host + path, { method, headers: typeof body === 'string' ? { ...headers, 'content-type': 'application/json; charset=utf-8' } : headers, body });
  const text = await res.text();
  if (res.status !== 200 && res.status !== 201) {
    console.error(`Error: ${method} ${path}: ${res.status} ${(() => { try { return JSON.parse(text).message; } catch { return text; } })()}`);
    process.exit(1);
  }
  console.log(`${method} ${path}: ${res.status}`);
}
