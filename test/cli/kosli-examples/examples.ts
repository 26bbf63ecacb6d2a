// Kosli's documented examples (the `Example` strings of kosli-dev/cli cmd/kosli/*.go at 71ac0f30, its
// playground tutorial and cyber-dojo's live-snyk-scans script), one fixture each, in Kosli's words with the
// placeholders filled (yourFlowName → $FLOW, yourFingerprint → $FP...). The replay (../kosli-examples.test.ts)
// runs each with `kosli` on PATH being Evident's CLI, in order, against one server. Shell variables are set
// by the replay: FLOW, TRAIL, FP (the fingerprint of app.tgz), SHA (a commit with recorded pull requests),
// ENV, PROD_TOKEN (= the API token), KUBECONFIG_FILE; `${VAR}` in an `env` value is one of them. KOSLI_HOST is
// set as Kosli's docs do; `USE_KOSLI_VARS` also sets KOSLI_ORG and KOSLI_API_TOKEN, `NO_EVIDENT_VARS` sets
// no variable at all (the config file says everything).

export interface KosliExample {
  /** The command `kosli …` in Kosli's documented form (bash). */
  command: string;
  /** Exit status (default 0). */
  code?: number;
  /** What stdout must show (the same meaning as in Kosli). */
  stdout?: RegExp;
  /** Extra environment (the CI or Kosli variables the example relies on). */
  env?: Record<string, string>;
  /** A convention of the report's section 2 (global flags, variables, dry run, CI defaults…), not an `Example` string. */
  convention?: true;
  /**
   * Still different from Kosli (the reason, as in docs/kosli.md "Differences that remain"): the replay asserts that
   * Evident refuses it clearly (non-zero exit, one `error:`/`Error:` line on stderr) rather than doing something else.
   */
  differs?: string;
}

const AUTH = '--api-token "$PROD_TOKEN" --org default';

export const EXAMPLES: Record<string, KosliExample> = {
  // create flow / begin trail: create or update
  'create flow --use-empty-template': { command: `kosli create flow $FLOW --description yourFlowDescription --use-empty-template ${AUTH}` },
  'create flow --template-file': { command: `kosli create flow $FLOW --description yourFlowDescription --template-file template.yml ${AUTH}` },
  'create flow again (create or update)': { command: `kosli create flow $FLOW --description yourFlowDescription --template-file template.yml ${AUTH}` },
  'create flow --visibility (deprecated)': { command: `kosli create flow $FLOW --description yourFlowDescription --visibility=public ${AUTH}` },
  'begin trail': { command: `kosli begin trail $TRAIL --flow $FLOW --description yourTrailDescription --template-file template.yml --user-data user-data.json ${AUTH}` },
  'begin trail again (begin or update)': { command: `kosli begin trail $TRAIL --flow $FLOW --description yourTrailDescription --template-file template.yml --user-data user-data.json ${AUTH}` },

  // attest artifact
  'attest artifact FILE': { command: `kosli attest artifact app.tgz --artifact-type file --build-url https://exampleci.com --commit-url https://github.com/YourOrg/YourProject/commit/$SHA --commit $SHA --flow $FLOW --trail $TRAIL --name backend ${AUTH}` },
  'attest artifact NAME --fingerprint': { command: `kosli attest artifact ANOTHER_FILE.txt --fingerprint $FP --build-url https://exampleci.com --commit-url https://github.com/YourOrg/YourProject/commit/$SHA --commit $SHA --flow $FLOW --trail $TRAIL --name backend ${AUTH}` },
  'attest artifact --external-url': { command: `kosli attest artifact ANOTHER_FILE.txt --fingerprint $FP --build-url https://exampleci.com --commit-url https://github.com/YourOrg/YourProject/commit/$SHA --commit $SHA --flow $FLOW --trail $TRAIL --name backend --external-url file=https://example.com/file --external-fingerprint file=$FP ${AUTH}` },
  'attest artifact, short flags': { command: `kosli attest artifact app.tgz -t file -n backend -f $FLOW -T $TRAIL -g $SHA -b https://ci -u https://x/commit/$SHA ${AUTH}`, convention: true },

  // attest generic
  'attest generic IMAGE --artifact-type docker': { command: `kosli attest generic nginx:1.25.3 --artifact-type docker --name generic-check --flow $FLOW --trail $TRAIL ${AUTH}` },
  'attest generic --fingerprint': { command: `kosli attest generic --fingerprint $FP --name backend.generic --flow $FLOW --trail $TRAIL ${AUTH}` },
  'attest generic about the trail': { command: `kosli attest generic --name jira-ticket --flow $FLOW --trail $TRAIL ${AUTH}` },
  'attest generic ARTIFACT.NAME --commit': { command: `kosli attest generic --name backend.lint --commit $SHA --flow $FLOW --trail $TRAIL ${AUTH}` },
  'attest generic --attachments': { command: `kosli attest generic --name bar --flow $FLOW --trail $TRAIL --attachments evidence.txt ${AUTH}` },
  'attest generic --compliant=false': { command: `kosli attest generic --name bar --flow $FLOW --trail $TRAIL --compliant=false ${AUTH}` },
  'attest generic bare --compliant': { command: `kosli attest generic --name bar --flow $FLOW --trail $TRAIL --compliant ${AUTH}`, convention: true },
  'attest generic -C=true': { command: `kosli attest generic --name bar --flow $FLOW --trail $TRAIL -C=true ${AUTH}` },
  'attest generic --attachments a,b': { command: `kosli attest generic --name bar --flow $FLOW --trail $TRAIL --attachments evidence.txt,user-data.json ${AUTH}`, convention: true },

  // attest junit
  'attest junit IMAGE --artifact-type docker': { command: `kosli attest junit nginx:1.25.3 --artifact-type docker --name backend.unit-tests --flow $FLOW --trail $TRAIL --results-dir junit ${AUTH}` },
  'attest junit --fingerprint': { command: `kosli attest junit --fingerprint $FP --name backend.unit-tests --flow $FLOW --trail $TRAIL --results-dir junit ${AUTH}` },
  'attest junit about the trail': { command: `kosli attest junit --name junit-trail --flow $FLOW --trail $TRAIL --results-dir junit ${AUTH}` },
  'attest junit ARTIFACT.NAME --commit': { command: `kosli attest junit --name backend.unit-tests --commit $SHA --flow $FLOW --trail $TRAIL --results-dir junit ${AUTH}` },
  'attest junit --attachments': { command: `kosli attest junit --name junit-trail --flow $FLOW --trail $TRAIL --results-dir junit --attachments evidence.txt ${AUTH}` },
  'attest junit -R': { command: `kosli attest junit --name backend.unit-tests -g $SHA -f $FLOW -T $TRAIL -R junit ${AUTH}` },

  // attest snyk
  'attest snyk FILE': { command: `kosli attest snyk app.tgz --artifact-type file --name backend.snyk --flow $FLOW --trail $TRAIL --scan-results snyk.sarif ${AUTH}` },
  'attest snyk --fingerprint': { command: `kosli attest snyk --fingerprint $FP --name backend.snyk --flow $FLOW --trail $TRAIL --scan-results snyk.sarif ${AUTH}` },
  'attest snyk NAME --fingerprint': { command: `kosli attest snyk registry/app:1.0 --fingerprint $FP --name backend.snyk-container-scan --attachments evidence.txt --scan-results snyk.sarif --flow $FLOW --trail $TRAIL ${AUTH}` },
  'attest snyk about the trail': { command: `kosli attest snyk --name snyk-trail --flow $FLOW --trail $TRAIL --scan-results snyk.sarif ${AUTH}` },
  'attest snyk ARTIFACT.NAME --commit': { command: `kosli attest snyk --name backend.snyk --commit $SHA --flow $FLOW --trail $TRAIL --scan-results snyk.sarif ${AUTH}` },

  // custom attestation types
  'create attestation-type NAME (no schema)': { command: `kosli create attestation-type person-min ${AUTH}` },
  'create attestation-type --schema --jq': { command: `kosli create attestation-type person-type --description "Attest a person" --schema schema.json --jq '.age > 21' --jq '.age < 65' ${AUTH}` },
  'attest custom --fingerprint': { command: `kosli attest custom --type person-type --fingerprint $FP --name backend.person --attestation-data person.json --flow $FLOW --trail $TRAIL ${AUTH}` },
  'attest custom about the trail': { command: `kosli attest custom --type person-type --name person --attestation-data person.json --flow $FLOW --trail $TRAIL ${AUTH}` },
  'attest custom ARTIFACT.NAME --commit': { command: `kosli attest custom --type person-type --name backend.person --attestation-data person.json --commit $SHA --flow $FLOW --trail $TRAIL ${AUTH}` },
  'attest custom --attachments': { command: `kosli attest custom --type person-type --name person --attestation-data person.json --attachments evidence.txt --flow $FLOW --trail $TRAIL ${AUTH}` },

  // pull requests (GitHub and GitLab answered on loopback with recorded responses)
  'attest pullrequest github IMAGE --artifact-type docker': { command: `kosli attest pullrequest github nginx:1.25.3 --artifact-type docker --name pr --github-token ghp_test --github-org cyber-dojo --commit $SHA --repository runner --flow $FLOW --trail $TRAIL ${AUTH}` },
  'attest pullrequest github --fingerprint': { command: `kosli attest pullrequest github --fingerprint $FP --name backend.pr --github-token ghp_test --github-org cyber-dojo --commit $SHA --repository runner --flow $FLOW --trail $TRAIL ${AUTH}` },
  'attest pullrequest github about the trail': { command: `kosli attest pullrequest github --name pr --github-token ghp_test --github-org cyber-dojo --commit $SHA --repository runner --flow $FLOW --trail $TRAIL ${AUTH}` },
  'attest pullrequest github ARTIFACT.NAME': { command: `kosli attest pullrequest github --name backend.pr --github-token ghp_test --github-org cyber-dojo --commit $SHA --repository runner --flow $FLOW --trail $TRAIL ${AUTH}` },
  'attest pullrequest github --attachments=': { command: `kosli attest pullrequest github --name pr --github-token ghp_test --github-org cyber-dojo --commit $SHA --repository runner --flow $FLOW --trail $TRAIL --attachments=evidence.txt ${AUTH}` },
  'attest pullrequest github --assert': { command: `kosli attest pullrequest github --name pr --github-token ghp_test --github-org cyber-dojo --commit $SHA --repository runner --flow $FLOW --trail $TRAIL --assert ${AUTH}` },
  'attest pullrequest github --repository OWNER/REPO (GITHUB_REPOSITORY)': { command: `kosli attest pullrequest github --name pr --github-token ghp_test --github-org cyber-dojo --commit $SHA --repository cyber-dojo/runner --flow $FLOW --trail $TRAIL ${AUTH}` },
  'attest pullrequest gitlab': { command: `kosli attest pullrequest gitlab --name mr --gitlab-token glpat-test --gitlab-org cyber-dojo --commit $SHA --repository runner --flow $FLOW --trail $TRAIL ${AUTH}` },

  // environments and policies
  'create environment --type K8S': { command: `kosli create environment $ENV --type K8S --description "my new env" ${AUTH}` },
  'create environment again (create or update)': { command: `kosli create environment $ENV --type K8S --description "my new env" ${AUTH}` },
  'create environment --type server': { command: `kosli create environment server-env --type server --description "my server" ${AUTH}` },
  'create environment --type logical': { command: `kosli create environment logical-env --type logical --included-environments $ENV,server-env --description "my logical env" ${AUTH}` },
  'create policy --type env': { command: `kosli create policy prod-policy prod-policy.yml --description yourPolicyDescription --type env ${AUTH}` },
  'create policy --comment': { command: `kosli create policy prod-policy prod-policy.yml --description yourPolicyDescription --type env --comment yourChangeComment ${AUTH}` },
  'attach-policy --environment A --environment B': { command: `kosli attach-policy prod-policy --environment $ENV --environment server-env ${AUTH}`, stdout: /attached: k8s-env[\s\S]*attached: server-env/ },
  'detach-policy --environment A --environment B': { command: `kosli detach-policy prod-policy --environment $ENV --environment server-env ${AUTH}`, stdout: /detached: k8s-env[\s\S]*detached: server-env/ },

  // snapshots (Kubernetes and Docker answered on loopback)
  'snapshot k8s': { command: `kosli snapshot k8s $ENV --kubeconfig $KUBECONFIG_FILE ${AUTH}` },
  'snapshot k8s --exclude-namespaces': { command: `kosli snapshot k8s $ENV --kubeconfig $KUBECONFIG_FILE --exclude-namespaces kube-system,utilities ${AUTH}` },
  'snapshot k8s --namespaces': { command: `kosli snapshot k8s $ENV --kubeconfig $KUBECONFIG_FILE --namespaces prod ${AUTH}` },
  'snapshot k8s with KOSLI_ variables': { command: 'kosli snapshot k8s $ENV --kubeconfig $KUBECONFIG_FILE', env: { USE_KOSLI_VARS: '1' } },
  'create environment --type docker': { command: `kosli create environment docker-env --type docker --description "Production docker host" ${AUTH}` },
  'snapshot docker': { command: `kosli snapshot docker docker-env ${AUTH}` },
  'snapshot docker --auto-environment': { command: `kosli snapshot docker new-docker-env --auto-environment --environment-description "Production docker host" ${AUTH}` },
  'snapshot server --paths glob': { command: `kosli snapshot server glob-env --paths "mydir/*" --auto-environment ${AUTH}` },
  'snapshot server --paths a,b': { command: `kosli snapshot server server-env --paths app.tgz,mydir ${AUTH}` },
  'snapshot server --paths --exclude': { command: `kosli snapshot server server-env --paths mydir --exclude logs,"*/logs" ${AUTH}` },
  'snapshot path --path --name': { command: `kosli snapshot path server-env --path app.tgz --name backend ${AUTH}` },
  'snapshot path --exclude': { command: `kosli snapshot path server-env --path mydir --name mydir --exclude logs,"*.tmp" ${AUTH}` },
  'snapshot paths --paths-file': { command: `kosli snapshot paths server-env --paths-file paths.yml ${AUTH}` },

  // reading
  'get artifact FLOW@FINGERPRINT': { command: `kosli get artifact $FLOW@$FP ${AUTH}`, stdout: /Fingerprint: +[0-9a-f]{64}/ },
  'get artifact FLOW@FINGERPRINT --trail': { command: `kosli get artifact $FLOW@$FP --trail $TRAIL ${AUTH}` },
  'get artifact FLOW:COMMIT': { command: `kosli get artifact $FLOW:$SHA ${AUTH}` },
  'get artifact FLOW:COMMIT --trail': { command: `kosli get artifact $FLOW:$SHA --trail $TRAIL ${AUTH}` },
  'get snapshot ENV': { command: `kosli get snapshot $ENV ${AUTH}` },
  'get snapshot ENV~1': { command: `kosli get snapshot $ENV~1 ${AUTH}` },
  'get snapshot ENV#1': { command: `kosli get snapshot $ENV#1 ${AUTH}` },
  'get attestation NAME --flow --trail': { command: `kosli get attestation jira-ticket --flow $FLOW --trail $TRAIL ${AUTH}` },
  'list flows': { command: `kosli list flows ${AUTH}`, stdout: /kosli-examples/ },
  'list flows --page-limit': { command: `kosli list flows --page-limit 30 ${AUTH}` },
  'list flows --page-limit --page': { command: `kosli list flows --page-limit 30 --page 2 ${AUTH}` },
  'list flows --name --output json': { command: `kosli list flows --name kosli --output json ${AUTH} | jq -e '.[0].name == "kosli-examples"'` },
  'list environments': { command: `kosli list environments ${AUTH}` },
  'list environments --page --page-limit': { command: `kosli list environments --page 2 --page-limit 25 ${AUTH}` },
  'list environments --name --output json': { command: `kosli list environments --name k8s --output json ${AUTH} | jq -e '.[0].type == "K8S"'` },
  'list trails': { command: `kosli list trails --flow $FLOW ${AUTH}` },
  'list trails --page-limit': { command: `kosli list trails --flow $FLOW --page-limit 30 ${AUTH}` },
  'list trails --page-limit --page': { command: `kosli list trails --flow $FLOW --page-limit 30 --page 2 ${AUTH}` },
  'list trails --output json': { command: `kosli list trails --flow $FLOW --output json ${AUTH} | jq -e '.data[0].name and .pagination'` },
  'list artifacts': { command: `kosli list artifacts --flow $FLOW ${AUTH}` },
  'list artifacts --page-limit': { command: `kosli list artifacts --flow $FLOW --page-limit 30 ${AUTH}` },
  'list artifacts --page-limit --output json': { command: `kosli list artifacts --flow $FLOW --page-limit 30 --output json ${AUTH} | jq -e '.[0].fingerprint'` },
  'list snapshots': { command: `kosli list snapshots $ENV ${AUTH}` },
  'list snapshots --page-limit': { command: `kosli list snapshots $ENV --page-limit 30 ${AUTH}` },
  'list snapshots --page-limit --output json': { command: `kosli list snapshots $ENV --page-limit 30 --output json ${AUTH} | jq -e '.[0] | .index and .from'` },
  'log environment': { command: `kosli log environment $ENV ${AUTH}` },
  'log environment --page-limit': { command: `kosli log environment $ENV --page-limit 30 ${AUTH}` },
  'log environment --page-limit --output json': { command: `kosli log environment $ENV --page-limit 30 --output json ${AUTH} | jq -e '.[0].snapshot_index'` },
  'diff snapshots ENV~1 ENV': { command: `kosli diff snapshots $ENV~1 $ENV ${AUTH}` },
  'diff snapshots ENV1 ENV2': { command: `kosli diff snapshots $ENV server-env ${AUTH}` },
  'diff snapshots --show-unchanged': { command: `kosli diff snapshots $ENV server-env --show-unchanged ${AUTH}` },
  'search GIT_COMMIT': { command: `kosli search $SHA ${AUTH}` },
  'search FINGERPRINT': { command: `kosli search $FP ${AUTH} --output json | jq -e '.resolved_to.type == "fingerprint"'` },
  'assert snapshot (no policy attached then)': { command: `kosli assert snapshot $ENV#1 ${AUTH}` },
  'assert artifact --fingerprint --flow': { command: `kosli assert artifact --fingerprint $FP --flow $FLOW ${AUTH}`, code: 1 },
  'allow artifact NAME --fingerprint': { command: `kosli allow artifact backend --fingerprint $FP --environment $ENV --reason "vendor image" ${AUTH}` },
  'allow artifact IMAGE --artifact-type docker': { command: `kosli allow artifact nginx:1.25.3 --artifact-type docker --environment $ENV --reason "vendor image" ${AUTH}` },
  'fingerprint file': { command: 'kosli fingerprint --artifact-type file app.tgz', stdout: /^[0-9a-f]{64}\n$/ },
  'fingerprint dir': { command: 'kosli fingerprint --artifact-type dir mydir', stdout: /^[0-9a-f]{64}\n$/ },
  'fingerprint dir --exclude': { command: 'kosli fingerprint --artifact-type dir --exclude logs --exclude "*.exe" mydir', stdout: /^[0-9a-f]{64}\n$/ },
  'fingerprint docker': { command: 'kosli fingerprint --artifact-type docker nginx:1.25.3', stdout: /^[0-9a-f]{64}\n$/ },
  'expect deployment (legacy Kosli form)': { command: `kosli expect deployment --fingerprint $FP --flow $FLOW --environment $ENV --build-url https://exampleci.com ${AUTH}` },
  'tag flow': { command: `kosli tag flow $FLOW --set key1=value1 --set key2=value2 ${AUTH}` },
  'archive environment': { command: `kosli archive environment logical-env ${AUTH}` },

  // conventions every pipeline relies on
  'KOSLI_* variables: flow, trail, fingerprint (tutorial)': { command: 'kosli attest junit --name=backend.unit-test --results-dir=junit', env: { USE_KOSLI_VARS: '1', KOSLI_FLOW: 'kosli-examples', KOSLI_TRAIL: 'trail-1', KOSLI_FINGERPRINT: '${FP}' }, convention: true },
  'KOSLI_DRY_RUN=true writes nothing': { command: 'kosli create flow dry-flow && ! KOSLI_DRY_RUN= kosli get flow dry-flow', env: { USE_KOSLI_VARS: '1', KOSLI_DRY_RUN: 'true' }, convention: true },
  '-D': { command: `kosli create flow dry-flow -D ${AUTH}`, convention: true },
  '--api-token DRY_RUN': { command: 'kosli create flow dry-flow --api-token DRY_RUN --org default', convention: true },
  'errors under dry-run exit 0': { command: 'kosli begin trail t --flow nope --user-data missing.json --dry-run', convention: true },
  '--config-file in Kosli format': { command: 'kosli list flows --config-file kosli.yml', env: { NO_EVIDENT_VARS: '1' }, convention: true },
  '-c': { command: 'kosli list flows -c kosli.yml', env: { NO_EVIDENT_VARS: '1' } },
  '--max-api-retries': { command: `kosli list flows --max-api-retries 3 ${AUTH}`, convention: true },
  '-o json': { command: `kosli get flow $FLOW -o json ${AUTH} | jq -e '.name == "kosli-examples"'`, convention: true },
  'cyber-dojo live-snyk-scans: .artifacts[].flows[].flow_name': { command: `kosli get snapshot server-env --output=json ${AUTH} | jq -e '[.artifacts[].flows[].flow_name] | index("kosli-examples") != null'`, convention: true },

  // not yet run before (report section 1 rows the replay did not have)
  'attest snyk --upload-results=false': { command: `kosli attest snyk --name snyk-no-upload --flow $FLOW --trail $TRAIL --scan-results snyk.sarif --upload-results=false ${AUTH}`, differs: 'the server judges the results it parses' },
  'create attestation-type --summary': {
    command: `kosli create attestation-type scan-summary --schema scan-schema.json --summary "Critical=.critical_count" --summary "Tool=.scanner.name" ${AUTH} && kosli attest custom --type scan-summary --name scan --attestation-data scan.json --flow $FLOW --trail $TRAIL ${AUTH}`,
    stdout: /summary: Critical = \.critical_count\nsummary: Tool = \.scanner\.name[\s\S]*Critical: 3\n\s*Tool: snyk/,
  },
  'create attestation-type --summary-json': {
    command: `kosli create attestation-type scan-summary-json --schema scan-schema.json --summary-json '[{"name":"Critical","expression":".critical_count"},{"name":"Tool","expression":".scanner.name"}]' ${AUTH}`,
    stdout: /summary: Critical = \.critical_count\nsummary: Tool = \.scanner\.name/,
  },
  'attest pullrequest bitbucket': { stdout: /1 pull request\(s\) found/, command: `kosli attest pullrequest bitbucket --name bb-pr --bitbucket-access-token bbtoken --bitbucket-workspace cyber-dojo --repository runner --commit $SHA --flow $FLOW --trail $TRAIL ${AUTH}` },
  'attest pullrequest azure': { stdout: /1 pull request\(s\) found/, command: `kosli attest pullrequest azure --name az-pr --azure-token aztoken --azure-org-url "$AZURE_ORG_URL" --project cyber-dojo --repository runner --commit $SHA --flow $FLOW --trail $TRAIL ${AUTH}` },
  'begin trail --external-url': {
    command: `kosli begin trail trail-ext --flow $FLOW --external-url jira=https://jira.example.com/PROJ-1 ${AUTH} && kosli get trail trail-ext --flow $FLOW -o json ${AUTH} | jq -e '.external_urls.jira == "https://jira.example.com/PROJ-1"'`,
  },
  'begin trail --external-fingerprint': {
    command: `kosli begin trail trail-ext-fp --flow $FLOW --external-url app=https://example.com/app.tgz --external-fingerprint app=$FP ${AUTH} && kosli get trail trail-ext-fp --flow $FLOW -o json ${AUTH} | jq -e --arg fp $FP '.external_urls.app == "https://example.com/app.tgz" and .external_fingerprints.app == $fp'`,
  },
  // Kosli's rule: a fingerprint needs a link of its label; refused, and no trail begun.
  'begin trail --external-fingerprint without its --external-url': {
    command: `kosli begin trail trail-ext-nolink --flow $FLOW --external-fingerprint app=$FP ${AUTH}; test $? -eq 1 && ! kosli get trail trail-ext-nolink --flow $FLOW ${AUTH}`,
  },
  'create environment --type azure-apps': { command: `kosli create environment azure-env --type azure-apps --description "azure apps" ${AUTH}`, stdout: /Environment azure-env \(azure-apps\) recorded/ },
  'get snapshot ENV@{ISO time}': { command: `kosli get snapshot "$ENV@{2023-02-14T12:00:00}" ${AUTH}`, code: 1 },
  'get snapshot ENV@{3.weeks.ago}': { command: `kosli get snapshot "$ENV@{3.weeks.ago}" ${AUTH}`, code: 1 },
  'get attestation NAME --flow --fingerprint': { command: `kosli get attestation unit-tests --flow $FLOW --fingerprint $FP ${AUTH}`, stdout: /unit-tests/ },
  'get attestation --attestation-id': { command: `ID=$(kosli get attestation jira-ticket --flow $FLOW --trail $TRAIL -o json ${AUTH} | jq -r 'if type == "array" then .[0].attestation_id else .attestation_id end') && kosli get attestation --attestation-id "$ID" ${AUTH}` },
  'get trail --output markdown': { command: `kosli get trail $TRAIL --flow $FLOW --output markdown ${AUTH}`, stdout: /^## .*Trail trail-1 of flow kosli-examples[\s\S]*\| --- \|/ },
  'list environments --type --tag': { command: `kosli list environments --type K8S --type ECS --tag team:platform ${AUTH}` },
  'list environments --sort': { command: `kosli list environments --sort last_changed_at --sort-direction desc -o json ${AUTH} | jq -e '[.[].last_changed_at | select(. != null)] as $t | ($t | length) > 0 and $t == ($t | sort | reverse)'` },
  'list trails --fingerprint (all flows)': { command: `kosli list trails --fingerprint $FP --output json ${AUTH} | jq -e '.data[0].name'` },
  'list trails --flow-tag': { command: `kosli list trails --flow-tag key1=value1 ${AUTH}`, stdout: /trail-1/ },
  'list artifacts --repo': { command: `kosli list artifacts --repo YourOrg/YourProject -o json ${AUTH} | jq -e 'length > 0 and all(.[]; .commit_url | test("/YourOrg/YourProject/(-/)?commits?/"))'` },
  'log environment --repo': { command: `kosli log environment $ENV --repo YourOrg/YourProject ${AUTH}` },
  'log environment --repo --repo': { command: `kosli log environment $ENV --repo YourOrg/YourProject --repo YourOrg/Other ${AUTH}` },
  'log environment --start 5': { command: `kosli log environment $ENV --start 5 ${AUTH}` },
  'log environment --start 1hour --end NOW': { command: `kosli log environment $ENV --start 1hour --end NOW ${AUTH}` },
  'log environment --start-ts --end-ts': { command: `kosli log environment $ENV --start-ts 1700000000 --end-ts 4102444800 ${AUTH}`, stdout: /#1/ },
  'diff snapshots ENV@{2.weeks.ago} ENV': { command: `kosli diff snapshots "$ENV@{2.weeks.ago}" $ENV ${AUTH}`, code: 1 },
  'assert artifact --fingerprint --environment': { command: `kosli assert artifact --fingerprint $FP --environment server-env ${AUTH}` },
  'assert artifact --fingerprint --policy': { command: `kosli assert artifact --fingerprint $FP --policy prod-policy ${AUTH}`, code: 1 },
  'assert artifact IMAGE --artifact-type docker': { command: `kosli assert artifact nginx:1.25.3 --artifact-type docker ${AUTH}`, code: 1 },
  'fingerprint dir --exclude **/*.pyc': { command: 'kosli fingerprint --artifact-type dir --exclude "**/*.pyc" mydir', stdout: /^[0-9a-f]{64}\n$/ },
  'fingerprint dir with .kosli_ignore': { command: 'kosli fingerprint --artifact-type dir ignoring', stdout: /^[0-9a-f]{64}\n$/ },
  'tag env --set': { command: `kosli tag env server-env --set key1=value1 --set key2=value2 ${AUTH}`, stdout: /Tag\(s\) \[key1, key2\] added for env 'server-env'/ },
  'tag env --set (update)': { command: `kosli tag env server-env --set key1=value3 ${AUTH}`, stdout: /Tags: key1=value3, key2=value2 \(log entry/ },
  'tag env --unset': { command: `kosli tag env server-env --unset key1=value1 ${AUTH} && kosli get environment server-env -o json ${AUTH} | jq -e '.tags == {"key2": "value2"}'` },
  'tag control': { command: `kosli tag control ctrl-1 --set key1=value1 ${AUTH}`, stdout: /Tag\(s\) \[key1\] added for control 'ctrl-1'/ },
  'tag repo --set': { command: `kosli tag repo YourOrg/YourProject --set key1=value1 ${AUTH}`, stdout: /Tags: key1=value1 / },
  'tag repo --set (2)': { command: `kosli tag repo YourOrg/YourProject --set team=backend --set tier=1 ${AUTH}` },
  'tag repo --unset': { command: `kosli tag repo YourOrg/YourProject --unset team ${AUTH}`, stdout: /Tags: key1=value1, tier=1 \(log entry/ },
  // Kosli's `tag repo` examples with --provider and --repo-id: in Evident a repository's id is its OWNER/REPO, and the
  // provider names the same subject (docs/kosli.md).
  'tag repo --provider': { command: `kosli tag repo YourOrg/YourProject --provider github --set key3=value3 ${AUTH}`, stdout: /Tag\(s\) \[key3\] added for repo 'YourOrg\/YourProject'\nTags: key1=value1, key3=value3, tier=1 \(log entry/ },
  'tag repo --repo-id': { command: `kosli tag repo --repo-id YourOrg/YourProject --set key1=value1 ${AUTH}`, stdout: /Tags: key1=value1, key3=value3, tier=1 \(unchanged: nothing logged\)/ },
  'tag env --provider (refused, as in Kosli)': { command: `kosli tag env server-env --provider github --set key1=value1 ${AUTH}`, code: 1 },
  'archive flow': { command: `kosli create flow flow-to-archive ${AUTH} && kosli archive flow flow-to-archive ${AUTH}` },
  'archive attestation-type': {
    command: `kosli archive attestation-type person-min ${AUTH} && ! kosli attest custom --type person-min --name archived-type --attestation-data person.json --flow $FLOW --trail $TRAIL ${AUTH}`,
    stdout: /Attestation type person-min archived at /,
  },
  'rename flow': { command: `kosli rename flow $FLOW new-flow-name ${AUTH}`, differs: 'names are signed' },
  'join environment': { command: `kosli join environment --physical server-env --logical logical-env ${AUTH}`, differs: 'names are signed' },
  'report approval (removed from Kosli)': { command: `kosli report approval --fingerprint $FP --environment $ENV --approver me --flow $FLOW ${AUTH}`, differs: 'removed from Kosli' },
  'request approval (removed from Kosli)': { command: `kosli request approval --fingerprint $FP --environment $ENV --flow $FLOW ${AUTH}`, differs: 'removed from Kosli' },
  'report artifact (removed from Kosli)': { command: `kosli report artifact app.tgz --artifact-type file --git-commit $SHA --flow $FLOW ${AUTH}`, differs: 'removed from Kosli' },

  // AWS reporters (a fake AWS on loopback, reached through AWS_ENDPOINT_URL as a proxy would be)
  'create environment --type ECS': { command: `kosli create environment ecs-env --type ECS ${AUTH}` },
  'snapshot ecs --clusters': { command: `kosli snapshot ecs ecs-env --clusters prod ${AUTH}` },
  'snapshot ecs --clusters-regex --exclude-services': { command: `kosli snapshot ecs ecs-env --clusters-regex "pro.*" --exclude-services nope ${AUTH}` },
  'snapshot ecs --aws-key-id --aws-secret-key --aws-region': { command: `kosli snapshot ecs ecs-env --clusters prod --aws-key-id AKIAIOSFODNN7EXAMPLE --aws-secret-key s3cr3t --aws-region eu-central-1 ${AUTH}` },
  'create environment --type lambda': { command: `kosli create environment lambda-env --type lambda ${AUTH}` },
  'snapshot lambda': { command: `kosli snapshot lambda lambda-env ${AUTH}` },
  'snapshot lambda --function-names': { command: `kosli snapshot lambda lambda-env --function-names payments,my-function ${AUTH}` },
  'snapshot lambda --exclude --exclude-regex': { command: `kosli snapshot lambda lambda-env --exclude helloworld --exclude-regex "^my-.*" ${AUTH}` },
  'snapshot lambda --aws-key-id': { command: `kosli snapshot lambda lambda-env --function-names payments --aws-key-id AKIAIOSFODNN7EXAMPLE --aws-secret-key s3cr3t --aws-region eu-central-1 ${AUTH}` },
  'create environment --type S3': { command: `kosli create environment s3-env --type S3 ${AUTH}` },
  'snapshot s3 --bucket': { command: `kosli snapshot s3 s3-env --bucket web ${AUTH}` },
  'snapshot s3 --include': { command: `kosli snapshot s3 s3-env --bucket web --include site,config.json ${AUTH}` },
  'snapshot s3 --exclude-regex': { command: `kosli snapshot s3 s3-env --bucket web --exclude-regex "^site/css" ${AUTH}` },
  'snapshot s3 --aws-key-id': { command: `kosli snapshot s3 s3-env --bucket web --aws-key-id AKIAIOSFODNN7EXAMPLE --aws-secret-key s3cr3t --aws-region eu-central-1 ${AUTH}` },

  // the report's 25 conventions (section 2) not asserted above
  'global flags before and after the subcommand': { command: `kosli --api-token "$PROD_TOKEN" list flows --org default`, convention: true, stdout: /kosli-examples/ },
  'KOSLI_API_TOKEN, KOSLI_ORG, KOSLI_HOST': { command: 'kosli list flows', env: { USE_KOSLI_VARS: '1' }, convention: true, stdout: /kosli-examples/ },
  'Kosli playground tutorial': {
    command: 'kosli create flow "$KOSLI_FLOW" --description tutorial --use-empty-template && kosli begin trail "$KOSLI_TRAIL" --description=tutorial'
      + ' && kosli attest artifact nginx:1.25.3 --artifact-type=docker --name=alpha'
      + ' && KOSLI_FINGERPRINT=$(kosli fingerprint nginx:1.25.3 --artifact-type=docker) kosli attest junit --name=alpha.unit-test --results-dir=junit'
      + ' && kosli get trail "$KOSLI_TRAIL" -o json | jq -e \'.name == "tutorial-trail"\'',
    env: { USE_KOSLI_VARS: '1', KOSLI_FLOW: 'tutorial', KOSLI_TRAIL: 'tutorial-trail' }, convention: true,
  },
  '--dry-run': { command: 'kosli create flow dry-run-flow --dry-run && ! kosli get flow dry-run-flow 2>/dev/null', env: { USE_KOSLI_VARS: '1' }, convention: true },
  'KOSLI_DEBUG=true and --debug': { command: `KOSLI_DEBUG=true kosli list flows ${AUTH} && kosli list flows --debug ${AUTH}`, convention: true },
  '-r (retries)': { command: `kosli list flows -r 3 ${AUTH}`, convention: true },
  '~/.kosli.yml': { command: 'cp kosli.yml "$HOME/.kosli.yml" && kosli list flows', env: { NO_EVIDENT_VARS: '1' }, convention: true, stdout: /kosli-examples/ },
  '-q, -H, -a': { command: `kosli list flows -q -H "$KOSLI_HOST" -a "$PROD_TOKEN" --org default`, convention: true },
  '--http-proxy': { command: `kosli list flows --http-proxy "$PROXY_URL" ${AUTH}`, convention: true, stdout: /kosli-examples/ },
  'CI defaults: GitHub Actions': {
    command: `kosli attest artifact ci-gh.txt --artifact-type file --name backend --flow $FLOW --trail $TRAIL ${AUTH} && kosli get artifact $FLOW@$(kosli fingerprint -t file ci-gh.txt) -o json ${AUTH} | jq -e '(if type == "array" then .[0] else . end) | .build_url == "https://github.com/YourOrg/YourProject/actions/runs/42"'`,
    env: { GITHUB_RUN_NUMBER: '7', GITHUB_ACTIONS: 'true', GITHUB_SHA: '${SHA}', GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'YourOrg/YourProject', GITHUB_RUN_ID: '42' }, convention: true,
  },
  'CI defaults: GitLab CI': {
    command: `kosli attest artifact ci-gl.txt --artifact-type file --name backend --flow $FLOW --trail $TRAIL ${AUTH} && kosli get artifact $FLOW@$(kosli fingerprint -t file ci-gl.txt) -o json ${AUTH} | jq -e '(if type == "array" then .[0] else . end) | .build_url == "https://gitlab.com/YourOrg/YourProject/-/jobs/9"'`,
    env: { GITLAB_CI: 'true', CI_COMMIT_SHA: '${SHA}', CI_PROJECT_URL: 'https://gitlab.com/YourOrg/YourProject', CI_JOB_URL: 'https://gitlab.com/YourOrg/YourProject/-/jobs/9' }, convention: true,
  },
  'CI defaults: Bitbucket Pipelines': {
    command: `kosli attest artifact ci-bb.txt --artifact-type file --name backend --flow $FLOW --trail $TRAIL ${AUTH} && kosli get artifact $FLOW@$(kosli fingerprint -t file ci-bb.txt) -o json ${AUTH} | jq -e '(if type == "array" then .[0] else . end) | .build_url | test("bitbucket.org/YourOrg/YourProject/")'`,
    env: { BITBUCKET_BUILD_NUMBER: '5', BITBUCKET_COMMIT: '${SHA}', BITBUCKET_WORKSPACE: 'YourOrg', BITBUCKET_REPO_SLUG: 'YourProject' }, convention: true,
  },
  'list flows --output json is an array': { command: `kosli list flows --output json ${AUTH} | jq -e '[.[].name] | index("kosli-examples") != null'`, convention: true },
  // Kosli's API v2 subset (src/server/routes/kosli-v2.ts): the requests the binary sends, then read back with Evident's CLI.
  'the kosli binary against an Evident server (/api/v2, /ready)': {
    command: `node "$KOSLI_V2_REQUESTS" && kosli get trail trail-v2 --flow $FLOW-v2 -o json | jq -e '.external_fingerprints.app == .artifacts[0].fingerprint and .artifacts[0].git_commit == env.SHA and (.attestations | length) == 1'`
      + ` && kosli get flow $FLOW-v2 -o json | jq -e '.tags.team == "v2"'`,
    env: { USE_KOSLI_VARS: '1' },
    convention: true,
  },
  // `kosli` on PATH is Evident started under the name kosli: Kosli's 1 on every error (docs/kosli.md "Exit status").
  'exit status 1 on every error': {
    command: `kosli get flow no-such-flow ${AUTH}; test $? -eq 1 && { kosli list flows --no-such-flag ${AUTH}; test $? -eq 1; } && { kosli list flows --api-token wrong-token --org default; test $? -eq 1; }`
      + ` && { kosli list flows ${AUTH} --host http://127.0.0.1:1 --max-api-retries 0; test $? -eq 1; }`,
    convention: true,
  },
};
